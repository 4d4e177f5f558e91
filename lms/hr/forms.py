from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError


class OrgGoalForm(FlaskForm):
    title = StringField(
        _l("Goal"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("E.g. “Employers who come to us get a shortlist of candidates in 5 days”."),
    )
    measure = TextAreaField(_l("How it is measured"), validators=[DataRequired(), Length(max=2000)])
    target = StringField(_l("Target"), validators=[DataRequired(), Length(max=200)])
    starts_on = DateField(_l("From"), validators=[InputRequired()])
    ends_on = DateField(_l("To"), validators=[InputRequired()])
    scope = SelectField(_l("For"), validators=[DataRequired()], validate_choice=True)

    def validate_ends_on(self, field: DateField) -> None:
        if self.starts_on.data and field.data and field.data < self.starts_on.data:
            raise ValidationError(str(_l("The period ends before it starts.")))
