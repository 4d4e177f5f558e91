"""The whole course: every module in both languages, memos as PDF, progress, competencies."""

import io
import re
from pathlib import Path

import pytest
from markupsafe import escape
from pypdf import PdfReader
from sqlalchemy import func, select

from lms.content import get_course, load_course
from lms.extensions import db
from lms.models import MemoDownload, TaskCompletion
from lms.services.publishing import publish_course
from tests.conftest import ROOT

COURSE = load_course(ROOT / "content")
SLUGS = [module.slug for module in COURSE.modules]
MEMOS = [
    (module.slug, memo.id, locale)
    for module in COURSE.modules
    for locale, text in module.texts.items()
    for memo in text.memos
]
CYRILLIC = re.compile(r"[А-Яа-яЁё]{4,}")


@pytest.fixture
def reader(auth, make, published):
    def sign_in(email: str = "reader@example.test", locale: str = "ru"):
        person = make.user(email, locale=locale)
        auth.login(email)
        return person

    return sign_in


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_course_has_its_modules_in_order():
    assert [module.order for module in COURSE.modules] == list(range(1, len(SLUGS) + 1))
    assert SLUGS[0] == "client-centricity"


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("locale", ["ru", "en"])
def test_every_module_renders_in_both_languages(client, reader, slug, locale):
    reader(locale=locale)
    response = client.get(f"/modules/{slug}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    module = COURSE.module(slug)
    rendered = COURSE.render(module, locale)
    assert f'lang="{locale}"' in page
    assert 4 <= len(rendered.sections) <= 7
    assert 10 <= rendered.reading_minutes <= 20, rendered.reading_minutes
    for section in rendered.sections:
        assert f'href="#{section.id}"' in page
    for task in module.text(locale).tasks:
        assert str(escape(task.title)) in page


@pytest.mark.parametrize(("slug", "memo_id", "locale"), MEMOS)
def test_every_memo_downloads_as_a_pdf_with_its_text(client, reader, slug, memo_id, locale):
    reader(locale=locale)
    response = client.get(f"/modules/{slug}/memos/{memo_id}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    title = COURSE.module(slug).text(locale).memo(memo_id).read().splitlines()[0].lstrip("# ")
    assert title.split()[0] in text
    if locale == "ru":
        assert CYRILLIC.search(text), "no Cyrillic text in the Russian memo PDF"


@pytest.mark.parametrize(("slug", "memo_id", "locale"), MEMOS[:2])
def test_every_memo_has_a_printable_page(client, reader, slug, memo_id, locale):
    reader(locale=locale)
    page = client.get(f"/modules/{slug}/memos/{memo_id}").get_data(as_text=True)
    assert f"/modules/{slug}/memos/{memo_id}.pdf" in page
    assert "@media print" in (ROOT / "lms/static/app.css").read_text()


def test_memo_pdf_is_made_once_per_content_version(app, client, reader):
    reader()
    client.get("/modules/client-centricity/memos/client-groups.pdf")
    cached = list(Path(app.config["PDF_CACHE_DIR"]).rglob("client-centricity-client-groups.ru.pdf"))
    assert len(cached) == 1
    made_at = cached[0].stat().st_mtime_ns
    client.get("/modules/client-centricity/memos/client-groups.pdf")
    assert cached[0].stat().st_mtime_ns == made_at


def test_downloading_the_memo_marks_the_task_for_that_person_only(client, reader, make):
    other = make.user("colleague@example.test")
    person = reader()
    before = client.get("/modules/client-centricity").get_data(as_text=True)
    assert before.count('class="is-done"') == 0

    client.get("/modules/client-centricity/memos/client-groups.pdf")
    client.get("/modules/client-centricity/memos/client-groups.pdf")

    done = db.session.scalars(select(TaskCompletion)).all()
    assert [(row.user_id, row.task_id) for row in done] == [(person.id, "download-memo")]
    assert done[0].content_version_id is not None
    downloads = db.session.scalar(select(func.count(MemoDownload.id)))
    assert downloads == 2
    assert not db.session.scalars(select(TaskCompletion).filter_by(user_id=other.id)).all()
    after = client.get("/modules/client-centricity").get_data(as_text=True)
    assert after.count('class="is-done"') == 1


def test_course_outline_shows_progress_per_module(client, reader):
    reader()
    outline = client.get("/modules").get_data(as_text=True)
    assert outline.count("Не начат") == len(SLUGS)
    client.get("/modules/client-centricity/memos/client-groups.pdf")
    outline = client.get("/modules").get_data(as_text=True)
    assert "В процессе" in outline
    assert outline.count("Не начат") == len(SLUGS) - 1
    assert f'max="{len(SLUGS)}"' in outline


def test_unknown_memo_pdf_is_404(client, reader):
    reader()
    assert client.get("/modules/client-centricity/memos/nothing.pdf").status_code == 404
    assert client.get("/modules/nothing/memos/client-groups.pdf").status_code == 404


def test_memo_pdf_needs_a_sign_in(client, published):
    response = client.get("/modules/client-centricity/memos/client-groups.pdf")
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(MemoDownload.id))) == 0


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_competency_framework_page(client, reader, locale):
    reader(locale=locale)
    page = client.get("/competencies").get_data(as_text=True)
    for competency in COURSE.competencies.values():
        assert f'id="{competency.id}"' in page
        assert str(escape(competency.names[locale])) in page
        for module in COURSE.modules_building(competency.id):
            assert f'href="/modules/{module.slug}"' in page
    assert 5 <= len(COURSE.competencies) <= 8


