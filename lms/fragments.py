"""Rendered fragments shared by everyone who would see the same HTML.

The site header, say, is the same for every employee reading in Russian, but for their name,
their CSRF token and the address the language switch returns to. Rendering it anew took a
third of a page's time. A fragment is rendered once per ``key`` (everything else it depends
on) with a marker in place of each person's own value (a *slot*), kept in this process, and
filled in for each request, escaped as the template would have escaped it.

The key names every input but the slots, so an entry is never stale: a change of content,
language, role or unread count is another key. Nothing is shared between processes, and
nothing needs invalidating; the oldest entries go first beyond ``LIMIT``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from flask import current_app, render_template
from markupsafe import Markup, escape

from lms.cache import MemoryCache

EXTENSION = "lms.fragments"
LIMIT = 4096
SECONDS = 24 * 3600
_SLOT = re.compile("\x00([a-z_]+)\x00")


def slot(name: str) -> Markup:
    """The marker a template renders where a slot's value goes."""
    return Markup(f"\x00{name}\x00")  # noqa: S704  (a constant marker, never user text)


def render_shared(
    template: str,
    key: list[Any],
    slots: Mapping[str, str | Markup],
    **context: Any,
) -> Markup:
    """``template`` rendered with ``context``, from the process's store when an earlier
    request had the same ``key``; each name in ``slots`` is passed to the template as its
    marker, and its value (escaped unless it is Markup) is put in its place afterwards."""
    store = _store()
    digest = hashlib.sha256(json.dumps([template, *key], default=str).encode()).hexdigest()
    html = store.get(digest)
    if html is None:
        markers: dict[str, Any] = {name: slot(name) for name in slots}
        if "csrf_token" in slots:
            markers["csrf_token"] = _marker_call("csrf_token")
        html = render_template(template, **context, **markers)
        store.set(digest, html, SECONDS)
    return fill(html, slots)


def fill(html: str, values: Mapping[str, str | Markup]) -> Markup:
    """``html`` (our own template's output) with each slot's value put in its marker's
    place, escaped unless it is Markup. One pass: a value put in is never read again,
    whatever it contains; a marker with no value here is left as it is."""
    escaped = {name: str(escape(value)) for name, value in values.items()}
    return Markup(  # noqa: S704
        _SLOT.sub(lambda found: escaped.get(found.group(1), found.group(0)), html)
    )


def _marker_call(name: str) -> Callable[[], Markup]:
    return lambda: slot(name)


def _store() -> MemoryCache:
    store = current_app.extensions.get(EXTENSION)
    if store is None:
        store = current_app.extensions[EXTENSION] = MemoryCache(limit=LIMIT)
    return store
