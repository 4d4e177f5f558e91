"""What the quiz pages show: questions to answer, and the review after submitting.

The two are built by different functions into different types on purpose. ``FormQuestion``
has no field that could hold a right answer, so the page someone answers cannot leak one;
only ``ReviewQuestion``, built from a submitted attempt, knows what was right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from lms.content.quizzes import Question, QuizBank
from lms.models import QuizAttempt

TRUE_FALSE = (("true", True), ("false", False))


@dataclass(frozen=True)
class Choice:
    value: str  # the position (or "true"/"false") the browser sends back
    text: str
    chosen: bool = False


@dataclass(frozen=True)
class Row:
    """A line of a matching or ordering question: a text and a drop-down of choices."""

    field: str
    text: str
    choices: tuple[Choice, ...]


@dataclass(frozen=True)
class FormQuestion:
    number: int
    field: str
    type: str
    prompt: str
    choices: tuple[Choice, ...] = ()
    rows: tuple[Row, ...] = ()
    missing: bool = False


@dataclass(frozen=True)
class ReviewLine:
    text: str
    yours: str | None
    right: str | None
    correct: bool


@dataclass(frozen=True)
class ReviewQuestion:
    number: int
    type: str
    prompt: str
    points: float
    lines: tuple[ReviewLine, ...]
    explanation: str
    missing: bool = False

    @property
    def verdict(self) -> str:
        if self.points >= 1:
            return "right"
        return "partly" if self.points > 0 else "wrong"


def true_false_label(value: bool) -> str:
    return _("Fact") if value else _("Myth")


def form_questions(attempt: QuizAttempt, bank: QuizBank, locale: str) -> list[FormQuestion]:
    return [
        _form_question(number, entry, bank.question(entry["id"]), attempt.answers, locale)
        for number, entry in enumerate(attempt.layout, start=1)
    ]


def _form_question(
    number: int,
    entry: dict[str, Any],
    question: Question | None,
    answers: dict[str, Any],
    locale: str,
) -> FormQuestion:
    field = f"q{number}"
    if question is None:
        return FormQuestion(number, field, entry["type"], _("This question has been removed from the course."), missing=True)  # fmt: skip
    answer = answers.get(entry["id"])
    prompt = question.prompt[locale]
    kind = entry["type"]
    if kind in ("single", "multiple"):
        texts = {option.id: option.text[locale] for option in question.options}
        picked = set(answer if isinstance(answer, list) else [answer])
        choices = tuple(
            Choice(str(position), texts.get(option_id, "—"), option_id in picked)
            for position, option_id in enumerate(entry["options"], start=1)
        )
        return FormQuestion(number, field, kind, prompt, choices=choices)
    if kind == "true_false":
        choices = tuple(
            Choice(value, true_false_label(flag), answer is flag) for value, flag in TRUE_FALSE
        )
        return FormQuestion(number, field, kind, prompt, choices=choices)
    if kind == "matching":
        lefts = {pair.id: pair.left[locale] for pair in question.pairs}
        rights = {pair.id: pair.right[locale] for pair in question.pairs}
        chosen = answer or {}
        rows = tuple(
            Row(
                f"{field}-{row}",
                lefts.get(left_id, "—"),
                tuple(
                    Choice(
                        str(position), rights.get(right_id, "—"), chosen.get(left_id) == right_id
                    )
                    for position, right_id in enumerate(entry["right"], start=1)
                ),
            )
            for row, left_id in enumerate(entry["left"], start=1)
        )
        return FormQuestion(number, field, kind, prompt, rows=rows)
    # ordering
    items = {item.id: item.text[locale] for item in question.items}
    placed = answer or {}
    count = len(entry["items"])
    rows = tuple(
        Row(
            f"{field}-{row}",
            items.get(item_id, "—"),
            tuple(
                Choice(str(position), str(position), placed.get(item_id) == position)
                for position in range(1, count + 1)
            ),
        )
        for row, item_id in enumerate(entry["items"], start=1)
    )
    return FormQuestion(number, field, kind, prompt, rows=rows)


def review_questions(attempt: QuizAttempt, bank: QuizBank, locale: str) -> list[ReviewQuestion]:
    points = attempt.points or [0.0] * len(attempt.layout)
    return [
        _review_question(number, entry, bank.question(entry["id"]), attempt.answers, score, locale)
        for number, (entry, score) in enumerate(zip(attempt.layout, points, strict=True), start=1)
    ]


def _review_question(
    number: int,
    entry: dict[str, Any],
    question: Question | None,
    answers: dict[str, Any],
    points: float,
    locale: str,
) -> ReviewQuestion:
    kind = entry["type"]
    if question is None:
        removed = _("This question has been removed from the course.")
        return ReviewQuestion(number, kind, removed, points, (), "", missing=True)
    answer = answers.get(entry["id"])
    lines: list[ReviewLine] = []
    if kind in ("single", "multiple"):
        texts = {option.id: option.text[locale] for option in question.options}
        picked = set(answer if isinstance(answer, list) else [answer])
        for option_id in entry["options"]:
            is_chosen, is_right = option_id in picked, option_id in entry["key"]
            lines.append(
                ReviewLine(
                    texts.get(option_id, "—"),
                    yours=_("chosen") if is_chosen else None,
                    right=_("right answer") if is_right else None,
                    correct=is_chosen == is_right,
                )
            )
    elif kind == "true_false":
        given = true_false_label(answer) if isinstance(answer, bool) else None
        key = true_false_label(entry["key"])
        lines.append(ReviewLine(_("Fact or myth?"), given, key, answer is entry["key"]))
    elif kind == "matching":
        lefts = {pair.id: pair.left[locale] for pair in question.pairs}
        rights = {pair.id: pair.right[locale] for pair in question.pairs}
        matched = answer or {}
        for left_id in entry["left"]:
            picked_id = matched.get(left_id)
            lines.append(
                ReviewLine(
                    lefts.get(left_id, "—"),
                    rights.get(picked_id, "—") if picked_id else None,
                    rights.get(left_id, "—"),
                    picked_id == left_id,
                )
            )
    else:  # ordering: the right order, with where the person put each item
        items = {item.id: item.text[locale] for item in question.items}
        placed = answer or {}
        for position, item_id in enumerate(entry["key"], start=1):
            given = placed.get(item_id)
            lines.append(
                ReviewLine(
                    items.get(item_id, "—"),
                    str(given) if given else None,
                    str(position),
                    given == position,
                )
            )
    return ReviewQuestion(
        number, kind, question.prompt[locale], points, tuple(lines), question.explanation[locale]
    )
