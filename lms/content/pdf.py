"""Memos as PDF, made with WeasyPrint and cached per content version (never committed)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import current_app, render_template

from lms.content.loader import Course, Memo, Module

# Bump when the PDF layout (template or styles) changes, so cached files are made anew.
LAYOUT_VERSION = "3"


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the system libraries it needs (Pango) are missing."""


def memo_pdf(course: Course, module: Module, memo: Memo, locale: str) -> Path:
    """The memo's PDF file, made on first request for this content version and kept."""
    cache_dir = (
        Path(current_app.config["PDF_CACHE_DIR"]) / f"{module.content_hash[:20]}-{LAYOUT_VERSION}"
    )
    path = cache_dir / f"{module.slug}-{memo.id}.{locale}.pdf"
    if path.exists():
        return path
    html = render_template(
        "learn/memo_pdf.html",
        module=module,
        text=module.text(locale),
        memo=memo,
        rendered=course.render_memo(module, memo),
        locale=locale,
    )
    data = render_pdf(html)
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed, so a parallel request never reads half a file.
    handle, temporary = tempfile.mkstemp(dir=cache_dir, suffix=".part")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(temporary, path)
    return path


def render_pdf(html: str) -> bytes:
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as error:  # OSError: Pango is not installed
        raise PdfUnavailable(str(error)) from error
    return HTML(string=html, url_fetcher=_refuse_fetch).write_pdf()


def _refuse_fetch(url: str, *args: object, **kwargs: object) -> dict[str, object]:
    """Memos are self-contained: nothing is fetched while rendering, from anywhere."""
    raise ValueError(f"memo PDFs load no external resources ({url})")
