"""Quiz rules without a database (``lms.services.grading``).

Drawing an attempt from a bank, reading the positional form a browser sends, grading every
question type with exact partial credit, and refusing forms that no honest browser sends.
"""

from __future__ import annotations

import json
import random
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from lms.content import load_course
from lms.content.quizzes import Choice, Pair, Question, QuizBank, QuizSettings
from lms.services.grading import InvalidAnswers, draw, grade, parse_answers, question_points
from tests.conftest import ROOT

SEEDS = range(300)

# --- Building banks ------------------------------------------------------------------------


def text(value: str) -> dict[str, str]:
    return {"ru": value, "en": value}


def question(question_id: str, kind: str, **fields: Any) -> Question:
    return Question(
        id=question_id,
        type=kind,
        competency="client-understanding",
        prompt=text(f"Prompt of {question_id}"),
        explanation=text(f"Why, for {question_id}"),
        **fields,
    )


def choices(count: int, correct: str = "") -> tuple[Choice, ...]:
    """Options ``a``, ``b``, ...; those whose id is in ``correct`` are right."""
    ids = "abcdefg"[:count]
    return tuple(Choice(id=i, text=text(f"Option {i}"), correct=i in correct) for i in ids)


def pairs(count: int) -> tuple[Pair, ...]:
    return tuple(
        Pair(id=f"p{n}", left=text(f"Left {n}"), right=text(f"Right {n}"))
        for n in range(1, count + 1)
    )


def make_bank(questions: list[Question], draw: int) -> QuizBank:
    settings = QuizSettings(
        draw=draw, pass_mark=75, attempts=3, time_limit_minutes=None, review=True
    )
    return QuizBank(
        module="test-module", path=Path("test-module.yaml"), settings=settings,
        questions=tuple(questions),
    )  # fmt: skip


def one_of_each_type(size: int = 4) -> list[Question]:
    """A question of every type; matching and ordering have ``size`` pairs or items."""
    return [
        question("pick-one", "single", options=choices(4, correct="c")),
        question("pick-some", "multiple", options=choices(5, correct="bd")),
        question("myth", "true_false", answer=False),
        question("fact", "true_false", answer=True),
        question("terms", "matching", pairs=pairs(size)),
        question("steps", "ordering", items=choices(size)),
    ]


@pytest.fixture(scope="module")
def banks() -> list[QuizBank]:
    """The course's real banks."""
    return list(load_course(ROOT / "content").quizzes.values())


# --- A layout as stored for an attempt (question numbers 1..5 in the form) ------------------

SINGLE = {"id": "one", "type": "single", "options": ["c", "a", "d", "b"], "key": ["a"]}
# Three right options (a, b, c) and two wrong ones (d, e).
MULTIPLE = {
    "id": "some", "type": "multiple", "options": ["e", "a", "d", "b", "c"],
    "key": ["a", "b", "c"],
}  # fmt: skip
MYTH = {"id": "myth", "type": "true_false", "key": False}
MATCHING = {
    "id": "terms", "type": "matching",
    "left": ["p1", "p2", "p3", "p4"], "right": ["p3", "p1", "p4", "p2"],
}  # fmt: skip
ORDERING = {
    "id": "cycle", "type": "ordering", "items": ["c", "a", "d", "b"],
    "key": ["a", "b", "c", "d"],
}  # fmt: skip
LAYOUT = [SINGLE, MULTIPLE, MYTH, MATCHING, ORDERING]


