"""Staff take the first module's quiz in a real browser: reading, answering with the keyboard,
autosave and resuming, leaving mid-attempt, confirming a submit with unanswered questions, and
the public certificate check."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

try:
    from playwright.sync_api import expect
except ImportError:  # no test runs then: the `browser` fixture skips them (or fails on CI)
    expect = None

if TYPE_CHECKING:
    from playwright.sync_api import Dialog, Locator, Page, Response

ROOT = Path(__file__).resolve().parents[2]
MODULE_DIR = ROOT / "content" / "modules" / "01-client-centricity"
BANK_FILE = ROOT / "quizzes" / "client-centricity.yaml"
MODULE_PATH = "/modules/client-centricity"
QUIZ_PATH = f"{MODULE_PATH}/quiz"
ATTEMPT_URL = re.compile(re.escape(QUIZ_PATH) + r"/attempts/\d+$")
LOCALE = "en"  # every signed-in test switches the interface to English first
TRUE_FALSE_LABELS = {True: "Fact", False: "Myth"}
PHONE_WIDTH = 360

Screenshot = Callable[["Page", str], Path]


# --- the bank and the page ---------------------------------------------------------------


def load_bank() -> dict[str, Any]:
    return yaml.safe_load(BANK_FILE.read_text(encoding="utf-8"))


def module_title(locale: str) -> str:
    """The module's title as its front matter gives it in ``index.<locale>.md``."""
    text = (MODULE_DIR / f"index.{locale}.md").read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---", 2)[1])["title"]


def squash(text: str | None) -> str:
    return " ".join((text or "").split())


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


@dataclass(frozen=True)
class Step:
    """One action of an answer: tick a radio button or a box, or pick in a drop-down."""

    name: str  # the form field
    value: str  # the value the browser sends for it
    is_select: bool

    def control(self, page: Page) -> Locator:
        if self.is_select:
            return page.locator(f'select[name="{self.name}"]')
        return page.locator(f'input[name="{self.name}"][value="{self.value}"]')

    def perform(self, page: Page) -> None:
        if self.is_select:
            self.control(page).select_option(value=self.value)
        else:
            self.control(page).press("Space")  # focuses the radio button or box, then ticks it

    def expect_kept(self, page: Page) -> None:
        if self.is_select:
            expect(self.control(page)).to_have_value(self.value)
        else:
            expect(self.control(page)).to_be_checked()


def prompt_of(fieldset: Locator) -> str:
    """The question's prompt: the legend without its hidden "Question N:" prefix."""
    legend = fieldset.locator("legend")
    hidden = legend.locator(".visually-hidden").text_content() or ""
    return squash((legend.text_content() or "").replace(hidden, "", 1))


def option_value(select: Locator, text: str) -> str:
    options = select.locator("option")
    for index in range(options.count()):
        option = options.nth(index)
        if squash(option.text_content()) == squash(text):
            value = option.get_attribute("value")
            assert value, f"the option {text!r} has no value"
            return value
    raise AssertionError(f"no option {text!r} in {select}")


def right_answer(fieldset: Locator, bank: dict[str, Any]) -> list[Step]:
    """The steps that answer this question correctly, found from the bank by its prompt."""
    prompt = prompt_of(fieldset)
    matches = [q for q in bank["questions"] if squash(q["prompt"][LOCALE]) == prompt]
    assert len(matches) == 1, f"the bank has no question {prompt!r}"
    question = matches[0]
    kind = question["type"]
    steps: list[Step] = []
    if kind in ("single", "multiple", "true_false"):
        if kind == "true_false":
            right = {TRUE_FALSE_LABELS[question["answer"]]}
        else:
            right = {squash(o["text"][LOCALE]) for o in question["options"] if o.get("correct")}
        labels = fieldset.locator("label.choice")
        for index in range(labels.count()):
            label = labels.nth(index)
            if squash(label.text_content()) in right:
                box = label.locator("input")
                name, value = box.get_attribute("name"), box.get_attribute("value")
                assert name, f"an option of {prompt!r} has no field name"
                assert value, f"an option of {prompt!r} has no value"
                steps.append(Step(name, value, is_select=False))
        assert len(steps) == len(right), f"not every right option of {prompt!r} is shown"
        return steps
    rows = fieldset.locator(".quiz-row")
    for index in range(rows.count()):
        row = rows.nth(index)
        left = squash(row.locator("label").text_content())
        select = row.locator("select")
        if kind == "matching":
            pair = next(p for p in question["pairs"] if squash(p["left"][LOCALE]) == left)
            value = option_value(select, pair["right"][LOCALE])
        else:  # ordering: the bank lists the items in the right order
            texts = [squash(item["text"][LOCALE]) for item in question["items"]]
            value = str(texts.index(left) + 1)
        steps.append(Step(select.get_attribute("name") or "", value, is_select=True))
    assert len(steps) == len(question.get("pairs") or question.get("items")), prompt
    return steps


