"""A client-centric goal from the sixth module to its first check-in, in a real browser: the
employee drafts and submits it, the manager approves it from a notification, reviews the
person's competencies and thanks them on the team's wall, and the employee sees it all, keeps
the level-3 badge as an Open Badges credential and records progress."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import yaml
from babel.dates import format_date

try:
    from playwright.sync_api import expect
except ImportError:  # no test runs then: the `browser` fixture skips them (or fails on CI)
    expect = None

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

ROOT = Path(__file__).resolve().parents[2]
MODULE_DIR = ROOT / "content" / "modules" / "06-client-centric-culture"
MODULE_PATH = "/modules/client-centric-culture"
DEMO_PASSWORD = "demo"

EMPLOYEE = "employee@demo.local"
EMPLOYEE_NAME = "Анна Сергеевна Морозова"
MANAGER = "manager@demo.local"
MANAGER_NAME = "Игорь Петрович Волков"
TEAM = "Работа с гражданами"
ORG_GOAL = "Каждый посетитель уходит с ответом на свой вопрос"  # lms/services/demo.py

GOAL = {
    "title": "Объяснять каждому посетителю следующий шаг и срок до конца приёма",
    "measure": "Отметка «следующий шаг назван» в журнале приёма, считаю по пятницам",
    "target": "9 из 10 посетителей за смену",
    "relevance": "Человек уходит, зная, что будет дальше, и не возвращается с тем же вопросом",
}
GOAL_COMPETENCIES = ("Понимание клиента", "Ясность поддержки")
REVIEWED = "Понимание клиента"  # rated level 3 in the review: the level-3 badge
REVIEWED_ID = "client-understanding"
THANKED_FOR = "Ответственность за результат клиента"
APPROVAL_COMMENT = "Хорошая цель: начни с утренних смен и покажи первые цифры через неделю."
RATING_COMMENT = "Переспрашивает посетителя его словами и проверяет, понят ли ответ."
STRENGTHS = "Спокойно ведёт трудные разговоры, не отсылает людей к другому окну."
ACTION = "Два приёма вместе с наставником на участке работодателей"
THANKS = "Сама дозвонилась до работодателя и в тот же день нашла посетителю вакансию."
CHECK_IN_NOTE = "Первые две недели: следующий шаг назван 46 посетителям из 92."

Screenshot = Callable[["Page", str], Path]


# --- helpers -----------------------------------------------------------------------------


def goal_task_title() -> str:
    """The module's "draft your goal" task as ``index.ru.md`` names it."""
    text = (MODULE_DIR / "index.ru.md").read_text(encoding="utf-8")
    tasks = yaml.safe_load(text.split("---", 2)[1])["tasks"]
    return next(task["title"] for task in tasks if task["kind"] == "goal")


def organisation_today() -> date:
    """Today where the organisation is (the app's default time zone, Moscow), which is what
    its pages date things by: from 21:00 UTC on it is already tomorrow there."""
    return datetime.now(UTC).astimezone(ZoneInfo("Europe/Moscow")).date()


def long_date(day: date) -> str:
    """A date as the templates' ``date`` filter shows it in Russian."""
    return format_date(day, "long", locale="ru")


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def log_in(page: Page, email: str) -> None:
    """On the login page: the primary button (the language switch buttons submit, too)."""
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main button.primary").click()
    expect(page.locator("nav.main-nav .who")).to_be_visible()


def unread_in_nav(page: Page) -> int:
    """The unread count next to "Уведомления" in the main navigation (0 when not shown)."""
    link = page.get_by_role("navigation", name="Основное меню").locator("a.notifications-link")
    expect(link).to_contain_text("Уведомления")
    badge = link.locator(".count-badge")
    if badge.count() == 0:
        return 0
    text = badge.text_content() or ""
    found = re.fullmatch(r"(\d+) непрочитанных", text)  # the words are for screen readers
    assert found, f"the count badge reads {text!r}"
    return int(found.group(1))


def option_value(select: Locator, starts_with: str) -> str:
    """The value of the only option whose text starts with ``starts_with``."""
    options = select.locator("option")
    values = [
        options.nth(i).get_attribute("value") or ""
        for i in range(options.count())
        if (options.nth(i).text_content() or "").strip().startswith(starts_with)
    ]
    assert len(values) == 1, f"options starting with {starts_with!r}: {values}"
    return values[0]


