"""Quiz banks: the format of quizzes/FORMAT.md, checked by ``lms content check``."""

from pathlib import Path

import pytest
import yaml

from lms.content import check_course, load_course
from tests.test_content import make_course


def text(ru: str, en: str | None = None) -> dict[str, str]:
    return {"ru": ru, "en": en or ru}


def single(number: int) -> dict:
    return {
        "id": f"q{number}",
        "type": "single",
        "competency": "client-understanding",
        "prompt": text(f"Вопрос {number}?", f"Question {number}?"),
        "options": [
            {"id": "a", "text": text("Да", "Yes"), "correct": True},
            {"id": "b", "text": text("Нет", "No")},
            {"id": "c", "text": text("Иногда", "Sometimes")},
        ],
        "explanation": text("Потому что.", "Because."),
    }


def valid_bank() -> dict:
    questions = [single(n) for n in range(1, 11)]
    questions.append({
        "id": "myth", "type": "true_false", "competency": "client-understanding",
        "prompt": text("Утверждение."), "answer": False, "explanation": text("Миф."),
    })  # fmt: skip
    questions.append({
        "id": "terms", "type": "matching", "competency": "client-understanding",
        "prompt": text("Сопоставьте."), "explanation": text("Так."),
        "pairs": [{"id": f"p{n}", "left": text(f"Л{n}"), "right": text(f"П{n}")} for n in range(3)],
    })  # fmt: skip
    questions.append({
        "id": "order", "type": "ordering", "competency": "client-understanding",
        "prompt": text("По порядку."), "explanation": text("Так."),
        "items": [{"id": f"s{n}", "text": text(f"Шаг {n}")} for n in range(4)],
    })  # fmt: skip
    return {
        "module": "first",
        "settings": {
            "draw": 8,
            "pass_mark": 75,
            "attempts": 3,
            "time_limit_minutes": None,
            "review": True,
        },  # fmt: skip
        "questions": questions,
    }


@pytest.fixture
def course(tmp_path: Path) -> Path:
    root = make_course(tmp_path, "first")
    (tmp_path / "quizzes").mkdir()
    return root


def write_bank(course: Path, bank: dict, slug: str = "first") -> Path:
    path = course.parent / "quizzes" / f"{slug}.yaml"
    path.write_text(yaml.safe_dump(bank, allow_unicode=True, sort_keys=False))
    return path


def problems(course: Path) -> list[str]:
    return [str(problem) for problem in check_course(course)]


def test_a_valid_bank_loads(course):
    write_bank(course, valid_bank())
    assert problems(course) == []
    bank = load_course(course).quizzes["first"]
    assert len(bank.questions) == 13
    assert bank.settings.draw == 8
    assert {q.type for q in bank.questions} == {"single", "true_false", "matching", "ordering"}


def test_a_module_without_a_bank_is_reported(course):
    assert any("module first has no quiz bank" in p for p in problems(course))


def test_a_bank_without_a_module_is_reported(course):
    write_bank(course, valid_bank())
    write_bank(course, valid_bank(), slug="ghost")
    assert any("ghost.yaml" in p and "no module 'ghost'" in p for p in problems(course))


def broken(change) -> dict:
    bank = valid_bank()
    change(bank)
    return bank


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda b: b.update(questions=b["questions"][:11]), "a bank needs at least 12"),
        (lambda b: b["settings"].update(draw=40), "'draw' must be a whole number from 1 to 13"),
        (lambda b: b["questions"][0]["options"][1].update(correct=True), "exactly one correct"),
        (lambda b: b["questions"][1].update(id="q1"), "question id 'q1' is used twice"),
        (lambda b: b["questions"][2]["prompt"].pop("en"), "prompt needs text in ru and en"),
        (lambda b: b["questions"][3].update(competency="telepathy"), "competency 'telepathy'"),
        (lambda b: b["questions"][4].update(type="essay"), "type must be one of"),
        (lambda b: b["questions"][10].update(answer="maybe"), "'answer' must be true"),
        (lambda b: b["questions"][11]["pairs"].pop(), "'pairs' must list 3 to 6"),
        (lambda b: b["questions"][12]["items"][1].update(id="s0"), "ids in 'items' must be unique"),
        (lambda b: b.update(module="second"), "does not match the file name"),
    ],
)
def test_broken_banks_are_reported_with_file_and_line(course, change, complaint):
    path = write_bank(course, broken(change))
    found = [p for p in problems(course) if p.startswith(f"{path}:") and complaint in p]
    assert found, problems(course)
    assert int(found[0].split(":")[1]) >= 1


def test_multiple_choice_needs_a_wrong_option(course):
    bank = valid_bank()
    question = bank["questions"][0]
    question["type"] = "multiple"
    for option in question["options"]:
        option["correct"] = True
    write_bank(course, bank)
    assert any("at least one correct and one wrong" in p for p in problems(course))


def test_the_quiz_bank_is_part_of_the_module_version(course):
    path = write_bank(course, valid_bank())
    before = load_course(course).module("first").content_hash
    bank = valid_bank()
    bank["settings"]["pass_mark"] = 80
    path.write_text(yaml.safe_dump(bank, allow_unicode=True))
    assert load_course(course).module("first").content_hash != before
