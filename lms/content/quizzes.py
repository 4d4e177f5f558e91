"""Quiz banks (``quizzes/<slug>.yaml``): loading and validation. Format: quizzes/FORMAT.md.

The bank holds the right answers; it is read on the server only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lms.config import SUPPORTED_LOCALES
from lms.content.problems import ID_PATTERN, Problem, bilingual, line_of, yaml_line

QUESTION_TYPES = ("single", "multiple", "true_false", "matching", "ordering")
MIN_QUESTIONS = 12
SETTINGS_KEYS = {"draw", "pass_mark", "attempts", "time_limit_minutes", "review"}
CHOICE_RANGE = (3, 6)
PAIR_RANGE = (3, 6)
ORDER_RANGE = (3, 7)

Text = dict[str, str]


@dataclass(frozen=True)
class Choice:
    id: str
    text: Text
    correct: bool = False


@dataclass(frozen=True)
class Pair:
    id: str
    left: Text
    right: Text


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    competency: str
    prompt: Text
    explanation: Text
    options: tuple[Choice, ...] = ()
    answer: bool | None = None
    pairs: tuple[Pair, ...] = ()
    items: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class QuizSettings:
    draw: int
    pass_mark: int
    attempts: int | None
    time_limit_minutes: int | None
    review: bool


@dataclass(frozen=True)
class QuizBank:
    module: str
    path: Path
    settings: QuizSettings
    questions: tuple[Question, ...]

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


class _Checker:
    """Collects problems for one bank file, each with the line it comes from."""

    def __init__(self, path: Path, source: str, problems: list[Problem]) -> None:
        self.path, self.source, self.problems = path, source, problems
        self.failed = False

    def problem(self, line: int, message: str) -> None:
        self.failed = True
        self.problems.append(Problem(self.path, line, message))

    def line(self, needle: str, after: int = 0) -> int:
        return line_of(self.source, needle, after)

    def text(self, value: Any, line: int, what: str) -> Text:
        found = bilingual(value)
        if found is None:
            self.problem(line, f"{what} needs text in {' and '.join(SUPPORTED_LOCALES)}")
            return {}
        return found


def load_quiz_bank(
    path: Path, slug: str, allowed_competencies: set[str], problems: list[Problem]
) -> QuizBank | None:
    source = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as error:
        problems.append(Problem(path, yaml_line(error), f"invalid YAML: {error}"))
        return None
    check = _Checker(path, source, problems)
    if not isinstance(data, dict) or not {"module", "settings", "questions"} <= set(data):
        check.problem(1, "a quiz bank needs 'module', 'settings' and 'questions'")
        return None
    if data["module"] != slug:
        check.problem(
            check.line("module:"),
            f"module '{data['module']}' does not match the file name '{slug}'",
        )
    raw_questions = data["questions"]
    if not isinstance(raw_questions, list):
        check.problem(check.line("questions:"), "'questions' must be a list")
        return None
    if len(raw_questions) < MIN_QUESTIONS:
        check.problem(
            check.line("questions:"),
            f"{len(raw_questions)} questions; a bank needs at least {MIN_QUESTIONS}",
        )
    settings = _settings(check, data["settings"], len(raw_questions))
    questions: list[Question] = []
    seen: set[str] = set()
    for raw in raw_questions:
        question = _question(check, raw, allowed_competencies)
        if question is None:
            continue
        if question.id in seen:
            check.problem(
                check.line(f"id: {question.id}"), f"question id '{question.id}' is used twice"
            )
        seen.add(question.id)
        questions.append(question)
    if check.failed or settings is None:
        return None
    return QuizBank(module=slug, path=path, settings=settings, questions=tuple(questions))


def _settings(check: _Checker, raw: Any, count: int) -> QuizSettings | None:
    line = check.line("settings:")
    if not isinstance(raw, dict) or set(raw) != SETTINGS_KEYS:
        check.problem(line, f"'settings' needs exactly: {', '.join(sorted(SETTINGS_KEYS))}")
        return None

    def whole(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    ok = True
    if not whole(raw["draw"]) or not 1 <= raw["draw"] <= count:
        check.problem(check.line("draw:"), f"'draw' must be a whole number from 1 to {count}")
        ok = False
    if not whole(raw["pass_mark"]) or not 1 <= raw["pass_mark"] <= 100:
        check.problem(check.line("pass_mark:"), "'pass_mark' is a percentage from 1 to 100")
        ok = False
    for key in ("attempts", "time_limit_minutes"):
        if raw[key] is not None and (not whole(raw[key]) or raw[key] < 1):
            check.problem(check.line(f"{key}:"), f"'{key}' is a whole number from 1, or null")
            ok = False
    if not isinstance(raw["review"], bool):
        check.problem(check.line("review:"), "'review' is true or false")
        ok = False
    return QuizSettings(**raw) if ok else None


def _question(check: _Checker, raw: Any, allowed: set[str]) -> Question | None:
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("id"), str)
        or not ID_PATTERN.match(raw["id"])
    ):
        check.problem(check.line("questions:"), f"question without a valid id: {raw!r:.60}")
        return None
    question_id = raw["id"]
    line = check.line(f"id: {question_id}")
    kind = raw.get("type")
    if kind not in QUESTION_TYPES:
        check.problem(
            line, f"question {question_id}: type must be one of {', '.join(QUESTION_TYPES)}"
        )
        return None
    if raw.get("competency") not in allowed:
        check.problem(
            line,
            f"question {question_id}: competency '{raw.get('competency')}' is not one of this module's",
        )
    prompt = check.text(raw.get("prompt"), line, f"question {question_id}: prompt")
    explanation = check.text(raw.get("explanation"), line, f"question {question_id}: explanation")
    fields: dict[str, Any] = {}
    if kind in ("single", "multiple"):
        options = _choices(check, raw.get("options"), line, question_id, "options", CHOICE_RANGE)
        correct = sum(option.correct for option in options)
        if kind == "single" and correct != 1:
            check.problem(
                line,
                f"question {question_id}: a single-choice question has exactly one correct option",
            )
        if kind == "multiple" and not 1 <= correct < len(options):
            check.problem(
                line, f"question {question_id}: needs at least one correct and one wrong option"
            )
        fields["options"] = options
    elif kind == "true_false":
        if not isinstance(raw.get("answer"), bool):
            check.problem(
                line, f"question {question_id}: 'answer' must be true (fact) or false (myth)"
            )
        fields["answer"] = raw.get("answer")
    elif kind == "matching":
        fields["pairs"] = _pairs(check, raw.get("pairs"), line, question_id)
    else:
        fields["items"] = _choices(check, raw.get("items"), line, question_id, "items", ORDER_RANGE)
    return Question(
        id=question_id, type=kind, competency=str(raw.get("competency")),
        prompt=prompt, explanation=explanation, **fields,
    )  # fmt: skip


def _choices(
    check: _Checker, raw: Any, line: int, question_id: str, key: str, limits: tuple[int, int]
) -> tuple[Choice, ...]:
    low, high = limits
    if not isinstance(raw, list) or not low <= len(raw) <= high:
        check.problem(line, f"question {question_id}: '{key}' must list {low} to {high} entries")
        return ()
    choices: list[Choice] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str | int):
            check.problem(
                line, f"question {question_id}: every entry of '{key}' needs an id and text"
            )
            continue
        text = check.text(item.get("text"), line, f"question {question_id}, {key} '{item['id']}'")
        correct = item.get("correct", False)
        if not isinstance(correct, bool):
            check.problem(line, f"question {question_id}: 'correct' is true or false")
        choices.append(Choice(id=str(item["id"]), text=text, correct=correct is True))
    if len({choice.id for choice in choices}) != len(choices):
        check.problem(line, f"question {question_id}: ids in '{key}' must be unique")
    return tuple(choices)


def _pairs(check: _Checker, raw: Any, line: int, question_id: str) -> tuple[Pair, ...]:
    low, high = PAIR_RANGE
    if not isinstance(raw, list) or not low <= len(raw) <= high:
        check.problem(line, f"question {question_id}: 'pairs' must list {low} to {high} pairs")
        return ()
    pairs: list[Pair] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str | int):
            check.problem(line, f"question {question_id}: every pair needs an id, left and right")
            continue
        what = f"question {question_id}, pair '{item['id']}'"
        pairs.append(
            Pair(
                id=str(item["id"]),
                left=check.text(item.get("left"), line, what + " left"),
                right=check.text(item.get("right"), line, what + " right"),
            )
        )
    if len({pair.id for pair in pairs}) != len(pairs):
        check.problem(line, f"question {question_id}: pair ids must be unique")
    for locale in SUPPORTED_LOCALES:
        rights = [pair.right.get(locale) for pair in pairs]
        if len(set(rights)) != len(rights):
            check.problem(line, f"question {question_id}: right-hand texts ({locale}) must differ")
    return tuple(pairs)


def load_quiz_banks(
    quiz_dir: Path, modules: dict[str, set[str]], problems: list[Problem]
) -> dict[str, QuizBank]:
    """Every module's bank; ``modules`` maps each slug to the competencies it builds."""
    banks: dict[str, QuizBank] = {}
    for slug, competencies in modules.items():
        path = quiz_dir / f"{slug}.yaml"
        if not path.exists():
            problems.append(Problem(path, 0, f"module {slug} has no quiz bank"))
            continue
        bank = load_quiz_bank(path, slug, competencies, problems)
        if bank is not None:
            banks[slug] = bank
    for path in sorted(quiz_dir.glob("*.yaml")):
        if path.stem not in modules:
            problems.append(Problem(path, 0, f"no module '{path.stem}' for this quiz bank"))
    return banks
