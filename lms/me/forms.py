from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from lms.content.loader import Level


class SelfAssessmentForm(FlaskForm):
    level = SelectField(_l("My level"), coerce=int, validators=[DataRequired()])
    comment = TextAreaField(
        _l("What in my work shows it (optional)"), validators=[Length(max=1000)]
    )

    def offer_levels(self, levels: tuple[Level, ...], locale: str) -> "SelfAssessmentForm":
        self.level.choices = [
            SelectChoice(level.level, f"{level.level}. {level.names[locale]}") for level in levels
        ]
        return self
