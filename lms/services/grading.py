"""Quiz rules without a database: drawing an attempt, reading a submitted form, grading.

An attempt's *layout* is a JSON list, one entry per drawn question, in the order shown::

    {"id": "cx-definition", "type": "single", "options": ["c", "a", "d", "b"], "key": ["a"]}
    {"id": "myth-1", "type": "true_false", "key": false}
    {"id": "terms", "type": "matching", "left": ["p1", "p2", "p3"], "right": ["p3", "p1", "p2"]}
    {"id": "cycle", "type": "ordering", "items": ["c", "a", "b"], "key": ["a", "b", "c"]}

Option, pair and item ids are the bank's; they stay on the server. The browser sees
positions only (``q3`` = "2" means the second option shown for the third question), so
nothing it receives says which option is right: not an id, not an order, not an attribute.

Stored answers use bank ids: ``"a"`` (single), ``["a", "c"]`` (multiple), ``true``
(true/false), ``{"p1": "p3"}`` (matching: left pair id -> chosen right pair id) and
``{"a": 2}`` (ordering: item id -> chosen position). A question left unanswered is absent.
"""

from __future__ import annotations

import random
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from lms.content.quizzes import Question, QuizBank

Layout = list[dict[str, Any]]
Answers = dict[str, Any]
# Form fields that are not answers.
FORM_FIELDS = frozenset({"csrf_token", "action"})
FIELD_PATTERN = re.compile(r"q(?P<question>[1-9][0-9]{0,2})(?:-(?P<part>[1-9][0-9]{0,2}))?")
POSITION_PATTERN = re.compile(r"[1-9][0-9]{0,2}")


class InvalidAnswers(ValueError):
    """A form that no honest browser sends: unknown fields, values or questions.

    ``questions`` holds the 1-based numbers of the questions concerned; 0 stands for a field
    that belongs to no question of the attempt.
    """

    def __init__(self, questions: Iterable[int]) -> None:
        self.questions = tuple(sorted(set(questions)))
        super().__init__(f"invalid answers for questions {self.questions}")


@dataclass(frozen=True)
class Grade:
    points: tuple[Fraction, ...]
    score: int  # percent, rounded down, so a score shown as 74 % never passes a 75 % mark
    passed: bool


def draw(bank: QuizBank, rng: random.Random | None = None) -> Layout:
    """Draw ``settings.draw`` questions from the bank, shuffling questions and their options."""
    rng = rng or random.SystemRandom()
    questions = rng.sample(bank.questions, bank.settings.draw)
    return [_lay_out(question, rng) for question in questions]


def _lay_out(question: Question, rng: random.Random) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": question.id, "type": question.type}
    if question.type in ("single", "multiple"):
        entry["options"] = _shuffled([o.id for o in question.options], rng)
        entry["key"] = [o.id for o in question.options if o.correct]
    elif question.type == "true_false":
        entry["key"] = bool(question.answer)
    elif question.type == "matching":
        ids = [pair.id for pair in question.pairs]
        entry["left"] = _shuffled(ids, rng)
        entry["right"] = _shuffled(ids, rng, avoid=entry["left"])
    elif question.type == "ordering":
        ids = [item.id for item in question.items]
        entry["items"] = _shuffled(ids, rng, avoid=ids)
        entry["key"] = ids
    else:  # the loader admits no other type
        raise ValueError(f"unknown question type {question.type!r}")
    return entry


def _shuffled(ids: list[str], rng: random.Random, avoid: list[str] | None = None) -> list[str]:
    """A shuffled copy; never the ``avoid`` order, which would give the answer away."""
    result = list(ids)
    for _attempt in range(20):
        rng.shuffle(result)
        if avoid is None or result != avoid or len(result) < 2:
            break
    if avoid is not None and result == avoid and len(result) > 1:
        result = result[1:] + result[:1]
    return result


def choices_of(entry: Mapping[str, Any]) -> list[str]:
    """The ids the browser's positions 1..n stand for, for single and multiple choice."""
    return list(entry["options"])