def is_autosave_with(step: Step) -> Callable[[Response], bool]:
    """Whether a response answers a background save whose form holds this step's answer
    (a save sent before the step was taken cannot hold it)."""
    field = f'name="{step.name}"\r\n\r\n{step.value}\r\n'

    def check(response: Response) -> bool:
        request = response.request
        return (
            request.method == "POST"
            and request.headers.get("x-requested-with") == "fetch"
            and field in (request.post_data or "")
        )

    return check


# --- signing in --------------------------------------------------------------------------


def sign_in(page: Page, email: str, start: str = MODULE_PATH) -> None:
    """Sign in from the login page ``start`` redirects to, then switch the interface to English."""
    page.goto(start)
    expect(page).to_have_url(re.compile(r"/login\?"))
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill("demo")
    page.locator("input[name=password]").press("Enter")
    expect(page).to_have_url(re.compile(re.escape(start) + "$"))
    page.get_by_role("button", name=LOCALE.upper(), exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", LOCALE)


def open_the_quiz_from_the_module(page: Page) -> None:
    page.goto(MODULE_PATH)
    page.get_by_role("link", name="Go to the module quiz", exact=True).press("Enter")
    expect(page).to_have_url(re.compile(re.escape(QUIZ_PATH) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("End-of-module quiz")


def start_the_quiz(page: Page) -> str:
    """Start an attempt from the quiz page; the attempt's path."""
    page.get_by_role("button", name="Start the quiz", exact=True).press("Enter")
    expect(page).to_have_url(ATTEMPT_URL)
    expect(page.locator("fieldset")).to_have_count(load_bank()["settings"]["draw"])
    return path_of(page)


# --- the journey -------------------------------------------------------------------------


def test_reading_then_passing_the_quiz_with_the_keyboard(
    page: Page,
    new_page: Callable[..., Page],
    save_screenshot: Screenshot,
    restore_locale: Callable[[str], None],
) -> None:
    """A section marked as read is ticked in the contents; a quiz answered right from the bank
    is saved in the background, kept over a reload, and graded 100 % with explanations."""
    email = "employee@demo.local"
    restore_locale(email)
    sign_in(page, email)
    bank = load_bank()

    # Mark the first section not read yet, with the keyboard.
    mark = page.locator("form.section-read").first
    action = mark.get_attribute("action") or ""
    found = re.search(r"/sections/([^/]+)/read$", action)
    assert found, action
    section_id = found.group(1)
    mark.get_by_role("button", name=re.compile(r"^Mark as read")).press("Enter")
    expect(page).to_have_url(re.compile(re.escape(MODULE_PATH) + "#"))
    toc_entry = page.locator("nav.toc li").filter(has=page.locator(f'a[href="#{section_id}"]'))
    expect(toc_entry).to_have_class(re.compile(r"\bis-read\b"))
    expect(toc_entry.locator(".read-mark")).to_have_text("✓")
    expect(toc_entry).to_contain_text("(read)")
    expect(page.locator(f'form.section-read[action="{action}"]')).to_have_count(0)

    open_the_quiz_from_the_module(page)
    attempt_path = start_the_quiz(page)

    fieldsets = page.locator("fieldset")
    steps = [s for i in range(fieldsets.count()) for s in right_answer(fieldsets.nth(i), bank)]
    for step in steps[:-1]:
        step.perform(page)
    with page.expect_response(is_autosave_with(steps[-1])) as autosave:
        steps[-1].perform(page)
    status = page.locator(".quiz-save-status")
    expect(status).to_have_attribute("role", "status")
    expect(status).not_to_be_empty()  # the background save has answered, one way or the other
    save_screenshot(page, "quiz-attempt-en")

    # The same attempt on a phone, in a second browser.
    phone = new_page(viewport={"width": PHONE_WIDTH, "height": 740})
    phone.goto(attempt_path)
    phone.locator("input[name=email]").fill(email)
    phone.locator("input[name=password]").fill("demo")
    phone.locator("input[name=password]").press("Enter")
    expect(phone).to_have_url(re.compile(re.escape(attempt_path) + "$"))
    expect(phone.locator("fieldset")).to_have_count(fieldsets.count())
    scroll_width = phone.evaluate("document.documentElement.scrollWidth")
    save_screenshot(phone, "quiz-attempt-en-phone")
    assert scroll_width <= PHONE_WIDTH + 1, f"horizontal scroll: page is {scroll_width}px wide"

    saved = autosave.value
    assert urlsplit(saved.url).path == attempt_path, f"the background save went to {saved.url}"
    assert saved.ok, f"the background save answered {saved.status}"
    assert saved.json() == {"saved": True, "url": attempt_path}
    expect(status).to_have_text(re.compile(r"^Answers saved at \d"))

    # Resume: a reload shows every answer saved in the background, and nothing else.
    page.reload()
    expect(page).to_have_url(re.compile(re.escape(attempt_path) + "$"))
    for step in steps:
        step.expect_kept(page)
    ticks = [step for step in steps if not step.is_select]
    expect(page.locator("input:checked")).to_have_count(len(ticks))
    expect(status).to_have_text("")

    page.get_by_role("button", name="Submit for grading", exact=True).press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Quiz result")
    assert path_of(page) == attempt_path
    expect(page.get_by_role("heading", name="Your score: 100%")).to_be_visible()
    expect(page.locator(".result-line.result-pass")).to_have_text("Passed: the pass mark is 75%.")
    items = page.locator(".review-item")
    expect(items).to_have_count(bank["settings"]["draw"])
    expect(page.locator(".review-item.is-right")).to_have_count(bank["settings"]["draw"])
    explanations = {squash(q["explanation"][LOCALE]) for q in bank["questions"]}
    shown = page.locator(".review-explanation")
    expect(shown).to_have_count(bank["settings"]["draw"])
    for text in shown.all_text_contents():
        assert squash(text).removeprefix("Why: ") in explanations
    save_screenshot(page, "quiz-result-en")

    page.goto(QUIZ_PATH)
    expect(page.locator(".result-line.result-pass")).to_have_text("Passed with 100%.")
    expect(page.get_by_role("button", name="Start a new attempt")).to_have_count(0)


def test_leaving_mid_attempt_and_continuing_later(
    page: Page, restore_locale: Callable[[str], None]
) -> None:
    """ "Save and finish later" keeps the answer; the quiz page then offers to continue the
    same attempt instead of starting a new one."""
    email = "t.fedorova@demo.local"
    restore_locale(email)
    sign_in(page, email)
    open_the_quiz_from_the_module(page)
    attempt_path = start_the_quiz(page)
    first = right_answer(page.locator("fieldset").first, load_bank())
    for step in first:
        step.perform(page)

    page.get_by_role("button", name="Save and finish later", exact=True).click()
    expect(page.locator(".flash")).to_have_text(
        "Your answers are saved. You can come back and finish later."
    )
    assert path_of(page) == attempt_path

    breadcrumbs = page.get_by_role("navigation", name="Breadcrumbs")
    breadcrumbs.get_by_role("link", name=module_title(LOCALE), exact=True).click()
    expect(page).to_have_url(re.compile(re.escape(MODULE_PATH) + "$"))
    open_the_quiz_from_the_module(page)

    expect(page.get_by_text("You have an attempt in progress.")).to_be_visible()
    expect(page.get_by_role("button", name="Start the quiz")).to_have_count(0)
    expect(page.locator(".data-table tbody tr")).to_have_count(1)
    expect(page.locator(".data-table tbody tr")).to_contain_text("in progress")
    page.get_by_role("link", name="Continue the attempt", exact=True).click()

    expect(page).to_have_url(re.compile(re.escape(attempt_path) + "$"))
    for step in first:
        step.expect_kept(page)
    ticks = [step for step in first if not step.is_select]
    expect(page.locator("input:checked")).to_have_count(len(ticks))
    chosen = page.locator("select").evaluate_all("all => all.filter(s => s.value).length")
    assert chosen == len(first) - len(ticks)


def test_submitting_with_unanswered_questions_asks_first(
    page: Page, restore_locale: Callable[[str], None]
) -> None:
    """With questions left blank, "Submit" asks for confirmation: dismissing keeps the attempt
    open on the page, accepting grades it."""
    email = "n.mikhailov@demo.local"
    restore_locale(email)
    sign_in(page, email)
    open_the_quiz_from_the_module(page)
    attempt_path = start_the_quiz(page)
    draw = load_bank()["settings"]["draw"]
    first = right_answer(page.locator("fieldset").first, load_bank())
    for step in first:
        step.perform(page)

    asked: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    submit = page.get_by_role("button", name="Submit for grading", exact=True)
    page.once("dialog", dismiss)
    submit.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Quiz: {module_title(LOCALE)}")
    assert asked == [f"Some questions have no answer yet ({draw - 1}). Submit anyway?"]
    assert path_of(page) == attempt_path
    for step in first:
        step.expect_kept(page)
    other_tab = page.context.new_page()  # nothing was submitted: the attempt is still open
    other_tab.goto(QUIZ_PATH)
    expect(other_tab.locator(".data-table tbody tr")).to_have_count(1)
    expect(other_tab.locator(".data-table tbody tr")).to_contain_text("in progress")
    other_tab.close()

    def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    submit.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Quiz result")
    assert len(asked) == 2
    assert path_of(page) == attempt_path
    expect(page.get_by_role("heading", name=f"Your score: {100 // draw}%")).to_be_visible()
    expect(page.locator(".result-line.result-fail")).to_be_visible()
    expect(page.locator(".review-item.is-right")).to_have_count(1)
    expect(page.locator(".review-item.is-wrong")).to_have_count(draw - 1)


def test_certificate_check_needs_no_sign_in(new_page: Callable[..., Page]) -> None:
    """Anyone can open the certificate check; an unknown code renders a clear "no certificate"
    message (with status 404) and the form to try again."""
    page = new_page()  # a fresh browser context: nobody is signed in
    page.goto("/certificates")

    assert path_of(page) == "/certificates"
    expect(page.get_by_role("heading", level=1)).to_have_text("Проверка сертификата")
    expect(page.get_by_role("alert")).to_have_count(0)

    bogus = "ZZZZ-ZZZZ-ZZZZ"
    page.get_by_label("Код проверки").fill(bogus)
    with page.expect_response(lambda r: urlsplit(r.url).path.startswith("/certificates/")) as info:
        page.get_by_label("Код проверки").press("Enter")
    assert info.value.status == 404

    expect(page.get_by_role("heading", level=1)).to_have_text("Проверка сертификата")
    expect(page.get_by_role("alert")).to_contain_text(f"Сертификата с кодом «{bogus}» нет.")
    expect(page.locator(".certificate-valid")).to_have_count(0)
    expect(page.get_by_label("Код проверки")).to_be_visible()
    expect(page.get_by_role("button", name="Выйти")).to_have_count(0)
