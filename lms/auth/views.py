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

from lms.auth.forms import EmptyForm, LocaleForm, LoginForm, PasswordForm
from lms.extensions import db, limiter
from lms.models import User
from lms.permissions import public, signed_in
from lms.services import accounts, audit
from lms.urls import safe_next

bp = Blueprint("auth", __name__)


def _failed(response: Response) -> bool:
    """Only sign-ins that tried a password and failed count towards the limits: a busy centre
    behind one address can sign in all morning, a guesser cannot go on guessing, and a form
    sent without its token (400) tries nothing."""
    return response.status_code in {401, 403}


def _account_key(email: str) -> str:
    """One counter per account, whether it exists or not (so the limit reveals nothing),
    shared by signing in and by the current password asked for on /me/password."""
    return "login-account:" + accounts.normalise_email(email)


def _account() -> str:
    return _account_key(request.form.get("email", ""))


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(
    lambda: current_app.config["LOGIN_FAILURES_PER_ADDRESS"],
    methods=["POST"],
    deduct_when=_failed,
    scope="login-address",
)
@limiter.shared_limit(
    lambda: current_app.config["LOGIN_FAILURES_PER_ACCOUNT"],
    scope="login-account",  # shared with /me/password: guesses at either add up
    methods=["POST"],
    key_func=_account,
    deduct_when=_failed,
)
def login() -> Response | str | tuple[str, int]:
    next_page = safe_next(request.args.get("next"), url_for("me.home"))
    if current_user.is_authenticated:
        return redirect(next_page)
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), (400 if form.is_submitted() else 200)
    email = form.email.data or ""
    result = accounts.authenticate(email, form.password.data or "")
    if result.user is None or result.outcome is accounts.LoginOutcome.INACTIVE:
        inactive = result.outcome is accounts.LoginOutcome.INACTIVE
        audit.record(
            result.user,
            "login.refused" if inactive else "login.failed",
            email=accounts.normalise_email(email)[:254],
        )
        db.session.commit()
        if inactive:
            message = _("This account has been deactivated. Please contact your administrator.")
            form.form_errors.append(message)
            return render_template("auth/login.html", form=form), 403
        form.form_errors.append(_("Invalid e-mail or password."))
        return render_template("auth/login.html", form=form), 401
    user = result.user
    chosen_locale = session.get("locale")
    _sign_in(user)
    if user.locale is None and chosen_locale:
        accounts.set_locale(user, chosen_locale)
    accounts.record_login(user)
    audit.record(user, "login")
    db.session.commit()
    if user.must_change_password:
        return redirect(url_for("auth.change_password", next=next_page))
    return redirect(next_page)


def _sign_in(user: User) -> None:
    """A new session, server side and in the cookie: nothing of the one before is kept."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    login_user(user)
    session[accounts.SESSION_KEY] = accounts.start_session(
        user, request.remote_addr, request.user_agent.string
    )


@bp.post("/logout")
@signed_in
def logout() -> Response:
    form = EmptyForm()
    if form.validate_on_submit():
        locale = current_user.locale
        accounts.end_session(session.get(accounts.SESSION_KEY))
        db.session.commit()
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


def _wrong_current_password(response: Response) -> bool:
    return response.status_code == 401


def _password_account() -> str:
    return _account_key(current_user.email)


@bp.route("/me/password", methods=["GET", "POST"])
@signed_in
@limiter.shared_limit(
    lambda: current_app.config["LOGIN_FAILURES_PER_ACCOUNT"],
    scope="login-account",
    methods=["POST"],
    key_func=_password_account,
    deduct_when=_wrong_current_password,
)
def change_password() -> Response | tuple[str, int] | str:
    """Choose a new password: always with the current one (a temporary one included), which
    the limits guard as they guard signing in."""
    forced = current_user.must_change_password
    next_page = safe_next(request.args.get("next"), url_for("me.learning"))
    form = PasswordForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("auth/password.html", form=form, forced=forced), status
    if not current_user.check_password(form.current_password.data or ""):
        audit.record(current_user, "password.change_failed", person_id=current_user.id)
        db.session.commit()
        form.current_password.errors = [_("This is not your current password.")]
        return render_template("auth/password.html", form=form, forced=forced), 401
    new = form.new_password.data or ""
    problems = accounts.password_problems(new, current_user)
    if current_user.check_password(new):
        problems.append(_("The new password must differ from the current one."))
    if problems:
        form.new_password.errors = problems
        return render_template("auth/password.html", form=form, forced=forced), 400
    user = current_user._get_current_object()
    accounts.change_password(user, new)
    _sign_in(user)  # a new session for this browser; every other one has ended
    db.session.commit()
    flash(
        _("Your password has been changed. Other browsers signed in as you were signed out."),
        "success",
    )
    return redirect(next_page)


# The token is in the address: no copy of the page in a cache, no address sent to other sites.
ACTIVATION_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@bp.route("/activate/<token>", methods=["GET", "POST"])
@public
def activate(token: str) -> Response | tuple[str, int, dict[str, str]]:
    """Choose a first password (or a new one) with a one-time link from an administrator or
    HR; this browser is then signed in as the person. Whoever was signed in here before is
    signed out when the password is saved (never by merely opening the link, which a
    cross-site page could do)."""
    link = accounts.find_activation_link(token) if len(token) <= 100 else None
    if link is None:
        return render_template("auth/activate.html", form=None), 410, ACTIVATION_HEADERS
    form = PasswordForm()
    del form.current_password  # the link stands for it
    person = link.user
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return (
            render_template("auth/activate.html", form=form, person=person),
            status,
            (ACTIVATION_HEADERS),
        )
    problems = accounts.password_problems(form.new_password.data or "", person)
    if problems:
        form.new_password.errors = problems
        return (
            render_template("auth/activate.html", form=form, person=person),
            400,
            (ACTIVATION_HEADERS),
        )
    try:
        user = accounts.activate(link, form.new_password.data or "")
    except accounts.LinkUsed:
        db.session.rollback()
        return render_template("auth/activate.html", form=None), 410, ACTIVATION_HEADERS
    if current_user.is_authenticated:  # someone else was signed in here: they are out now
        locale = session.get("locale")
        accounts.end_session(session.get(accounts.SESSION_KEY))
        logout_user()
        session.clear()
        if locale:
            session["locale"] = locale
    _sign_in(user)
    accounts.record_login(user)
    audit.record(user, "login", via="activation link")  # as every other sign-in
    db.session.commit()
    flash(_("Your password is set and you are signed in. Welcome!"), "success")
    response = redirect(url_for("me.home"))
    response.headers.update(ACTIVATION_HEADERS)
    return response