def parse_answers(layout: Layout, form: Mapping[str, list[str]]) -> Answers:
    """Turn submitted form fields (name -> values) into stored answers; raise on anything forged.

    Blank values mean "not answered". Everything else must be a position that exists.
    """
    answers: Answers = {}
    bad: list[int] = []
    for name, values in form.items():
        if name in FORM_FIELDS:
            continue
        match = FIELD_PATTERN.fullmatch(name)
        number = int(match["question"]) if match else 0
        if match is None or number > len(layout):
            bad.append(0)
            continue
        entry = layout[number - 1]
        part = match["part"]
        try:
            _read_field(entry, part, values, answers)
        except ValueError:
            bad.append(number)
    if bad:
        raise InvalidAnswers(bad)
    return answers


def _position(value: str, count: int) -> int | None:
    """A 1-based position from a form value; None for a blank; ValueError for anything else."""
    if value == "":
        return None
    if POSITION_PATTERN.fullmatch(value) is None or int(value) > count:
        raise ValueError(value)
    return int(value)


def _read_field(
    entry: Mapping[str, Any], part: str | None, values: list[str], answers: Answers
) -> None:
    kind = entry["type"]
    question_id = entry["id"]
    if kind == "multiple":
        if part is not None:
            raise ValueError(part)
        options = choices_of(entry)
        picked = [_position(value, len(options)) for value in values]
        if None in picked or len(set(picked)) != len(picked):
            raise ValueError(values)
        if picked:
            answers[question_id] = sorted(options[p - 1] for p in picked if p is not None)
        return
    if len(values) != 1:
        raise ValueError(values)
    value = values[0]
    if kind == "single":
        if part is not None:
            raise ValueError(part)
        options = choices_of(entry)
        position = _position(value, len(options))
        if position is not None:
            answers[question_id] = options[position - 1]
    elif kind == "true_false":
        if part is not None or value not in ("true", "false", ""):
            raise ValueError(value)
        if value:
            answers[question_id] = value == "true"
    elif kind == "matching":
        lefts, rights = entry["left"], entry["right"]
        row = _position(part or "", len(lefts))
        if row is None:
            raise ValueError(part)
        chosen = _position(value, len(rights))
        if chosen is not None:
            answers.setdefault(question_id, {})[lefts[row - 1]] = rights[chosen - 1]
    elif kind == "ordering":
        items = entry["items"]
        row = _position(part or "", len(items))
        if row is None:
            raise ValueError(part)
        chosen = _position(value, len(items))
        if chosen is not None:
            answers.setdefault(question_id, {})[items[row - 1]] = chosen
    else:
        raise ValueError(kind)


def question_points(entry: Mapping[str, Any], answer: Any) -> Fraction:
    """Points from 0 to 1 for one answer; partial credit for multiple, matching and ordering.

    Multiple choice: each right option picked adds 1/(right options), each wrong option picked
    takes away 1/(wrong options), never below zero; ticking everything scores nothing.
    Matching and ordering: the share of pairs matched, or items placed, correctly.
    """
    if answer is None:
        return Fraction(0)
    kind = entry["type"]
    if kind == "single":
        return Fraction(int(answer in entry["key"]))
    if kind == "true_false":
        return Fraction(int(answer is entry["key"]))
    if kind == "multiple":
        right = set(entry["key"])
        wrong = set(entry["options"]) - right
        picked = set(answer)
        earned = Fraction(len(picked & right), len(right))
        if wrong:
            earned -= Fraction(len(picked & wrong), len(wrong))
        return max(Fraction(0), earned)
    if kind == "matching":
        pairs = entry["left"]
        return Fraction(sum(1 for left in pairs if answer.get(left) == left), len(pairs))
    if kind == "ordering":
        key = entry["key"]
        placed = sum(1 for index, item in enumerate(key, start=1) if answer.get(item) == index)
        return Fraction(placed, len(key))
    raise ValueError(f"unknown question type {kind!r}")


def grade(
    layout: Layout,
    answers: Mapping[str, Any],
    pass_mark: int,
    excluded: Collection[str] = frozenset(),
) -> Grade:
    """Points per question and the score in percent; ``excluded`` questions (no longer in the
    bank) score nothing and do not count towards the total either."""
    points = tuple(
        Fraction(0) if entry["id"] in excluded else question_points(entry, answers.get(entry["id"]))
        for entry in layout
    )
    counted = sum(1 for entry in layout if entry["id"] not in excluded)
    total = sum(points, Fraction(0))
    score = int(total * 100 / counted) if counted else 0
    return Grade(points=points, score=score, passed=counted > 0 and score >= pass_mark)