def test_every_competency_is_built_by_some_module():
    for competency_id in COURSE.competencies:
        assert COURSE.modules_building(competency_id), competency_id


def test_records_keep_the_version_they_were_earned_on(app, client, reader, tmp_path):
    import shutil

    reader()
    client.get("/modules/client-centricity/memos/client-groups.pdf")
    first = db.session.scalars(select(TaskCompletion)).one().content_version_id

    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    page = content / "modules/01-client-centricity/index.ru.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nНовая строка.\n", encoding="utf-8")
    app.config["CONTENT_DIR"] = str(content)
    app.extensions.pop("lms_course", None)
    publish_course(get_course())
    db.session.commit()

    client.get("/modules/client-centricity/memos/client-groups.pdf")
    completion = db.session.scalars(select(TaskCompletion)).one()
    assert completion.content_version_id == first
    versions = db.session.scalars(select(MemoDownload.content_version_id)).all()
    assert len(set(versions)) == 2


def test_without_pango_the_pdf_is_503_and_nothing_is_recorded(client, reader, monkeypatch):
    from lms.content import pdf

    def no_pango(html: str) -> bytes:
        raise pdf.PdfUnavailable("cannot load library 'libpango-1.0-0'")

    monkeypatch.setattr(pdf, "render_pdf", no_pango)
    reader()
    assert client.get("/modules/client-centricity/memos/client-groups.pdf").status_code == 503
    assert db.session.scalar(select(func.count(MemoDownload.id))) == 0
    assert client.get("/modules/client-centricity/memos/client-groups").status_code == 200


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/modules", "/modules"),
        ("/modules/client-centricity/quiz", "/modules"),
        ("/competencies", "/me/competencies"),
        ("/me/competencies", "/me/competencies"),
        ("/me/goals", "/me/goals"),
        ("/me/goals/new", "/me/goals"),
        ("/me", "/me"),
        ("/me/notifications", "/me/notifications"),
    ],
)
def test_the_main_menu_leads_everywhere_and_marks_where_you_are(client, reader, path, current):
    """A person without a team has no recognition wall in the menu, and no staff pages."""
    reader()
    page = client.get(path).get_data(as_text=True)
    menu = page.split('class="container main-nav"', 1)[1].split("</ul>", 1)[0]
    links = re.findall(r'<a href="([^"]+)"', menu)
    assert links == ["/", "/modules", "/me/competencies", "/me/goals", "/me", "/me/notifications"]
    assert re.findall(r'<a href="([^"]+)" aria-current="page"', menu) == [current]
