from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

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