def right_form(layout: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The form a browser sends when every right answer is chosen, by position as shown."""
    form: dict[str, list[str]] = {"csrf_token": ["token"], "action": ["submit"]}
    for number, entry in enumerate(layout, start=1):
        name = f"q{number}"
        if entry["type"] in ("single", "multiple"):
            form[name] = [str(entry["options"].index(key) + 1) for key in entry["key"]]
        elif entry["type"] == "true_false":
            form[name] = ["true" if entry["key"] else "false"]
        elif entry["type"] == "matching":
            for row, left in enumerate(entry["left"], start=1):
                form[f"{name}-{row}"] = [str(entry["right"].index(left) + 1)]
        else:
            for row, item in enumerate(entry["items"], start=1):
                form[f"{name}-{row}"] = [str(entry["key"].index(item) + 1)]
    return form


# --- draw -------------------------------------------------------------------------------------


def test_draw_takes_the_configured_number_of_distinct_questions(banks: list[QuizBank]) -> None:
    """Every attempt holds exactly ``settings.draw`` different questions of its bank."""
    for bank in banks:
        for seed in range(20):
            ids = [entry["id"] for entry in draw(bank, random.Random(seed))]
            assert len(ids) == bank.settings.draw
            assert len(set(ids)) == len(ids)
            assert all(bank.question(question_id) is not None for question_id in ids)


def test_draw_without_a_generator_uses_system_randomness(banks: list[QuizBank]) -> None:
    """With no ``rng`` the draw still has the configured size."""
    assert len(draw(banks[0])) == banks[0].settings.draw


def test_draw_is_reproducible_with_a_seeded_generator(banks: list[QuizBank]) -> None:
    """The same seed gives the same layout; different seeds give different ones."""
    bank = banks[0]
    assert draw(bank, random.Random(42)) == draw(bank, random.Random(42))
    layouts = {json.dumps(draw(bank, random.Random(seed))) for seed in range(10)}
    assert len(layouts) == 10


def test_drawn_entries_hold_the_banks_options_and_the_right_key(banks: list[QuizBank]) -> None:
    """Options, pairs and items are permutations of the bank's; keys match the bank."""
    for bank in banks:
        for seed in range(30):
            for entry in draw(bank, random.Random(seed)):
                source = bank.question(entry["id"])
                assert source is not None
                assert entry["type"] == source.type
                if source.type in ("single", "multiple"):
                    assert sorted(entry["options"]) == sorted(o.id for o in source.options)
                    assert entry["key"] == [o.id for o in source.options if o.correct]
                elif source.type == "true_false":
                    assert entry["key"] is source.answer
                elif source.type == "matching":
                    ids = sorted(pair.id for pair in source.pairs)
                    assert sorted(entry["left"]) == ids
                    assert sorted(entry["right"]) == ids
                else:
                    assert sorted(entry["items"]) == sorted(item.id for item in source.items)
                    assert entry["key"] == [item.id for item in source.items]


def test_single_choice_options_are_shuffled() -> None:
    """Over many draws each option is shown first at least once."""
    bank = make_bank([question("pick-one", "single", options=choices(4, correct="c"))], draw=1)
    firsts = {draw(bank, random.Random(seed))[0]["options"][0] for seed in range(50)}
    assert firsts == {"a", "b", "c", "d"}


@pytest.mark.parametrize("size", [2, 3, 4])
def test_shown_order_never_gives_the_answer_away(size: int) -> None:
    """An ordering question is never shown in the right order, and a matching question's
    right column is never in the order of its left column, whatever the seed."""
    bank = make_bank(one_of_each_type(size), draw=6)
    for seed in SEEDS:
        layout = {entry["id"]: entry for entry in draw(bank, random.Random(seed))}
        assert layout["steps"]["items"] != layout["steps"]["key"]
        assert layout["terms"]["right"] != layout["terms"]["left"]


class NoShuffle(random.Random):
    """A generator whose shuffles leave the list as it is."""

    def shuffle(self, x: Any) -> None:
        return None


@pytest.mark.parametrize("size", [2, 3, 6])
def test_shown_order_differs_even_when_every_shuffle_fails(size: int) -> None:
    """The fallback still moves items when shuffling keeps returning the right order."""
    bank = make_bank(one_of_each_type(size), draw=6)
    layout = {entry["id"]: entry for entry in draw(bank, NoShuffle(0))}
    assert layout["steps"]["items"] != layout["steps"]["key"]
    assert sorted(layout["steps"]["items"]) == sorted(layout["steps"]["key"])
    assert layout["terms"]["right"] != layout["terms"]["left"]
    assert sorted(layout["terms"]["right"]) == sorted(layout["terms"]["left"])


def test_layout_survives_a_json_round_trip(banks: list[QuizBank]) -> None:
    """The layout is stored as JSON: it comes back equal, booleans included."""
    for bank in banks:
        for seed in range(10):
            layout = draw(bank, random.Random(seed))
            assert json.loads(json.dumps(layout)) == layout


# --- question_points ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "answer", "points"),
    [
        pytest.param(SINGLE, "a", Fraction(1), id="single-right"),
        pytest.param(SINGLE, "c", Fraction(0), id="single-wrong"),
        pytest.param(SINGLE, None, Fraction(0), id="single-empty"),
        pytest.param(MYTH, False, Fraction(1), id="myth-false-is-right"),
        pytest.param(MYTH, True, Fraction(0), id="myth-true-is-wrong"),
        pytest.param(MYTH, None, Fraction(0), id="myth-empty"),
        pytest.param({**MYTH, "key": True}, True, Fraction(1), id="fact-true-is-right"),
        pytest.param({**MYTH, "key": True}, False, Fraction(0), id="fact-false-is-wrong"),
        pytest.param(MULTIPLE, ["a", "b", "c"], Fraction(1), id="multiple-all-right"),
        pytest.param(MULTIPLE, ["a"], Fraction(1, 3), id="multiple-one-of-three"),
        pytest.param(MULTIPLE, ["b", "c"], Fraction(2, 3), id="multiple-two-of-three"),
        pytest.param(MULTIPLE, ["a", "b", "d"], Fraction(1, 6), id="multiple-two-right-one-wrong"),
        pytest.param(MULTIPLE, ["a", "b", "c", "e"], Fraction(1, 2), id="multiple-all-plus-wrong"),
        pytest.param(MULTIPLE, ["a", "d"], Fraction(0), id="multiple-floored-at-zero"),
        pytest.param(MULTIPLE, ["d", "e"], Fraction(0), id="multiple-only-wrong"),
        pytest.param(MULTIPLE, ["a", "b", "c", "d", "e"], Fraction(0), id="multiple-everything"),
        pytest.param(MULTIPLE, [], Fraction(0), id="multiple-empty-list"),
        pytest.param(MULTIPLE, None, Fraction(0), id="multiple-empty"),
        pytest.param(
            MATCHING,
            {"p1": "p1", "p2": "p2", "p3": "p3", "p4": "p4"},
            Fraction(1),
            id="matching-all",
        ),
        pytest.param(
            MATCHING,
            {"p1": "p1", "p2": "p2", "p3": "p4", "p4": "p3"},
            Fraction(1, 2),
            id="matching-half",
        ),
        pytest.param(MATCHING, {"p3": "p3"}, Fraction(1, 4), id="matching-one-row-answered"),
        pytest.param(
            MATCHING,
            {"p1": "p2", "p2": "p1", "p3": "p4", "p4": "p3"},
            Fraction(0),
            id="matching-none",
        ),
        pytest.param(MATCHING, {}, Fraction(0), id="matching-empty-dict"),
        pytest.param(MATCHING, None, Fraction(0), id="matching-empty"),
        pytest.param(ORDERING, {"a": 1, "b": 2, "c": 3, "d": 4}, Fraction(1), id="ordering-all"),
        pytest.param(
            ORDERING, {"a": 1, "b": 2, "c": 4, "d": 3}, Fraction(1, 2), id="ordering-half"
        ),
        pytest.param(ORDERING, {"d": 4}, Fraction(1, 4), id="ordering-one-item-placed"),
        pytest.param(ORDERING, {"a": 2, "b": 1, "c": 4, "d": 3}, Fraction(0), id="ordering-none"),
        pytest.param(
            ORDERING, {"a": 1, "b": 1, "c": 1, "d": 1}, Fraction(1, 4), id="ordering-same-place"
        ),
        pytest.param(ORDERING, {}, Fraction(0), id="ordering-empty-dict"),
        pytest.param(ORDERING, None, Fraction(0), id="ordering-empty"),
    ],
)
def test_question_points(entry: dict[str, Any], answer: Any, points: Fraction) -> None:
    """Exact points per type, with partial credit for multiple, matching and ordering."""
    assert question_points(entry, answer) == points


