"""My notifications: what needs my attention, newest first; opening one marks it read."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from lms.auth.forms import EmptyForm
from lms.extensions import db
from lms.permissions import signed_in
from lms.services import notifications

bp = Blueprint("notifications", __name__, url_prefix="/me/notifications")


@bp.get("")
@signed_in
def index() -> str:
    return render_template(
        "notifications/index.html",
        items=notifications.recent(current_user),
        message=notifications.message,
        form=EmptyForm(),
    )


@bp.post("/<int:notification_id>")
@signed_in
def open_one(notification_id: int) -> Response:
    """Mark the notification read and go where it leads (only one's own: 404 otherwise)."""
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    item = notifications.get_own(current_user, notification_id)
    if item is None:
        abort(404)
    notifications.mark_read(current_user, item.id)
    target = notifications.link(item)
    db.session.commit()
    return redirect(target)


@bp.post("/read")
@signed_in
def read_all() -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    notifications.mark_read(current_user)
    db.session.commit()
    return redirect(url_for("notifications.index"))
