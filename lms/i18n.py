"""Interface languages: which one a request uses, and the message catalogs.

Catalogs are read straight from the ``.po`` files at start-up, so compiled ``.mo`` files
never need to be built or committed.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import has_request_context, request, session
from flask_babel import Domain, get_locale
from flask_login import current_user

from lms.config import SUPPORTED_LOCALES

TRANSLATIONS_DIR = Path(__file__).parent / "translations"


class PoDomain(Domain):
    """A message domain whose catalogs are compiled in memory from the ``.po`` files."""

    def __init__(self, directory: Path = TRANSLATIONS_DIR) -> None:
        super().__init__(domain="messages")
        self._catalogs: dict[str, Translations] = {}
        for locale in SUPPORTED_LOCALES:
            po_path = directory / locale / "LC_MESSAGES" / "messages.po"
            if po_path.exists():
                self._catalogs[locale] = _compile(po_path, locale)

    def get_translations(self) -> Translations | NullTranslations:
        locale = get_locale()
        return self._catalogs.get(str(locale)) or NullTranslations()


def _compile(po_path: Path, locale: str) -> Translations:
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain="messages")


def select_locale() -> str:
    """The person's saved choice, then this session's choice, then the browser's; outside a
    request (the CLI, the demo) the primary language."""
    if not has_request_context():
        return SUPPORTED_LOCALES[0]
    if current_user.is_authenticated and current_user.locale in SUPPORTED_LOCALES:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in SUPPORTED_LOCALES:
        return chosen
    return request.accept_languages.best_match(SUPPORTED_LOCALES) or SUPPORTED_LOCALES[0]


def current_locale() -> str:
    return str(get_locale() or SUPPORTED_LOCALES[0])


def role_label(role: str) -> str:
    """A role's name in the interface language."""
    from flask_babel import gettext as _

    labels = {
        "employee": _("Employee"),
        "manager": _("Manager"),
        "hr": _("HR"),
        "admin": _("Administrator"),
    }
    return labels.get(str(role), str(role))