# --- grade ----------------------------------------------------------------------------------


def singles(count: int) -> list[dict[str, Any]]:
    return [{**SINGLE, "id": f"s{n}"} for n in range(count)]


def test_all_right_scores_100_and_passes() -> None:
    """The right answers to every type give one point each and a score of 100."""
    answers = {
        "one": "a", "some": ["a", "b", "c"], "myth": False,
        "terms": {"p1": "p1", "p2": "p2", "p3": "p3", "p4": "p4"},
        "cycle": {"a": 1, "b": 2, "c": 3, "d": 4},
    }  # fmt: skip
    result = grade(LAYOUT, answers, pass_mark=75)
    assert result.points == (Fraction(1),) * 5
    assert (result.score, result.passed) == (100, True)


def test_score_is_rounded_down_so_74_point_something_fails_a_75_mark() -> None:
    """7 + 3/7 points of 10 is 74.28 %: the score is 74, which fails 75 and passes 74."""
    seven_items = {
        "id": "long", "type": "ordering", "items": list("gfedcba"), "key": list("abcdefg")
    }  # fmt: skip
    layout = [*singles(9), seven_items]
    answers: dict[str, Any] = {f"s{n}": "a" for n in range(7)}
    answers["long"] = {"a": 1, "b": 2, "c": 3}
    result = grade(layout, answers, pass_mark=75)
    assert sum(result.points) == 7 + Fraction(3, 7)
    assert (result.score, result.passed) == (74, False)
    assert grade(layout, answers, pass_mark=74).passed


