"""Problems found in the content, each with the file and line it comes from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lms.config import SUPPORTED_LOCALES

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ContentError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


def line_of(source: str, needle: str, after: int = 0) -> int:
    for number, line in enumerate(source.splitlines(), start=1):
        if number > after and needle in line:
            return number
    return max(after, 1)


def yaml_line(error: yaml.YAMLError) -> int:
    mark = getattr(error, "problem_mark", None)
    return mark.line + 1 if mark is not None else 1


def bilingual(value: Any) -> dict[str, str] | None:
    """``{ru: text, en: text}`` with non-empty text in every language, else ``None``."""
    if not isinstance(value, dict):
        return None
    if any(
        not isinstance(value.get(loc), str) or not value[loc].strip() for loc in SUPPORTED_LOCALES
    ):
        return None
    return {locale: value[locale].strip() for locale in SUPPORTED_LOCALES}
