"""Every interface string has its Russian translation."""

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tests.conftest import ROOT

METHOD_MAP = [
    ("**.py", "python"),
    ("templates/**.html", "jinja2"),
    ("templates/**.txt", "jinja2"),
]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def test_every_interface_string_is_translated_to_russian():
    with (ROOT / "lms/translations/ru/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="ru")
    missing = []
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT / "lms"), METHOD_MAP, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        entry = catalog.get(msgid)
        translated = entry and (
            all(entry.string) if isinstance(entry.string, tuple) else entry.string
        )
        if not translated:
            missing.append(f"{filename}: {msgid}")
    assert missing == []