def test_two_thirds_is_66_not_67() -> None:
    """The score is floored, not rounded: 2 of 3 is 66 %."""
    result = grade(singles(3), {"s0": "a", "s1": "a"}, pass_mark=67)
    assert (result.score, result.passed) == (66, False)


def test_exactly_the_pass_mark_passes() -> None:
    """7 whole points and a half of 10 is exactly 75 %, which passes a 75 % mark."""
    two_right = {"id": "two", "type": "multiple", "options": ["a", "b", "c"], "key": ["a", "b"]}
    layout = [*singles(9), two_right]
    answers: dict[str, Any] = {f"s{n}": "a" for n in range(7)}
    answers["two"] = ["b"]
    result = grade(layout, answers, pass_mark=75)
    assert result.points[-1] == Fraction(1, 2)
    assert (result.score, result.passed) == (75, True)


def test_no_answers_score_zero_and_fail() -> None:
    """An empty submission earns nothing on any question."""
    result = grade(LAYOUT, {}, pass_mark=1)
    assert result.points == (Fraction(0),) * 5
    assert (result.score, result.passed) == (0, False)


def test_excluded_questions_count_neither_way() -> None:
    """Questions no longer in the bank score nothing and leave the total: 3 of 3 is 100 %."""
    layout = singles(4)
    result = grade(layout, {"s1": "a", "s2": "a", "s3": "a", "s0": "a"}, 75, excluded={"s0"})
    assert result.points == (Fraction(0), Fraction(1), Fraction(1), Fraction(1))
    assert (result.score, result.passed) == (100, True)
    assert grade(layout, {}, 0, excluded={"s0", "s1", "s2", "s3"}).passed is False


def test_answers_to_questions_outside_the_layout_are_ignored() -> None:
    """Only the drawn questions count."""
    result = grade([SINGLE], {"one": "a", "other": "a"}, pass_mark=75)
    assert result.points == (Fraction(1),)


# --- parse_answers --------------------------------------------------------------------------


def test_browser_form_of_the_right_answers_grades_100(banks: list[QuizBank]) -> None:
    """Right answers sent by position, as shown, are read back and score 100 %."""
    for bank in banks:
        for seed in range(20):
            layout = draw(bank, random.Random(seed))
            answers = parse_answers(layout, right_form(layout))
            result = grade(layout, answers, bank.settings.pass_mark)
            assert result.points == (Fraction(1),) * len(layout)
            assert (result.score, result.passed) == (100, True)


def test_positions_become_bank_ids() -> None:
    """Each form value stands for the option, pair or place shown at that position."""
    form = {
        "csrf_token": ["token"], "action": ["save"],
        "q1": ["4"], "q2": ["5", "1"], "q3": ["true"],
        "q4-1": ["2"], "q4-3": ["1"], "q5-2": ["4"], "q5-4": ["1"],
    }  # fmt: skip
    assert parse_answers(LAYOUT, form) == {
        "one": "b",
        "some": ["c", "e"],
        "myth": True,
        "terms": {"p1": "p1", "p3": "p3"},
        "cycle": {"a": 4, "b": 1},
    }


def test_false_is_an_answer() -> None:
    """ "false" is stored as False, not mistaken for no answer, and scores on a myth."""
    answers = parse_answers(LAYOUT, {"q3": ["false"]})
    assert answers == {"myth": False}
    assert grade(LAYOUT, answers, pass_mark=75).points[2] == 1


def test_blank_values_leave_the_question_unanswered() -> None:
    """Blank selects and an unset true/false are not answers; partly blank rows keep the rest."""
    form = {
        "q1": [""], "q3": [""],
        "q4-1": [""], "q4-2": [""], "q4-3": [""], "q4-4": [""],
        "q5-1": [""], "q5-2": ["2"], "q5-3": [""], "q5-4": [""],
    }  # fmt: skip
    assert parse_answers(LAYOUT, form) == {"cycle": {"a": 2}}


def test_form_fields_that_are_not_answers_are_ignored() -> None:
    """``csrf_token`` and ``action`` carry any value without being read as answers."""
    form = {"csrf_token": ["q1", "x"], "action": ["submit", "evil"], "q1": ["2"]}
    assert parse_answers(LAYOUT, form) == {"one": "a"}


