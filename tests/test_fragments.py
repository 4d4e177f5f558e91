"""Shared fragments (lms/fragments.py): the site header and a module's content are rendered
once for everyone who sees the same HTML, and each person's own values (name, CSRF token,
return address) are filled in, escaped, for each request. An entry never shows anyone
something of someone else's, and a change of progress, role or unread count shows at once."""

from __future__ import annotations

import re

from markupsafe import Markup

from lms import fragments
from lms.content import get_course
from lms.extensions import db
from lms.fragments import render_shared
from lms.models import NotificationKind, Role, User
from lms.services import notifications, progress
from tests.conftest import CSRF_PATTERN
from tests.test_report_cache import signed_in

FIRST = "client-centricity"
READ_MARK = "section-read is-read"


HEADER = {
    "signed_in": True,
    "endpoint": "",
    "current_locale": "ru",
    "supported_locales": ("ru", "en"),
    "in_a_team": False,
    "sees_teams": False,
    "sees_reports": False,
    "is_admin": False,
    "unread_notifications": 0,
}


def test_slots_are_escaped_and_never_read_twice(app):
    with app.test_request_context("/"):
        html = render_shared(
            "_header.html",
            ["test", 1],
            {"who": '<script>alert("x")</script>\x00back\x00', "back": "/a?b=1&c=2"},
            **HEADER,
        )
    assert isinstance(html, Markup)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert 'value="/a?b=1&amp;c=2"' in html
    # The marker-like text in the name stays as it was: nothing is put in a second time.
    assert "&lt;/script&gt;\x00back\x00" in html


def test_a_fragment_is_rendered_once_per_key(app, monkeypatch):
    rendered = []

    def counting(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        rendered.append(args[0])
        return real(*args, **kwargs)

    real = fragments.render_template
    monkeypatch.setattr(fragments, "render_template", counting)
    with app.test_request_context("/"):
        first = render_shared("_header.html", ["a"], {"who": "Anna", "back": "/"}, **HEADER)
        second = render_shared("_header.html", ["a"], {"who": "Boris", "back": "/"}, **HEADER)
        other = render_shared("_header.html", ["b"], {"who": "Vera", "back": "/"}, **HEADER)
    assert len(rendered) == 2
    assert "Anna" in first
    assert "Anna" not in second
    assert "Boris" in second
    assert "Vera" in other


def test_each_reader_sees_their_own_progress_and_token(app, make, published):
    anna = make.user("anna@example.test", locale="ru")
    make.user("boris@example.test", locale="ru")
    course = get_course()
    module = course.module(FIRST)
    assert module is not None
    first_section = progress.section_ids(course, module)[0]
    progress.mark_section_read(db.session.get(User, anna.id), course, module, first_section)
    db.session.commit()

    pages = {}
    for email in ("anna@example.test", "boris@example.test", "boris@example.test"):
        client = signed_in(app, email)
        html = client.get(f"/modules/{FIRST}").get_data(as_text=True)
        tokens = set(CSRF_PATTERN.findall(html))
        assert len(tokens) == 1, "one token per page, this browser's"
        assert "\x00" not in html
        pages.setdefault(email, []).append((html, client, tokens.pop()))
    anna_html = pages["anna@example.test"][0][0]
    boris_html, boris, boris_token = pages["boris@example.test"][1]
    assert READ_MARK in anna_html
    assert READ_MARK not in boris_html
    assert "anna@example.test" not in boris_html
    assert pages["boris@example.test"][0][2] != boris_token  # two browsers, two tokens
    # The token on the shared page works for this browser, and the change shows at once.
    response = boris.post(
        f"/modules/{FIRST}/sections/{first_section}/read", data={"csrf_token": boris_token}
    )
    assert response.status_code == 302
    assert READ_MARK in boris.get(f"/modules/{FIRST}").get_data(as_text=True)


def test_the_header_is_each_persons_own(app, make, published):
    make.user("anna@example.test", locale="en")
    hostile = make.user("boris@example.test", locale="en")
    hostile.full_name = "<b>Boris</b> & Co"
    db.session.commit()
    anna = signed_in(app, "anna@example.test")
    boris = signed_in(app, "boris@example.test")
    assert "Person 1" in anna.get("/me").get_data(as_text=True)
    html = boris.get("/me?tab=1&x=<i>").get_data(as_text=True)
    assert "&lt;b&gt;Boris&lt;/b&gt; &amp; Co" in html
    assert "<b>Boris</b>" not in html
    assert "Person 1" not in html
    assert 'name="next" value="/me?tab=1&amp;x=&lt;i&gt;"' in html
    assert re.search(r'class="count-badge"', html) is None
    # An unread notification and a new role change the header at once.
    user = db.session.get(User, hostile.id)
    assert user is not None
    notifications.notify([user], NotificationKind.REMINDER)
    user.grant(Role.ADMIN)
    db.session.commit()
    html = boris.get("/me").get_data(as_text=True)
    assert 'class="count-badge"' in html
    assert 'href="/admin"' in html
    assert 'href="/admin"' not in anna.get("/me").get_data(as_text=True)
