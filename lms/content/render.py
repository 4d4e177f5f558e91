"""Markdown to safe HTML: one function renders and sanitises every piece of content."""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass

import markdown
import nh3
from markdown.extensions.toc import slugify_unicode
from markupsafe import Markup

WORDS_PER_MINUTE = 180
SECTION_START = re.compile(r'<h2 id="(?=[^"]+")')

ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "dd", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "hr", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "th": {"align", "scope"},
    "td": {"align"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}
MARKDOWN_EXTENSIONS = ["attr_list", "tables", "sane_lists", "smarty", "toc"]
MARKDOWN_CONFIG = {
    "toc": {"toc_depth": "2-3", "slugify": slugify_unicode},
    "smarty": {"smart_quotes": False},
}


@dataclass(frozen=True)
class Heading:
    id: str
    title: str


@dataclass(frozen=True)
class Part:
    """The body cut at its level-2 headings: the introduction (no section), then each section."""

    section: Heading | None
    html: Markup


@dataclass(frozen=True)
class Rendered:
    html: Markup
    sections: tuple[Heading, ...]
    words: int

    @property
    def parts(self) -> tuple[Part, ...]:
        pieces = SECTION_START.split(str(self.html))
        intro, rest = pieces[0], pieces[1:]
        parts = [Part(None, Markup(intro))] if intro.strip() else []  # noqa: S704 - sanitised
        by_id = {section.id: section for section in self.sections}
        for piece in rest:
            section_id = piece.split('"', 1)[0]
            parts.append(Part(by_id.get(section_id), Markup('<h2 id="' + piece)))  # noqa: S704
        return tuple(parts)

    @property
    def reading_minutes(self) -> int:
        return max(1, math.ceil(self.words / WORDS_PER_MINUTE))


def sanitise(raw_html: str) -> Markup:
    cleaned = nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )
    return Markup(cleaned)  # noqa: S704 - nh3 has just removed everything unsafe


def wrap_tables(safe_html: str) -> Markup:
    """Put each table in a focusable box that scrolls sideways on a narrow phone screen."""
    wrapped = str(safe_html).replace("<table>", '<div class="table-scroll" tabindex="0"><table>')
    return Markup(wrapped.replace("</table>", "</table></div>"))  # noqa: S704 - already sanitised


def render_markdown(text: str) -> Rendered:
    """Render markdown, sanitise the HTML, and list the level-2 sections for a table of contents."""
    converter = markdown.Markdown(extensions=MARKDOWN_EXTENSIONS, extension_configs=MARKDOWN_CONFIG)
    safe = wrap_tables(sanitise(converter.convert(text)))
    sections = tuple(
        Heading(id=token["id"], title=html.unescape(token["name"]))
        for token in converter.toc_tokens
        if token["level"] == 2
    )
    plain = re.sub(r"<[^>]+>", " ", str(safe))
    return Rendered(html=safe, sections=sections, words=len(re.findall(r"\w+", plain)))
