"""Reading the course: the catalog, a module, a memo as a printable page."""

from flask import Blueprint, abort, render_template

from lms.content import get_course
from lms.i18n import current_locale
from lms.permissions import signed_in

bp = Blueprint("learn", __name__, url_prefix="/modules")


@bp.get("")
@signed_in
def catalog() -> str:
    course = get_course()
    locale = current_locale()
    entries = [
        (module, module.text(locale), course.render(module, locale)) for module in course.modules
    ]
    return render_template("learn/catalog.html", entries=entries)


@bp.get("/<slug>")
@signed_in
def module(slug: str) -> str:
    course = get_course()
    found = course.module(slug)
    if found is None:
        abort(404)
    locale = current_locale()
    previous, following = course.neighbours(found)
    return render_template(
        "learn/module.html",
        module=found,
        text=found.text(locale),
        rendered=course.render(found, locale),
        previous=previous.text(locale) if previous else None,
        previous_module=previous,
        following=following.text(locale) if following else None,
        following_module=following,
        position=course.modules.index(found) + 1,
        total=len(course.modules),
    )


@bp.get("/<slug>/memos/<memo_id>")
@signed_in
def memo(slug: str, memo_id: str) -> str:
    course = get_course()
    found = course.module(slug)
    if found is None:
        abort(404)
    text = found.text(current_locale())
    found_memo = text.memo(memo_id)
    if found_memo is None:
        abort(404)
    return render_template(
        "learn/memo.html",
        module=found,
        text=text,
        memo=found_memo,
        rendered=course.render_memo(found, found_memo),
    )
