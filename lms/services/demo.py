"""The demo organisation: one region, two centres, three teams and a dozen people, with an
organisational goal of the region, colleagues' goals (one waiting for the manager's
approval) and a first recognition on the team's wall.

Running it again changes nothing: everything is looked up by its natural key first.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import select

from lms.extensions import db
from lms.models import Centre, OrgGoal, QuizAttempt, Region, Role, Team, User
from lms.services import goals, recognition
from lms.services.accounts import find_user_by_email

M = TypeVar("M", bound=Any)

DEMO_PASSWORD = "demo"
REGION = "Демонстрационная область"
TEAMS = {
    "Кадровый центр «Северный»": ["Работа с гражданами", "Работа с работодателями"],
    "Кадровый центр «Южный»": ["Контакт-центр"],
}
# (e-mail, full name, employee number, centre, team, roles, teams managed)
PEOPLE: list[tuple[str, str, str, str, str | None, tuple[Role, ...], tuple[str, ...]]] = [
    ("employee@demo.local", "Анна Сергеевна Морозова", "D-0001",
     "Кадровый центр «Северный»", "Работа с гражданами", (Role.EMPLOYEE,), ()),
    ("manager@demo.local", "Игорь Петрович Волков", "D-0002",
     "Кадровый центр «Северный»", "Работа с гражданами", (Role.EMPLOYEE, Role.MANAGER),
     ("Работа с гражданами", "Работа с работодателями")),
    ("hr@demo.local", "Елена Викторовна Соколова", "D-0003",
     "Кадровый центр «Северный»", None, (Role.HR,), ()),
    ("admin@demo.local", "Дмитрий Олегович Лебедев", "D-0004",
     "Кадровый центр «Северный»", None, (Role.ADMIN,), ()),
    ("o.kuznetsova@demo.local", "Ольга Николаевна Кузнецова", "D-0005",
     "Кадровый центр «Северный»", "Работа с гражданами", (Role.EMPLOYEE,), ()),
    ("a.popov@demo.local", "Алексей Андреевич Попов", "D-0006",
     "Кадровый центр «Северный»", "Работа с гражданами", (Role.EMPLOYEE,), ()),
    ("m.vasilieva@demo.local", "Мария Игоревна Васильева", "D-0007",
     "Кадровый центр «Северный»", "Работа с работодателями", (Role.EMPLOYEE,), ()),
    ("s.novikov@demo.local", "Сергей Александрович Новиков", "D-0008",
     "Кадровый центр «Северный»", "Работа с работодателями", (Role.EMPLOYEE,), ()),
    ("t.fedorova@demo.local", "Татьяна Юрьевна Фёдорова", "D-0009",
     "Кадровый центр «Южный»", "Контакт-центр", (Role.EMPLOYEE, Role.MANAGER),
     ("Контакт-центр",)),
    ("n.mikhailov@demo.local", "Николай Сергеевич Михайлов", "D-0010",
     "Кадровый центр «Южный»", "Контакт-центр", (Role.EMPLOYEE,), ()),
    ("i.orlova@demo.local", "Ирина Павловна Орлова", "D-0011",
     "Кадровый центр «Южный»", "Контакт-центр", (Role.EMPLOYEE,), ()),
    ("v.egorov@demo.local", "Виктор Дмитриевич Егоров", "D-0012",
     "Кадровый центр «Южный»", "Контакт-центр", (Role.EMPLOYEE,), ()),
]  # fmt: skip
DEMO_LOGINS = ("employee@demo.local", "manager@demo.local", "hr@demo.local", "admin@demo.local")


@dataclass(frozen=True)
class DemoSummary:
    people_created: int
    people_total: int


def create_demo_organisation() -> DemoSummary:
    region = _get_or_create(Region, name=REGION)
    teams: dict[tuple[str, str], Team] = {}
    for centre_name, team_names in TEAMS.items():
        centre = _get_or_create(Centre, region_id=region.id, name=centre_name)
        for name in team_names:
            teams[centre_name, name] = _get_or_create(Team, centre_id=centre.id, name=name)

    created = 0
    for email, full_name, number, centre_name, team_name, roles, managed in PEOPLE:
        user = find_user_by_email(email)
        if user is None:
            user = User(email=email, full_name=full_name, employee_number=number, locale=None)
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
            created += 1
        if team_name is not None:
            user.team = teams[centre_name, team_name]
        for role in roles:
            user.grant(role)
        for managed_name in managed:
            team = next(t for (_, t_name), t in teams.items() if t_name == managed_name)
            if team not in user.managed_teams:
                user.managed_teams.append(team)
    db.session.flush()
    _demo_goals(region)
    _demo_learning()
    return DemoSummary(people_created=created, people_total=len(PEOPLE))


ORG_GOAL = "Каждый посетитель уходит с ответом на свой вопрос"


def _demo_goals(region: Region) -> None:
    """Once: the region's goal, two colleagues' goals and a recognition (employee@ starts clean)."""
    if db.session.scalar(select(OrgGoal.id).where(OrgGoal.title == ORG_GOAL)) is not None:
        return
    hr, manager, olga, alexey = (
        find_user_by_email(email)
        for email in ("hr@demo.local", "manager@demo.local", "o.kuznetsova@demo.local",
                      "a.popov@demo.local")
    )  # fmt: skip
    if hr is None or manager is None or olga is None or alexey is None:
        return
    today = date.today()
    org_goal = goals.create_org_goal(
        hr,
        title=ORG_GOAL,
        measure="Доля ответов «да» на вопрос «Вы получили ответ на свой вопрос?» "
        "в опросе на выходе из зала приёма",
        target="9 из 10 посетителей",
        starts_on=today.replace(month=1, day=1),
        ends_on=today.replace(month=12, day=31),
        region=region,
    )
    waiting = goals.create(
        olga,
        goals.GoalFields(
            title="Записывать вопрос посетителя его словами и проверять в конце, решён ли он",
            measure="Отметка «вопрос решён» в журнале приёма, считаю каждую пятницу",
            target="8 из 10 посетителей за смену",
            relevance="Человек приходит не за услугой, а за ответом: так я не пропущу главное",
            due_on=today + timedelta(days=60),
            competency_ids=("client-understanding", "ownership"),
            org_goal_id=org_goal.id,
        ),
    )
    goals.perform(waiting, olga, "submit")
    running = goals.create(
        alexey,
        goals.GoalFields(
            title="Перезванивать в течение рабочего дня всем, кто не дозвонился",
            measure="Журнал пропущенных звонков и отметки об обратном звонке",
            target="Все пропущенные звонки за неделю",
            relevance="Человек, который не дозвонился, часто приходит лично и теряет полдня",
            due_on=today + timedelta(days=45),
            competency_ids=("ownership",),
            org_goal_id=org_goal.id,
        ),
    )
    goals.perform(running, alexey, "submit")
    goals.perform(running, manager, "approve", "Хорошая цель, начни с понедельника.")
    goals.check_in(running, alexey, 30, "Первая неделя: перезвонил 41 из 52.")
    recognition.give_recognition(
        manager,
        olga,
        "Спокойно и по шагам разобрала с посетительницей отказ в пособии, а потом сама "
        "позвонила ей с ответом юриста. Клиентка написала благодарность.",
        competency_id="ownership",
    )


# Colleagues' progress, so that the team and HR dashboards have something to show: (e-mail,
# modules completed, and the module after them begun (sections read) or not).
LEARNING = [
    ("o.kuznetsova@demo.local", 3, True),
    ("a.popov@demo.local", 1, True),
    ("m.vasilieva@demo.local", 2, False),
    ("n.mikhailov@demo.local", 0, True),
    ("i.orlova@demo.local", 7, False),
]


def _demo_learning() -> None:
    """Once, through the same services a person's clicks go through: sections read, memos
    downloaded, quizzes passed. Skipped until the course is published."""
    from lms.content import get_course
    from lms.services import progress

    course = get_course()
    try:
        for module in course.modules:
            progress.published_version(module.slug)
    except progress.NotPublished:
        return
    for index, (email, completed, begun) in enumerate(LEARNING):
        person = find_user_by_email(email)
        if person is None or db.session.scalar(
            select(QuizAttempt.id).where(QuizAttempt.user_id == person.id).limit(1)
        ):
            continue
        for number, module in enumerate(course.modules[:completed]):
            _complete_module(person, course, module, wrong=(index + number) % 3)
        if begun and completed < len(course.modules):
            module = course.modules[completed]
            progress.mark_section_read(
                person, course, module, progress.section_ids(course, module)[0]
            )


def _complete_module(person: User, course: Any, module: Any, wrong: int) -> None:
    """Read every section, download each memo and pass the quiz with ``wrong`` mistakes."""
    from lms.services import progress, quizzes

    for section in progress.section_ids(course, module):
        progress.mark_section_read(person, course, module, section)
    for memo in module.text("ru").memos:
        progress.record_memo_download(person, course, module, memo.id, "ru")
    attempt = quizzes.start_attempt(person, course, module, random.Random(person.id))  # noqa: S311 (a repeatable demo draw)
    answers = {entry["id"]: _right_answer(entry) for entry in attempt.layout}
    for entry in attempt.layout[:wrong]:
        answers.pop(entry["id"])
    quizzes.submit(attempt, course, module, answers)


def _right_answer(entry: dict[str, Any]) -> Any:
    kind = entry["type"]
    if kind == "single":
        return entry["key"][0]
    if kind == "multiple":
        return list(entry["key"])
    if kind == "true_false":
        return entry["key"]
    if kind == "matching":
        return {left: left for left in entry["left"]}
    return {item: position for position, item in enumerate(entry["key"], start=1)}


def _get_or_create(model: type[M], **keys: object) -> M:
    instance = db.session.scalar(select(model).filter_by(**keys))
    if instance is None:
        instance = model(**keys)
        db.session.add(instance)
        db.session.flush()
    return instance
