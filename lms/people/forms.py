"""The competency review form: a level and a comment per competency, strengths, and a
development plan of a few actions with due dates."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FieldList, Form, FormField, SelectField, TextAreaField
from wtforms.validators import Length, Optional

from lms.content.loader import Competency, Level


class ActionForm(Form):
    text = TextAreaField(_l("Action"), validators=[Optional(), Length(max=2000)])
    competency_id = SelectField(_l("Competency"), default="", validate_choice=True)
    due_on = DateField(_l("Due date"), validators=[Optional()])


class RatingForm(Form):
    level = SelectField(_l("Level"), default="", validate_choice=True)
    comment = TextAreaField(_l("What you have seen"), validators=[Optional(), Length(max=2000)])


class ReviewForm(FlaskForm):
    strengths = TextAreaField(_l("Strengths"), validators=[Optional(), Length(max=2000)])
    actions = FieldList(FormField(ActionForm), min_entries=3, max_entries=10)

    def offer(
        self, competencies: dict[str, Competency], levels: tuple[Level, ...], locale: str
    ) -> ReviewForm:
        level_choices: list[Any] = [("", _l("Not rated this time"))] + [
            (str(level.level), f"{level.level}. {level.names[locale]}") for level in levels
        ]
        for competency_id in competencies:
            self.ratings[competency_id].level.choices = level_choices
        competency_choices: list[Any] = [("", _l("Any"))] + [
            (c.id, c.names[locale]) for c in competencies.values()
        ]
        for entry in self.actions:
            entry.competency_id.choices = competency_choices
        return self


def review_form(competencies: dict[str, Competency], **kwargs: Any) -> ReviewForm:
    """A review form with one rating subform per competency of the framework."""

    class Ratings(Form):
        pass

    for competency_id in competencies:
        setattr(Ratings, competency_id, FormField(RatingForm))

    class BoundReviewForm(ReviewForm):
        ratings = FormField(Ratings)

    return BoundReviewForm(**kwargs)
