from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from lms.config import SUPPORTED_LOCALES

LANGUAGE_NAMES = {"ru": "Русский", "en": "English"}
LOCALE_CHOICES = [SelectChoice(code, LANGUAGE_NAMES[code]) for code in SUPPORTED_LOCALES]


class EmptyForm(FlaskForm):
    """A form with nothing but its CSRF token, for POST-only buttons such as "Log out"."""


class LoginForm(FlaskForm):
    email = StringField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    submit = SubmitField(_l("Log in"))


class LocaleForm(FlaskForm):
    locale = SelectField(
        _l("Language"),
        choices=LOCALE_CHOICES,
    )
    next = HiddenField()


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=256)]
    )
    new_password = PasswordField(
        _l("New password"),
        description=_l(
            "At least 10 characters. A phrase of a few words you will remember works well."
        ),
        validators=[DataRequired(), Length(max=256)],
    )
    confirm_password = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(),
            EqualTo("new_password", message=_l("The two new passwords differ.")),
        ],
    )
    submit = SubmitField(_l("Change password"))