# --- Tampering ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "questions"),
    [
        # Fields that belong to no question of the attempt.
        pytest.param({"q99": ["1"]}, (0,), id="question-not-drawn"),
        pytest.param({"q6": ["1"]}, (0,), id="one-past-the-last-question"),
        pytest.param({"q0": ["1"]}, (0,), id="question-zero"),
        pytest.param({"qx": ["1"]}, (0,), id="question-not-a-number"),
        pytest.param({"q1-0": ["1"]}, (0,), id="row-zero"),
        pytest.param({"evil": ["1"]}, (0,), id="unknown-field"),
        pytest.param({"Q1": ["1"]}, (0,), id="upper-case"),
        # Positions that do not exist.
        pytest.param({"q1": ["0"]}, (1,), id="single-zero"),
        pytest.param({"q1": ["5"]}, (1,), id="single-past-the-last-option"),
        pytest.param({"q1": ["9"]}, (1,), id="single-nine"),
        pytest.param({"q1": ["-1"]}, (1,), id="single-negative"),
        pytest.param({"q1": ["1.0"]}, (1,), id="single-decimal"),
        pytest.param({"q1": ["abc"]}, (1,), id="single-text"),
        pytest.param({"q1": [" 1"]}, (1,), id="single-space"),
        pytest.param({"q1": ["a"]}, (1,), id="single-bank-id"),
        pytest.param({"q2": ["6"]}, (2,), id="multiple-past-the-last-option"),
        pytest.param({"q2": ["1", "abc"]}, (2,), id="multiple-text"),
        # Values a single field cannot carry.
        pytest.param({"q1": ["1", "2"]}, (1,), id="single-two-values"),
        pytest.param({"q1": []}, (1,), id="single-no-value"),
        pytest.param({"q2": ["1", "1"]}, (2,), id="multiple-duplicate"),
        pytest.param({"q2": ["1", ""]}, (2,), id="multiple-blank"),
        pytest.param({"q3": ["maybe"]}, (3,), id="true-false-maybe"),
        pytest.param({"q3": ["True"]}, (3,), id="true-false-capitalised"),
        pytest.param({"q3": ["1"]}, (3,), id="true-false-number"),
        pytest.param({"q3": ["true", "false"]}, (3,), id="true-false-both"),
        # Rows on questions that have none, and rows that do not exist.
        pytest.param({"q1-1": ["1"]}, (1,), id="row-on-single"),
        pytest.param({"q2-1": ["1"]}, (2,), id="row-on-multiple"),
        pytest.param({"q3-1": ["true"]}, (3,), id="row-on-true-false"),
        pytest.param({"q4": ["1"]}, (4,), id="matching-without-row"),
        pytest.param({"q4-5": ["1"]}, (4,), id="matching-row-past-the-last"),
        pytest.param({"q4-1": ["5"]}, (4,), id="matching-choice-past-the-last"),
        pytest.param({"q4-1": ["1", "2"]}, (4,), id="matching-two-values"),
        pytest.param({"q5": ["1"]}, (5,), id="ordering-without-row"),
        pytest.param({"q5-5": ["1"]}, (5,), id="ordering-row-past-the-last"),
        pytest.param({"q5-1": ["0"]}, (5,), id="ordering-place-zero"),
        pytest.param({"q5-1": ["5"]}, (5,), id="ordering-place-past-the-last"),
        # Everything wrong is reported at once, sorted and without repeats.
        pytest.param(
            {"q3": ["maybe"], "evil": ["1"], "q1": ["9"], "q2": ["1"], "q1-1": ["1"], "q7": [""]},
            (0, 1, 3),
            id="several",
        ),
    ],
)
def test_forged_forms_are_refused(form: dict[str, list[str]], questions: tuple[int, ...]) -> None:
    """A form no honest browser sends raises ``InvalidAnswers`` naming the questions."""
    with pytest.raises(InvalidAnswers) as raised:
        parse_answers(LAYOUT, {"csrf_token": ["token"], "action": ["save"], **form})
    assert raised.value.questions == questions


@pytest.mark.parametrize(
    ("form", "questions"),
    [
        pytest.param({"q1\n": ["1"]}, (0,), id="field-name-with-trailing-newline"),
        pytest.param({"q1": ["\u0661"]}, (1,), id="arabic-indic-digit-one"),
        pytest.param({"q4-1": ["\uff12"]}, (4,), id="fullwidth-digit-two"),
    ],
)
def test_only_ascii_names_and_positions_are_accepted(
    form: dict[str, list[str]], questions: tuple[int, ...]
) -> None:
    """Positions are "1".."n" and names ``qN`` or ``qN-R`` exactly; look-alikes are forged."""
    with pytest.raises(InvalidAnswers) as raised:
        parse_answers(LAYOUT, form)
    assert raised.value.questions == questions
