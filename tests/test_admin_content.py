"""The content versions page: each module's versions with their completion counts, what is on
disk now, and publishing from the page (checked first, audited, served at once)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from lms.content import get_course, load_course
from lms.extensions import db
from lms.models import AuditEvent, ContentVersion, CourseModule, ModuleCompletion, Role, User
from lms.services.publishing import publish_course, version_history
from tests.conftest import ROOT, csrf_token

SLUG = "star-index"
MODULE_FILE = Path("content/modules/03-star-index/index.en.md")
ADDED = "A sentence added to the module after it was published."


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """The app reads a copy of the course that a test may change."""
    shutil.copytree(ROOT / "content", tmp_path / "content")
    shutil.copytree(ROOT / "quizzes", tmp_path / "quizzes")
    return app_config | {
        "CONTENT_DIR": str(tmp_path / "content"),
        "QUIZ_DIR": str(tmp_path / "quizzes"),
    }


@pytest.fixture
def disk(tmp_path: Path) -> Path:
    """The folder holding the copy: ``content/`` and ``quizzes/``."""
    return tmp_path


@pytest.fixture
def admin(make: Any) -> User:
    return make.user("admin@example.test", roles=(Role.ADMIN,), locale="en")


def append(disk: Path, text: str, path: Path = MODULE_FILE) -> int:
    """Add a paragraph at the end of a file of the copy; the number of its line."""
    file = disk / path
    source = file.read_text(encoding="utf-8").rstrip("\n") + f"\n\n{text}\n"
    file.write_text(source, encoding="utf-8")
    return len(source.splitlines())


def versions(slug: str = SLUG) -> list[ContentVersion]:
    module = db.session.scalar(select(CourseModule).where(CourseModule.slug == slug))
    assert module is not None
    return list(
        db.session.scalars(
            select(ContentVersion)
            .where(ContentVersion.module_id == module.id)
            .order_by(ContentVersion.id)
        )
    )


def current(slug: str = SLUG) -> ContentVersion:
    db.session.expire_all()
    module = db.session.scalar(select(CourseModule).where(CourseModule.slug == slug))
    assert module is not None
    assert module.current_version is not None
    return module.current_version


def complete(person: User, slug: str = SLUG) -> ModuleCompletion:
    version = current(slug)
    row = ModuleCompletion(
        user_id=person.id, module_id=version.module_id, content_version_id=version.id, attempts=1
    )
    db.session.add(row)
    db.session.commit()
    return row


def publish(client: FlaskClient, **data: str) -> Any:
    token = {"csrf_token": csrf_token(client, "/admin/content")}
    return client.post("/admin/content/publish", data=token | data)


def publish_events() -> list[AuditEvent]:
    return list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == "content.publish"))
    )


def version_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ContentVersion)) or 0


def module_section(html: str, slug: str) -> str:
    """The part of the page about one module."""
    start = html.index(f'<section aria-labelledby="module-{slug}">')
    return html[start : html.index("</section>", start)]


def version_row(html: str, content_hash: str) -> str:
    """The table row of one version."""
    at = html.index(f"<code>{content_hash[:12]}</code>")
    return html[html.rindex("<tr>", 0, at) : html.index("</tr>", at)]


@contextmanager
def statements() -> Iterator[list[str]]:
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


# --- the page --------------------------------------------------------------------------------


def test_page_lists_the_versions_newest_first_with_their_completion_counts(
    client, auth, make, admin, disk, published
):
    first = current()
    early = [make.user(), make.user()]
    for person in early:
        complete(person)
    append(disk, ADDED)
    auth.login(admin.email)
    assert publish(client).status_code == 302
    second = current()
    complete(make.user())

    response = client.get("/admin/content")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # Every module, in the order of the course, titled in the reader's language.
    positions = [html.index(f'<h3 id="module-{m.slug}">') for m in get_course().modules]
    assert positions == sorted(positions)
    for module in get_course().modules:
        assert f'<h3 id="module-{module.slug}">{module.text("en").title}</h3>' in html
    section = module_section(html, SLUG)
    assert section.index(second.content_hash[:12]) < section.index(first.content_hash[:12])
    assert second.content_hash in section  # the full hash too
    newer, older = (
        version_row(section, second.content_hash),
        version_row(section, first.content_hash),
    )
    assert "current" in newer
    assert "<td>1</td>" in newer
    assert "not current" in older
    assert "<td>2</td>" in older
    untouched = module_section(html, "myths")
    assert "<td>0</td>" in version_row(untouched, current("myths").content_hash)


def test_page_titles_follow_the_readers_language(client, auth, make, published):
    person = make.user("admin.ru@example.test", roles=(Role.ADMIN,), locale="ru")
    auth.login(person.email)

    html = client.get("/admin/content").get_data(as_text=True)

    assert get_course().module(SLUG).text("ru").title in html  # type: ignore[union-attr]


def test_page_says_what_is_on_disk_now(client, auth, admin, disk):
    auth.login(admin.email)
    html = client.get("/admin/content").get_data(as_text=True)
    assert html.count("not published yet</span>") == len(get_course().modules)
    assert "Never published." in module_section(html, SLUG)
    assert f"{len(get_course().modules)} modules not published yet." in html

    publish_course(get_course())
    db.session.commit()
    html = client.get("/admin/content").get_data(as_text=True)
    assert html.count("unchanged</span>") == len(get_course().modules)
    assert "On disk now: every module is the same as its current version." in html

    append(disk, ADDED)
    html = client.get("/admin/content").get_data(as_text=True)
    assert "changed since publishing" in module_section(html, SLUG)
    assert "unchanged</span>" in module_section(html, "myths")
    assert html.count("changed since publishing</span>") == 1
    assert "1 module changed since publishing." in html


def test_a_published_module_gone_from_disk_is_still_listed(client, auth, admin, disk, published):
    old = current()
    shutil.rmtree(disk / MODULE_FILE.parent)
    (disk / "quizzes" / f"{SLUG}.yaml").unlink()
    auth.login(admin.email)

    html = client.get("/admin/content").get_data(as_text=True)

    section = module_section(html, SLUG)
    assert "no longer on disk" in section
    assert old.content_hash[:12] in section


def test_version_history_is_one_query_however_many_versions(app, disk, make, published):
    for n in range(3):
        append(disk, f"Change number {n}.")
        publish_course(load_course(app.config["CONTENT_DIR"], app.config["QUIZ_DIR"]))
        db.session.commit()
        complete(make.user())

    with statements() as sent:
        history = version_history()

    assert len(sent) == 1
    entries = history[SLUG].versions
    assert len(entries) == 4
    assert [entry.current for entry in entries] == [True, False, False, False]
    assert [entry.completions for entry in entries] == [1, 1, 1, 0]


# --- publishing ------------------------------------------------------------------------------


def test_the_first_publishing_publishes_every_module(client, auth, admin):
    auth.login(admin.email)

    response = publish(client)

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/content")
    modules = len(get_course().modules)
    assert version_count() == modules
    html = client.get("/admin/content").get_data(as_text=True)
    assert f"{modules} modules published as new versions.</p>" in html
    (entry,) = publish_events()
    assert entry.details["modules"][SLUG] == {
        "before": None,
        "after": get_course().module(SLUG).content_hash,  # type: ignore[union-attr]
    }


def test_publishing_a_changed_module_makes_a_new_current_version_and_old_completions_keep_theirs(
    client, auth, make, admin, disk, published
):
    old = current()
    earlier = complete(make.user())
    reader = make.user("reader@example.test", locale="en")
    append(disk, ADDED)
    auth.login(reader.email)
    # This process still serves the course it loaded: what is on disk is not published yet.
    assert ADDED not in client.get(f"/modules/{SLUG}").get_data(as_text=True)
    auth.logout()

    auth.login(admin.email)
    response = publish(client)

    assert response.status_code == 302
    new = current()
    assert new.id != old.id
    assert [v.id for v in versions()] == [old.id, new.id]
    assert version_count() == len(get_course().modules) + 1
    db.session.refresh(earlier)
    assert earlier.content_version_id == old.id
    assert current("myths").id == versions("myths")[0].id
    page = client.get("/admin/content").get_data(as_text=True)
    assert "1 module published as a new version. 6 modules unchanged." in page
    assert "unchanged</span>" in module_section(page, SLUG)
    # Publishing serves the new content at once, and the reader's progress goes on it.
    assert get_course().module(SLUG).content_hash == new.content_hash  # type: ignore[union-attr]
    auth.logout()
    auth.login(reader.email)
    assert ADDED in client.get(f"/modules/{SLUG}").get_data(as_text=True)


def test_the_audit_entry_names_each_changed_module_before_and_after(
    client, auth, admin, disk, published
):
    old = current()
    append(disk, ADDED)
    append(disk, "Another change.", Path("content/modules/04-myths/index.en.md"))
    myths_old = current("myths")
    auth.login(admin.email)

    publish(client)

    (entry,) = publish_events()
    assert entry.actor_id == admin.id
    assert entry.details == {
        "modules": {
            SLUG: {"before": old.content_hash, "after": current().content_hash},
            "myths": {"before": myths_old.content_hash, "after": current("myths").content_hash},
        },
        "unchanged": len(get_course().modules) - 2,
    }


def test_publishing_unchanged_content_creates_nothing(client, auth, admin, published):
    before = version_count()
    auth.login(admin.email)

    response = publish(client)

    assert response.status_code == 302
    assert version_count() == before
    assert publish_events() == []
    html = client.get("/admin/content").get_data(as_text=True)
    assert "Nothing to publish: every module on disk is the same as its current version." in html


def broken_link(disk: Path) -> int:
    """Found by the full check only: the module itself still loads."""
    return append(disk, "See [nowhere](#no-such-section).")


def unreadable_order(disk: Path) -> int:
    """Found on loading: the module cannot be read at all."""
    file = disk / MODULE_FILE
    source = file.read_text(encoding="utf-8")
    assert "\norder: 3\n" in source
    file.write_text(source.replace("\norder: 3\n", "\norder: three\n"), encoding="utf-8")
    return source.splitlines().index("order: 3") + 1


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (broken_link, "link #no-such-section points to no section on this page"),
        (unreadable_order, "&#39;order&#39; must be a whole number"),
    ],
    ids=["broken-link", "unreadable-order"],
)
def test_content_with_a_problem_publishes_nothing_and_lists_it(
    client, auth, admin, disk, published, spoil, message
):
    old, before, served = current(), version_count(), get_course()
    line = spoil(disk)
    auth.login(admin.email)

    response = publish(client)

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "nothing can be published until" in html
    problem = (
        f'<td><code class="break-all">{MODULE_FILE.as_posix()}</code></td>\n'
        f"    <td>{line}</td>\n    <td>{message}"
    )
    assert problem in html
    assert version_count() == before
    assert current().id == old.id
    assert publish_events() == []
    assert get_course() is served  # the course being served is kept


def test_a_module_that_does_not_load_leaves_the_page_readable(client, auth, admin, disk, published):
    (disk / MODULE_FILE).write_text("no front matter at all\n", encoding="utf-8")
    auth.login(admin.email)

    response = client.get("/admin/content")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert MODULE_FILE.as_posix() in html
    assert "unknown: the content on disk has problems" in html
    assert current().content_hash[:12] in module_section(html, SLUG)


# --- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.HR, Role.MANAGER, Role.EMPLOYEE])
def test_only_admins_see_the_page_and_publish(client, auth, make, disk, role):
    team = make.team()
    make.user("someone@example.test", roles=(role,), team=team)
    auth.login("someone@example.test")

    assert client.get("/admin/content").status_code == 403
    token = csrf_token(client, "/me")
    assert client.post("/admin/content/publish", data={"csrf_token": token}).status_code == 403
    assert version_count() == 0
    assert publish_events() == []


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/admin/content")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    token = csrf_token(client, "/login")
    response = client.post("/admin/content/publish", data={"csrf_token": token})
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert version_count() == 0


def test_publishing_without_the_csrf_token_is_refused(client, auth, admin):
    auth.login(admin.email)

    response = client.post("/admin/content/publish")

    assert response.status_code == 400
    assert version_count() == 0
    assert publish_events() == []


def test_publishing_is_post_only(client, auth, admin):
    auth.login(admin.email)
    assert client.get("/admin/content/publish").status_code == 405


def test_the_page_has_no_inline_script_or_style(client, auth, admin, published):
    auth.login(admin.email)
    html = client.get("/admin/content").get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert " style=" not in html
