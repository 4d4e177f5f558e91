from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length


class RecognitionForm(FlaskForm):
    target = SelectField(
        _l("What it is for"),
        validators=[DataRequired(_l("Choose the competency or the goal this is for."))],
        validate_choice=True,
    )
    message = TextAreaField(
        _l("Message"),
        validators=[
            DataRequired(_l("Write a few words about what the person did.")),
            Length(max=1000),
        ],
        description=_l("Say what the person did and what it changed for a client or the team."),
    )
