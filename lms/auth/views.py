"""Signing in and out, and choosing the interface language."""

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from lms.auth.forms import EmptyForm, LocaleForm, LoginForm
from lms.extensions import db, limiter
from lms.permissions import public, signed_in
from lms.services import accounts
from lms.urls import safe_next

bp = Blueprint("auth", __name__)


def _failed(response: Response) -> bool:
    """Only sign-ins that tried a password and failed count towards the limits: a busy centre
    behind one address can sign in all morning, a guesser cannot go on guessing, and a form
    sent without its token (400) tries nothing."""
    return response.status_code in {401, 403}


def _account() -> str:
    """The account being tried, whether it exists or not, so the limit reveals nothing."""
    return "login-account:" + accounts.normalise_email(request.form.get("email", ""))


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(
    lambda: current_app.config["LOGIN_FAILURES_PER_ADDRESS"],
    methods=["POST"],
    deduct_when=_failed,
    scope="login-address",
)
@limiter.limit(
    lambda: current_app.config["LOGIN_FAILURES_PER_ACCOUNT"],
    methods=["POST"],
    key_func=_account,
    deduct_when=_failed,
    scope="login-account",
)
def login() -> Response | str | tuple[str, int]:
    next_page = safe_next(request.args.get("next"), url_for("me.home"))
    if current_user.is_authenticated:
        return redirect(next_page)
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), (400 if form.is_submitted() else 200)
    result = accounts.authenticate(form.email.data or "", form.password.data or "")
    if result.outcome is accounts.LoginOutcome.INACTIVE:
        form.form_errors.append(
            _("This account has been deactivated. Please contact your administrator.")
        )
        return render_template("auth/login.html", form=form), 403
    if result.user is None:
        form.form_errors.append(_("Invalid e-mail or password."))
        return render_template("auth/login.html", form=form), 401
    chosen_locale = session.get("locale")
    session.clear()  # a new session for the signed-in person
    login_user(result.user)
    if result.user.locale is None and chosen_locale:
        accounts.set_locale(result.user, chosen_locale)
    accounts.record_login(result.user)
    db.session.commit()
    return redirect(next_page)


@bp.post("/logout")
@signed_in
def logout() -> Response:
    form = EmptyForm()
    if form.validate_on_submit():
        locale = current_user.locale
        logout_user()
        session.clear()
        if locale:
            session["locale"] = locale  # the login page stays in the language they chose
        flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/locale")
@public
def set_locale() -> Response:
    form = LocaleForm()
    back = safe_next(form.next.data, url_for("me.home"))
    if not form.validate_on_submit():
        flash(_("That language is not available."), "error")
        return redirect(back)
    session["locale"] = form.locale.data
    if current_user.is_authenticated:
        accounts.set_locale(current_user, form.locale.data)
        db.session.commit()
    return redirect(back)
