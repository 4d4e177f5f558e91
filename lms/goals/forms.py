"""Goal forms: the SMART fields, a move with a comment, and a check-in."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from lms.content.loader import Competency
from lms.models import OrgGoal


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _none_or_int(value: object) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(str(value))


class GoalForm(FlaskForm):
    title = StringField(
        _l("What you will do"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("One sentence about a change clients will notice."),
    )
    measure = TextAreaField(
        _l("How it is measured"),
        validators=[DataRequired(), Length(max=2000)],
        description=_l("Where the number comes from: a survey, the journal of visits, a count."),
    )
    target = StringField(
        _l("Target"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("The value you aim for, e.g. “8 of 10 callers get an answer at once”."),
    )
    relevance = TextAreaField(
        _l("Why it matters for clients"),
        validators=[DataRequired(), Length(max=2000)],
    )
    due_on = DateField(_l("Due date"), validators=[InputRequired()])
    competency_ids = CheckboxesField(
        _l("Competencies it puts into practice"),
        validators=[DataRequired(_l("Choose at least one competency."))],
    )
    org_goal_id = SelectField(
        _l("Organisational goal it serves (optional)"), coerce=_none_or_int, validate_choice=True
    )

    def offer(
        self, competencies: dict[str, Competency], org_goals: list[OrgGoal], locale: str
    ) -> GoalForm:
        self.competency_ids.choices = [(c.id, c.names[locale]) for c in competencies.values()]
        self.org_goal_id.choices = [(None, _l("None"))] + [
            (goal.id, f"{goal.title} ({goal.starts_on:%d.%m.%Y}–{goal.ends_on:%d.%m.%Y})")
            for goal in org_goals
        ]
        return self

    def due_in_future(self) -> bool:
        if self.due_on.data is not None and self.due_on.data < date.today():
            self.due_on.errors = [
                *self.due_on.errors,
                str(_l("The due date has passed; choose a date from today on.")),
            ]
            return False
        return True


class MoveForm(FlaskForm):
    comment = TextAreaField(_l("Comment"), validators=[Length(max=2000)])


class CheckInForm(FlaskForm):
    progress = IntegerField(
        _l("Progress, %"), validators=[InputRequired(), NumberRange(min=0, max=100)]
    )
    note = TextAreaField(
        _l("What happened since the last check-in"), validators=[Optional(), Length(max=2000)]
    )
