"""Content: loading, validation with file and line, rendering made safe, and module pages."""

from html.parser import HTMLParser
from pathlib import Path

import pytest

from lms.content import ContentError, check_course, load_course
from lms.content.render import render_markdown
from tests.conftest import ROOT

FIXTURES = Path(__file__).parent / "fixtures"
LEVEL_NAMES = {1: "Aware", 2: "Practising", 3: "Proficient", 4: "Role model"}
COMPETENCIES = (
    "levels:\n"
    + "".join(
        f"  - level: {level}\n    name: {{ru: Уровень {level}, en: {name}}}\n"
        f"    description: {{ru: Описание., en: Description.}}\n"
        for level, name in LEVEL_NAMES.items()
    )
    + "competencies:\n"
    + "  - id: client-understanding\n"
    + "    name: {ru: Понимание клиента, en: Understanding the client}\n"
    + "    summary: {ru: Кратко., en: In short.}\n"
    + "    levels:\n"
    + "".join(f"      {level}: {{ru: [Делает.], en: [Does.]}}\n" for level in LEVEL_NAMES)
)


def front_matter(locale: str, order: int, **overrides: str) -> str:
    values = {
        "title": f"Модуль {order}" if locale == "ru" else f"Module {order}",
        "summary": "Кратко." if locale == "ru" else "In short.",
        "order": str(order),
        "competencies": "[client-understanding]",
        "tasks": "\n  - id: download-memo\n    kind: memo\n    memo: card\n    title: Memo",
        "memos": f"\n  - id: card\n    title: Card\n    file: memos/card.{locale}.md",
    }
    values.update(overrides)
    lines = [f"{key}: {value}" for key, value in values.items() if value is not None]
    return "---\n" + "\n".join(lines) + "\n---\n"


def write_module(root: Path, order: int, slug: str, bodies: dict[str, str] | None = None,
                 **overrides: str) -> Path:  # fmt: skip
    directory = root / "modules" / f"{order:02d}-{slug}"
    (directory / "memos").mkdir(parents=True)
    for locale in ("ru", "en"):
        body = (bodies or {}).get(
            locale, "Intro.\n\n## First {#first}\n\nText.\n\n## Second {#second}\n"
        )
        (directory / f"index.{locale}.md").write_text(
            front_matter(locale, order, **overrides) + body
        )
        (directory / "memos" / f"card.{locale}.md").write_text("# Card\n\nMemo text.\n")
    return directory


def make_course(tmp_path: Path, *slugs: str) -> Path:
    """A small valid course in ``tmp_path/content``: the framework and one module per slug."""
    root = tmp_path / "content"
    root.mkdir()
    (root / "competencies.yaml").write_text(COMPETENCIES)
    for order, slug in enumerate(slugs, start=1):
        write_module(root, order, slug)
    return root


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    return make_course(tmp_path, "first", "second", "third")


def messages(root: Path) -> list[str]:
    return [str(problem) for problem in check_course(root)]


def test_the_real_course_passes_the_check():
    assert check_course(ROOT / "content") == []


class ElementCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def test_hostile_markdown_is_rendered_inert():
    rendered = render_markdown((FIXTURES / "hostile.md").read_text())
    collector = ElementCollector()
    collector.feed(str(rendered.html))
    tags = {tag for tag, _ in collector.elements}
    assert not tags & {"script", "iframe", "img", "svg", "form", "input", "div", "style"}
    for tag, attrs in collector.elements:
        assert not [name for name in attrs if name.startswith("on") or name == "style"], tag
        href = (attrs.get("href") or "").replace("\t", "").lower()
        assert not href.startswith(("javascript", "jav")), href
    hrefs = [attrs.get("href") for tag, attrs in collector.elements if tag == "a"]
    assert "/modules/client-centricity" in hrefs
    assert "https://example.org/" in hrefs
    assert "document.title" not in str(rendered.html)
    assert [section.id for section in rendered.sections] == ["safe", "second"]


