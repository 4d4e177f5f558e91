"""Admin: bearer tokens for the read API, issued and revoked here.

A new token is shown once, on the answer to the form that issued it. It is not flashed and
not put in a redirect: Flask's session cookie is signed, not encrypted, so the token would
travel back in every later request and sit readable in the browser. Only its hash is kept.
"""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from lms.admin import bp
from lms.auth.forms import EmptyForm
from lms.extensions import db
from lms.models import ApiToken, Role
from lms.permissions import role_required
from lms.services import api_tokens
from lms.services.api_tokens import TokenRefused


class IssueTokenForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=100)],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        description=_l("What the token is for, e.g. “HR dashboard, Northern region”."),
    )


def _page(
    form: IssueTokenForm, status: int, issued: ApiToken | None = None, plaintext: str | None = None
) -> Response:
    page = render_template(
        "admin/tokens.html",
        form=form,
        tokens=api_tokens.tokens(),
        issued=issued,
        plaintext=plaintext,
    )
    response = make_response(page, status)
    if plaintext is not None:
        response.headers["Cache-Control"] = "no-store"  # not kept in the browser's cache either
    return response


@bp.route("/tokens", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def tokens() -> Response:
    form = IssueTokenForm()
    if form.validate_on_submit():
        token, plaintext = api_tokens.issue(current_user, form.name.data or "")
        db.session.commit()
        # A fresh, empty form under the token: the one just sent has done its work.
        return _page(IssueTokenForm(formdata=None), 201, issued=token, plaintext=plaintext)
    return _page(form, 400 if form.is_submitted() else 200)


@bp.post("/tokens/<int:token_id>/revoke")
@role_required(Role.ADMIN)
def revoke_token(token_id: int) -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    token = db.session.get(ApiToken, token_id)
    if token is None:
        abort(404)
    try:
        api_tokens.revoke(token, current_user)
    except TokenRefused:
        flash(_("The token “%(name)s” was revoked already.", name=token.name))
    else:
        db.session.commit()
        flash(_("The token “%(name)s” is revoked: it opens nothing any more.", name=token.name))
    return redirect(url_for("admin.tokens"))