def notification(page: Page, text: str) -> Locator:
    """The notification whose button reads exactly ``text`` (apart from "Новое:")."""
    items = page.locator("li.notification").filter(
        has=page.locator("button.notification-open", has_text=text)
    )
    expect(items).to_have_count(1)
    return items


def flash(page: Page) -> Locator:
    return page.locator(".flashes .flash")


# --- the journey -------------------------------------------------------------------------


def draft_and_submit_the_goal(page: Page, due: date, save_screenshot: Screenshot) -> str:
    """As the employee: from the module's task to a goal waiting for approval; its path."""
    page.goto(MODULE_PATH)
    expect(page).to_have_url(re.compile(r"/login\?"))
    log_in(page, EMPLOYEE)
    expect(page).to_have_url(re.compile(re.escape(MODULE_PATH) + "$"))

    task = page.locator(".task-list li").filter(has_text=goal_task_title())
    expect(task).to_have_class("is-open")
    task.get_by_role("link", name=goal_task_title(), exact=True).click()
    expect(page).to_have_url(re.compile(r"/me/goals/new$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Новая клиентоцентричная цель")

    # An empty form, sent with Enter from the first field: every error shown, nothing lost.
    title = page.get_by_label("Что вы сделаете", exact=True)
    with page.expect_response(
        lambda r: r.request.method == "POST" and urlsplit(r.url).path == "/me/goals/new"
    ) as sent:
        title.press("Enter")
    assert sent.value.status == 400
    expect(page).to_have_url(re.compile(r"/me/goals/new$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Новая клиентоцентричная цель")
    for field_id in ("title", "measure", "target", "relevance", "due_on"):
        control = page.locator(f"#{field_id}")
        expect(control).to_have_attribute("aria-invalid", "true")
        expect(control).to_have_attribute("aria-describedby", re.compile(rf"\b{field_id}-error\b"))
        expect(page.locator(f"#{field_id}-error")).not_to_be_empty()
    expect(page.locator(".field-error")).to_have_text(
        [*["Обязательное поле."] * 5, "Выберите хотя бы одну компетенцию."]
    )
    expect(page.locator("fieldset.checkboxes")).to_have_attribute(
        "aria-describedby", re.compile(r"\bcompetency_ids-error\b")
    )
    expect(page.locator(".field.has-error")).to_have_count(6)
    expect(page.locator("input[name=competency_ids]:checked")).to_have_count(0)
    org_select = page.get_by_label("Какой цели организации она служит (необязательно)")
    expect(org_select).to_have_value("None")
    org_goal_value = option_value(org_select, ORG_GOAL)  # still offered after the errors

    # The SMART form, filled in.
    title.fill(GOAL["title"])
    page.get_by_label("Как измеряется", exact=True).fill(GOAL["measure"])
    page.get_by_label("Целевое значение", exact=True).fill(GOAL["target"])
    page.get_by_label("Почему это важно для клиентов", exact=True).fill(GOAL["relevance"])
    page.get_by_label("Срок", exact=True).fill(due.isoformat())
    page.get_by_role("checkbox", name=GOAL_COMPETENCIES[0], exact=True).press("Space")
    page.get_by_role("checkbox", name=GOAL_COMPETENCIES[1], exact=True).check()
    expect(page.locator("input[name=competency_ids]:checked")).to_have_count(2)
    org_select.select_option(org_goal_value)
    page.get_by_role("button", name="Сохранить черновик", exact=True).click()

    found = re.search(r"/goals/(\d+)$", page.url)
    assert found, f"after saving the goal the browser is at {page.url}"
    goal_path = path_of(page)
    expect(flash(page)).to_have_text(
        "Цель сохранена как черновик. Отправьте её, когда она будет готова."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(GOAL["title"])
    expect(page.locator(".lead .status")).to_have_text("черновик")
    fields = page.locator("dl.goal-fields")
    expect(fields.locator("dt + dd")).to_have_text(
        [
            GOAL["measure"],
            GOAL["target"],
            GOAL["relevance"],
            long_date(due),
            re.compile(r"^[^,]+, [^,]+$"),  # stored in the order of their ids
            re.compile("^" + re.escape(ORG_GOAL) + r" \(Демонстрационная область\)$"),
            re.compile(r"^\s*0 %$"),
        ]
    )

    shown = fields.locator("dt:has-text('Компетенции') + dd").inner_text()
    assert sorted(shown.split(", ")) == sorted(GOAL_COMPETENCIES)

    page.get_by_role("button", name="Отправить на утверждение", exact=True).click()
    expect(page).to_have_url(re.compile(re.escape(goal_path) + "$"))
    expect(flash(page)).to_have_text("Цель отправлена руководителю на утверждение.")
    expect(page.locator(".lead .status")).to_have_text("ждёт утверждения")
    expect(page.get_by_role("button", name="Отправить на утверждение")).to_have_count(0)
    expect(page.get_by_role("link", name="Изменить цель")).to_have_count(0)
    expect(page.locator(".goal-history > li > strong")).to_have_text(
        ["Отправлена на утверждение", "Создана"]
    )
    save_screenshot(page, "goal-submitted-ru")
    return goal_path


def approve_from_the_notification(manager: Page, goal_path: str) -> None:
    manager.goto("/login")
    log_in(manager, MANAGER)
    unread = unread_in_nav(manager)
    assert unread >= 1, "the manager has a goal to approve but no unread notification"

    manager.get_by_role("navigation", name="Основное меню").get_by_role(
        "link", name=re.compile("^Уведомления")
    ).click()
    expect(manager).to_have_url(re.compile(r"/me/notifications$"))
    expect(manager.locator("li.notification.is-unread")).to_have_count(unread)
    submitted = notification(
        manager,
        f"{EMPLOYEE_NAME} отправил(а) цель вам на утверждение: «{GOAL['title']}».",
    )
    expect(submitted).to_have_class(re.compile(r"\bis-unread\b"))
    expect(submitted.locator(".visually-hidden")).to_have_text("Новое: ")
    submitted.get_by_role("button").click()

    expect(manager).to_have_url(re.compile(re.escape(goal_path) + "$"))
    assert unread_in_nav(manager) == unread - 1  # opening it marked it read
    expect(manager.get_by_role("heading", level=1)).to_have_text(GOAL["title"])
    expect(manager.locator(".lead")).to_have_text(f"{EMPLOYEE_NAME} · ждёт утверждения")

    # Approve with a comment, from the keyboard: Tab from the comment reaches "Утвердить".
    comment = manager.get_by_label("Комментарий", exact=True).and_(
        manager.locator("#approve-comment")
    )
    comment.fill(APPROVAL_COMMENT)
    comment.press("Tab")
    approve = manager.get_by_role("button", name="Утвердить", exact=True)
    expect(approve).to_be_focused()
    manager.keyboard.press("Enter")

    expect(manager).to_have_url(re.compile(re.escape(goal_path) + "$"))
    expect(flash(manager)).to_have_text("Цель утверждена.")
    expect(manager.locator(".lead .status")).to_have_text("утверждена, в работе")
    latest = manager.locator(".goal-history > li").first
    expect(latest.locator("strong")).to_have_text("Утверждена")
    expect(latest.locator(".evidence-comment")).to_have_text(APPROVAL_COMMENT)
    expect(latest.locator(".meta")).to_contain_text(MANAGER_NAME)


def open_the_person_from_the_team(manager: Page) -> str:
    """Teams › the team › the person's name; the person page's path."""
    manager.get_by_role("navigation", name="Основное меню").get_by_role(
        "link", name="Команды", exact=True
    ).click()
    manager.get_by_role("link", name=TEAM, exact=True).click()
    expect(manager.get_by_role("heading", level=1)).to_contain_text(TEAM)
    # The team's page names each person in its matrix and heatmap: the first link is enough.
    manager.get_by_role("link", name=EMPLOYEE_NAME, exact=True).first.click()
    expect(manager).to_have_url(re.compile(r"/people/\d+$"))
    expect(manager.get_by_role("heading", level=1)).to_have_text(EMPLOYEE_NAME)
    goals = manager.locator(".goal-list li").filter(has_text=GOAL["title"])
    expect(goals).to_have_count(1)
    expect(goals.locator(".status")).to_have_text("утверждена, в работе")
    return path_of(manager)


def record_the_review(manager: Page, person_path: str, due: date, save: Screenshot) -> None:
    manager.get_by_role("link", name="Провести оценку компетенций", exact=True).click()
    expect(manager).to_have_url(re.compile(re.escape(person_path) + "/review$"))
    expect(manager.get_by_role("heading", level=1)).to_have_text(
        f"Оценка компетенций: {EMPLOYEE_NAME}"
    )
    ratings = manager.locator("fieldset.rating")
    rating = ratings.filter(has=manager.locator("legend", has_text=REVIEWED))
    expect(rating).to_have_count(1)
    # Levels the person already holds (a passed quiz, say) come pre-selected: rate one only.
    others = ratings.filter(has_not=manager.locator("legend", has_text=REVIEWED))
    expect(others).to_have_count(5)
    for index in range(others.count()):
        others.nth(index).get_by_label("Уровень", exact=True).select_option(
            label="Не оцениваю в этот раз"
        )
    rating.get_by_label("Уровень", exact=True).select_option("3")
    rating.get_by_label("Что вы видели", exact=True).fill(RATING_COMMENT)
    manager.get_by_label("Сильные стороны", exact=True).fill(STRENGTHS)
    manager.locator("#action-1-text").fill(ACTION)
    manager.locator("#action-1-competency").select_option(REVIEWED_ID)
    manager.locator("#action-1-due").fill(due.isoformat())
    save(manager, "review-form-ru")
    manager.get_by_role("button", name="Сохранить оценку", exact=True).click()

    expect(manager).to_have_url(re.compile(re.escape(person_path) + "#reviews$"))
    expect(flash(manager)).to_have_text(f"Оценка сохранена. {EMPLOYEE_NAME} получит уведомление.")
    card = manager.locator("article.review-card")
    expect(card).to_have_count(1)
    expect(card.locator("h3")).to_have_text(
        f"Оценка от {long_date(organisation_today())}, проводил(а) {MANAGER_NAME}"
    )
    rated = card.locator(".evidence-list > li")
    expect(rated).to_have_count(1)
    expect(rated.locator(".level-badge")).to_have_text("3")
    expect(rated).to_contain_text(REVIEWED)
    expect(rated.locator(".evidence-comment")).to_have_text(RATING_COMMENT)
    expect(card.locator("p.pre")).to_have_text(STRENGTHS)
    expect(card.locator(".compact-list > li")).to_have_text(
        re.compile(
            "^" + re.escape(ACTION) + r"\s+· до " + re.escape(long_date(due)) + r" · " + REVIEWED
        )
    )
    row = manager.locator("section[aria-labelledby=competencies-title] tbody tr").filter(
        has=manager.get_by_role("rowheader", name=REVIEWED, exact=True)
    )
    expect(row).to_contain_text("уровень 3 из 4")
    expect(manager.locator("#badges .badge-item strong")).to_contain_text(
        [f"Уровень 3: «{REVIEWED}»"]
    )


def recognise_on_the_wall(manager: Page, person_path: str, save: Screenshot) -> None:
    manager.goto(person_path)
    manager.get_by_role("link", name=f"Поблагодарить: {EMPLOYEE_NAME}", exact=True).click()
    expect(manager).to_have_url(re.compile(r"/recognise/\d+$"))
    target = manager.get_by_label("За что", exact=True)
    expect(target.locator("option", has_text=f"Цель: {GOAL['title']}")).to_have_count(1)
    target.select_option(label=THANKED_FOR)
    manager.get_by_label("Сообщение", exact=True).fill(THANKS)
    manager.get_by_role("button", name="Отправить благодарность", exact=True).click()

    expect(manager).to_have_url(re.compile(r"/team/\d+/wall$"))
    expect(flash(manager)).to_have_text(f"Спасибо! {EMPLOYEE_NAME} увидит вашу благодарность.")
    expect(manager.get_by_role("heading", level=1)).to_have_text("Стена благодарностей")
    newest = manager.locator("ol.wall > li").first
    expect(newest).to_have_class(re.compile(r"\bwall-recognition\b"))
    expect(newest.locator("strong")).to_have_text(f"{MANAGER_NAME} → {EMPLOYEE_NAME}")
    expect(newest.locator(".recognition-message")).to_have_text(THANKS)
    expect(newest.locator(".meta")).to_contain_text(f"за компетенцию «{THANKED_FOR}»")
    expect(
        manager.locator("ol.wall > li.wall-badge").filter(
            has_text=f"{EMPLOYEE_NAME} получил(а) значок: Уровень 3: «{REVIEWED}»"
        )
    ).to_have_count(1)
    save(manager, "recognition-wall-ru")


def test_goal_from_draft_to_approval_review_recognition_and_check_in(
    page: Page,
    new_page: Callable[..., Page],
    save_screenshot: Screenshot,
    restore_locale: Callable[[str], None],
) -> None:
    """The employee drafts a SMART goal from module 6 (after an empty try shows every error)
    and submits it; the manager opens the notification, approves with a comment, records a
    review at level 3 with a development plan and thanks the employee on the wall; the
    employee is told of each, downloads the level-3 badge as an OpenBadgeCredential naming
    them, and a 50 % check-in shows on the goal."""
    restore_locale(EMPLOYEE)
    restore_locale(MANAGER)
    today = organisation_today()
    due = today + timedelta(days=30)

    goal_path = draft_and_submit_the_goal(page, due, save_screenshot)

    manager = new_page()
    approve_from_the_notification(manager, goal_path)
    person_path = open_the_person_from_the_team(manager)
    record_the_review(manager, person_path, today + timedelta(days=60), save_screenshot)
    recognise_on_the_wall(manager, person_path, save_screenshot)

    # The employee is told of everything.
    page.goto("/")
    unread = unread_in_nav(page)
    assert unread >= 4, f"approval, review, thanks and badge, yet {unread} unread"
    page.get_by_role("navigation", name="Основное меню").get_by_role(
        "link", name=re.compile("^Уведомления")
    ).click()
    expect(page.locator("li.notification.is-unread")).to_have_count(unread)
    told = [
        f"{MANAGER_NAME} утвердил(а) вашу цель «{GOAL['title']}».",
        f"{MANAGER_NAME} провёл(а) оценку ваших компетенций.",
        f"{MANAGER_NAME} отметил(а) вашу работу.",
        f"Вы получили значок: Уровень 3: «{REVIEWED}».",
    ]
    for text in told:
        expect(notification(page, text)).to_have_class(re.compile(r"\bis-unread\b"))
    notification(page, told[-1]).get_by_role("button").click()

    # The badge, kept as an Open Badges 3.0 credential.
    expect(page).to_have_url(re.compile(r"/me/badges$"))
    assert unread_in_nav(page) == unread - 1
    badge = page.locator("li.badge-item").filter(
        has=page.get_by_role("heading", name=f"Уровень 3: «{REVIEWED}»", exact=True)
    )
    expect(badge).to_have_count(1)
    expect(badge).to_contain_text(
        f"Достигнут уровень 3 из 4 по клиентоцентричной компетенции «{REVIEWED}»."
    )
    expect(badge.locator(".meta")).to_have_text(f"Получен {long_date(today)}")
    with page.expect_download() as download_info:
        badge.get_by_role("link", name=re.compile("^Скачать удостоверение")).click()
    download = download_info.value
    assert re.fullmatch(r"badge-competency_level_3-[0-9a-f]{8}\.json", download.suggested_filename)
    credential = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert "OpenBadgeCredential" in credential["type"]
    assert credential["name"] == f"Уровень 3: «{REVIEWED}»"
    subject = credential["credentialSubject"]
    names = [
        entry["identityHash"]
        for entry in subject["identifier"]
        if entry.get("identityType") == "ext:fullName" and entry.get("hashed") is False
    ]
    assert names == [EMPLOYEE_NAME]
    assert EMPLOYEE not in json.dumps(credential, ensure_ascii=False)  # the address is hashed
    assert subject["achievement"]["id"].endswith(f"/achievements/competency_level_3/{REVIEWED_ID}")

    # A check-in at 50 %, saved with the keyboard.
    page.goto(goal_path)
    expect(page.locator(".lead .status")).to_have_text("утверждена, в работе")
    progress = page.get_by_label("Продвижение, %", exact=True)
    progress.fill("50")
    progress.press("Tab")
    note = page.get_by_label("Что произошло с прошлой отметки", exact=True)
    expect(note).to_be_focused()
    page.keyboard.type(CHECK_IN_NOTE)
    note.press("Tab")
    expect(page.get_by_role("button", name="Сохранить отметку", exact=True)).to_be_focused()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(re.escape(goal_path) + "#check-ins$"))
    expect(flash(page)).to_have_text("Отметка о ходе работы сохранена.")
    expect(page.locator("dl.goal-fields dd").last).to_have_text(re.compile(r"^\s*50 %$"))
    expect(page.locator("dl.goal-fields progress")).to_have_attribute("value", "50")
    check_ins = page.locator("#check-ins .evidence-list > li")
    expect(check_ins).to_have_count(1)
    expect(check_ins.locator(".check-in-badge")).to_have_text("50")
    expect(check_ins.locator(".meta")).to_contain_text(EMPLOYEE_NAME)
    expect(check_ins.locator(".evidence-comment")).to_have_text(CHECK_IN_NOTE)
    save_screenshot(page, "goal-check-in-ru")

    # The module's task is ticked now that the goal exists.
    page.goto(MODULE_PATH)
    expect(page.locator(".task-list li").filter(has_text=goal_task_title())).to_have_class(
        "is-done"
    )