def test_tables_scroll_inside_a_focusable_box():
    html = str(render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n").html)
    assert html.startswith('<div class="table-scroll" tabindex="0"><table>')
    assert html.rstrip().endswith("</table></div>")


def test_reading_time_counts_words():
    assert render_markdown("word " * 180).reading_minutes == 1
    assert render_markdown("word " * 181).reading_minutes == 2
    assert render_markdown("").reading_minutes == 1


def test_a_valid_fixture_course_loads_in_order(course_dir):
    course = load_course(course_dir)
    assert [module.slug for module in course.modules] == ["first", "second", "third"]
    second = course.module("second")
    assert course.neighbours(second) == (course.module("first"), course.module("third"))
    assert course.neighbours(course.module("first"))[0] is None


def test_changing_a_module_changes_only_its_version(course_dir):
    before = {m.slug: m.content_hash for m in load_course(course_dir).modules}
    path = course_dir / "modules" / "02-second" / "index.en.md"
    path.write_text(path.read_text() + "\nOne more sentence.\n")
    after = {m.slug: m.content_hash for m in load_course(course_dir).modules}
    assert after["second"] != before["second"]
    assert after["first"] == before["first"]


def test_missing_language_is_reported_with_the_file(course_dir):
    (course_dir / "modules" / "02-second" / "index.en.md").unlink()
    problems = messages(course_dir)
    assert any("02-second/index.en.md" in p and "missing" in p for p in problems), problems


def test_unknown_competency_is_reported_with_file_and_line(course_dir):
    directory = course_dir / "modules" / "04-fourth"
    write_module(course_dir, 4, "fourth", competencies="[client-understanding, mind-reading]")
    problems = messages(course_dir)
    expected = f"{directory / 'index.ru.md'}:5: unknown competency 'mind-reading'"
    assert expected in problems, problems


def test_bad_front_matter_is_reported(course_dir):
    path = course_dir / "modules" / "01-first" / "index.ru.md"
    path.write_text("---\ntitle: [unclosed\n---\nBody\n")
    problems = messages(course_dir)
    assert any(p.startswith(f"{path}:") and "invalid front matter" in p for p in problems)


def test_missing_and_unknown_keys_are_reported(course_dir):
    write_module(course_dir, 4, "fourth", summary=None, colour="red")
    problems = messages(course_dir)
    assert any("04-fourth/index.ru.md" in p and "'summary' is missing" in p for p in problems)
    assert any("04-fourth/index.ru.md:" in p and "unknown front matter key 'colour'" in p
               for p in problems)  # fmt: skip


def test_dead_memo_file_is_reported(course_dir):
    (course_dir / "modules" / "03-third" / "memos" / "card.en.md").unlink()
    problems = messages(course_dir)
    assert any("03-third/index.en.md" in p and "memos/card.en.md" in p for p in problems)


def test_memo_path_cannot_leave_the_module_folder(course_dir):
    memos = "\n  - id: card\n    title: Card\n    file: ../../../competencies.yaml"
    write_module(course_dir, 4, "fourth", memos=memos)
    assert any("does not exist" in p for p in messages(course_dir))


def test_sections_must_match_between_languages(course_dir):
    write_module(course_dir, 4, "fourth", bodies={"en": "## Only one {#first}\n"})
    problems = messages(course_dir)
    assert any("04-fourth/index.en.md" in p and "section ids" in p for p in problems)


def test_framework_problems_are_reported_with_the_file(course_dir):
    path = course_dir / "competencies.yaml"
    path.write_text(COMPETENCIES.replace("      4: {ru: [Делает.], en: [Does.]}\n", ""))
    problems = messages(course_dir)
    assert any(p.startswith(f"{path}:") and "levels must be 1, 2, 3 and 4" in p for p in problems)


def test_framework_needs_both_languages(course_dir):
    path = course_dir / "competencies.yaml"
    path.write_text(COMPETENCIES.replace("en: Understanding the client", "de: Kunde"))
    assert any("name and summary need ru and en" in p for p in messages(course_dir))


@pytest.mark.parametrize(
    ("link", "complaint"),
    [
        ("/modules/no-such-module", "points to no module"),
        ("/modules/second#nowhere", "points to no section of that module"),
        ("#nowhere", "points to no section on this page"),
        ("relative/path", "neither a course link nor a web address"),
    ],
)
def test_dead_links_are_reported_with_file_and_line(course_dir, link, complaint):
    body = f"Intro.\n\n## First {{#first}}\n\nSee [there]({link}).\n\n## Second {{#second}}\n"
    path = write_module(course_dir, 4, "fourth", bodies={"ru": body, "en": body}) / "index.ru.md"
    line = path.read_text().splitlines().index(f"See [there]({link}).") + 1
    expected = f"{path}:{line}: link {link}"
    assert any(p.startswith(expected) and complaint in p for p in messages(course_dir))


def test_links_that_resolve_pass(course_dir):
    body = (
        "## First {#first}\n\n[a](/modules/second#second) [b](#first) [c](https://example.org/)\n"
    )
    body += "\n## Second {#second}\n"
    write_module(course_dir, 4, "fourth", bodies={"ru": body, "en": body})
    assert messages(course_dir) == []


def test_memo_without_a_title_is_reported(course_dir):
    memo = course_dir / "modules/02-second/memos/card.ru.md"
    memo.write_text("No heading here.\n")
    assert f"{memo}:1: a memo starts with its title as a '# ' heading" in messages(course_dir)


def test_loading_a_broken_course_raises_with_every_problem(course_dir):
    (course_dir / "modules" / "01-first" / "index.en.md").unlink()
    (course_dir / "modules" / "02-second" / "index.ru.md").unlink()
    with pytest.raises(ContentError) as error:
        load_course(course_dir)
    assert len(error.value.problems) == 2


def test_content_check_command_fails_naming_the_file(app, runner, course_dir):
    (course_dir / "modules" / "02-second" / "index.en.md").unlink()
    app.config.update(CONTENT_DIR=str(course_dir), QUIZ_DIR=str(course_dir.parent / "quizzes"))
    result = runner.invoke(args=["content", "check"])
    assert result.exit_code != 0
    assert "02-second/index.en.md" in result.output


def test_content_check_command_passes_on_the_real_course(runner):
    result = runner.invoke(args=["content", "check"])
    assert result.exit_code == 0, result.output
    assert "content OK" in result.output


@pytest.mark.parametrize(
    ("locale", "title", "contents"),
    [("ru", "Клиентоцентричность в службе занятости", "Содержание"),
     ("en", "Client-centricity in the employment service", "Contents")],
)  # fmt: skip
def test_module_page_renders_in_both_languages(auth, make, client, locale, title, contents):
    make.user("anna@example.test", locale=locale)
    auth.login("anna@example.test")
    page = client.get("/modules/client-centricity").get_data(as_text=True)
    assert f'lang="{locale}"' in page
    assert f">{title}</h1>" in page
    assert contents in page
    for section in ("what-it-means", "changing-mission", "two-client-groups", "summary"):
        assert f'href="#{section}"' in page
        assert f'id="{section}"' in page
    assert 'href="#top"' in page
    assert "/modules/client-centricity/memos/client-groups" in page


def test_module_page_links_to_its_neighbours(app, auth, make, client, course_dir):
    app.config.update(CONTENT_DIR=str(course_dir), QUIZ_DIR=str(course_dir.parent / "quizzes"))
    app.extensions.pop("lms_course", None)
    make.user("anna@example.test", locale="en")
    auth.login("anna@example.test")
    page = client.get("/modules/second").get_data(as_text=True)
    assert 'rel="prev" href="/modules/first"' in page
    assert 'rel="next" href="/modules/third"' in page
    first = client.get("/modules/first").get_data(as_text=True)
    assert 'rel="prev"' not in first
    assert "Module 1 of 3" in first


def test_catalog_lists_modules_with_reading_time(auth, make, client):
    make.user("anna@example.test", locale="ru")
    auth.login("anna@example.test")
    page = client.get("/modules").get_data(as_text=True)
    assert "/modules/client-centricity" in page
    assert "минут" in page


def test_memo_is_a_printable_page(auth, make, client):
    make.user("anna@example.test", locale="ru")
    auth.login("anna@example.test")
    response = client.get("/modules/client-centricity/memos/client-groups")
    assert response.status_code == 200
    assert "684н" in response.get_data(as_text=True)
    assert client.get("/modules/client-centricity/memos/nope").status_code == 404


def test_unknown_module_is_404(auth, make, client):
    make.user("anna@example.test")
    auth.login("anna@example.test")
    assert client.get("/modules/no-such-module").status_code == 404
