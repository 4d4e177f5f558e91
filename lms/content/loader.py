"""Loading the course from ``content/``: modules, their memos and the competency framework.

Everything is validated on load. Problems are collected with the file and line they come
from, so that ``lms content check`` can list them all at once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lms.config import SUPPORTED_LOCALES
from lms.content.problems import ID_PATTERN, ContentError, Problem, bilingual, line_of, yaml_line
from lms.content.quizzes import QuizBank, load_quiz_banks
from lms.content.render import Rendered, render_markdown

MODULE_DIR_PATTERN = re.compile(r"^(?P<order>\d{2})-(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)$")
FRONT_MATTER_KEYS = {"title", "summary", "order", "competencies", "tasks", "memos"}
TASK_KINDS = {"read", "memo", "quiz", "goal"}


@dataclass(frozen=True)
class Task:
    id: str
    kind: str
    title: str
    memo: str | None = None


@dataclass(frozen=True)
class Memo:
    id: str
    title: str
    path: Path

    def read(self) -> str:
        return self.path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class ModuleText:
    """One language version of a module."""

    locale: str
    path: Path
    title: str
    summary: str
    body: str
    body_line: int
    tasks: tuple[Task, ...]
    memos: tuple[Memo, ...]

    def memo(self, memo_id: str) -> Memo | None:
        return next((memo for memo in self.memos if memo.id == memo_id), None)


@dataclass(frozen=True)
class Module:
    slug: str
    order: int
    directory: Path
    competencies: tuple[str, ...]
    texts: dict[str, ModuleText]
    content_hash: str

    def text(self, locale: str) -> ModuleText:
        return self.texts.get(locale) or self.texts[SUPPORTED_LOCALES[0]]


@dataclass(frozen=True)
class Level:
    level: int
    names: dict[str, str]
    descriptions: dict[str, str]


@dataclass(frozen=True)
class Competency:
    id: str
    names: dict[str, str]
    summaries: dict[str, str]
    indicators: dict[int, dict[str, tuple[str, ...]]]


@dataclass(frozen=True)
class Framework:
    """The competency framework: levels 1 to 4 and the competencies, in both languages."""

    levels: tuple[Level, ...]
    competencies: dict[str, Competency]


@dataclass
class Course:
    modules: tuple[Module, ...]
    framework: Framework
    quizzes: dict[str, QuizBank] = field(default_factory=dict)
    _rendered: dict[tuple[str, str, str], Rendered] = field(default_factory=dict, repr=False)

    @property
    def competencies(self) -> dict[str, Competency]:
        return self.framework.competencies

    def modules_building(self, competency_id: str) -> tuple[Module, ...]:
        return tuple(m for m in self.modules if competency_id in m.competencies)

    def module(self, slug: str) -> Module | None:
        return next((module for module in self.modules if module.slug == slug), None)

    def neighbours(self, module: Module) -> tuple[Module | None, Module | None]:
        index = self.modules.index(module)
        previous = self.modules[index - 1] if index > 0 else None
        following = self.modules[index + 1] if index + 1 < len(self.modules) else None
        return previous, following

    def render(self, module: Module, locale: str) -> Rendered:
        """The module's body as safe HTML; rendered once per content version and language."""
        text = module.text(locale)
        key = (module.slug, module.content_hash, text.locale)
        rendered = self._rendered.get(key)
        if rendered is None:
            rendered = self._rendered[key] = render_markdown(text.body)
        return rendered

    def render_memo(self, module: Module, memo: Memo) -> Rendered:
        key = (module.slug, module.content_hash, str(memo.path))
        rendered = self._rendered.get(key)
        if rendered is None:
            rendered = self._rendered[key] = render_markdown(memo.read())
        return rendered


def load_course(root: Path | str, quiz_dir: Path | str | None = None) -> Course:
    """Load and validate the whole course; raise ``ContentError`` listing every problem.

    Quiz banks are read from ``quiz_dir`` (by default ``quizzes/`` beside the content folder)
    when that folder exists.
    """
    course, problems = _load(Path(root), quiz_dir)
    if problems:
        raise ContentError(problems)
    return course


def check_course(root: Path | str, quiz_dir: Path | str | None = None) -> list[Problem]:
    """Every problem in the course, with file and line; an empty list means all is well."""
    course, problems = _load(Path(root), quiz_dir)
    problems.extend(_check_rendered(course))
    return problems


def _load(root: Path, quiz_dir: Path | str | None) -> tuple[Course, list[Problem]]:
    problems: list[Problem] = []
    quizzes = Path(quiz_dir) if quiz_dir is not None else root.parent / "quizzes"
    framework = _load_framework(root / "competencies.yaml", problems)
    competencies = framework.competencies
    modules: list[Module] = []
    modules_dir = root / "modules"
    if not modules_dir.is_dir():
        problems.append(Problem(modules_dir, 0, "the modules folder is missing"))
    else:
        for directory in sorted(path for path in modules_dir.iterdir() if path.is_dir()):
            module = _load_module(directory, competencies, quizzes, problems)
            if module is not None:
                modules.append(module)
    _check_orders(modules, problems)
    modules.sort(key=lambda module: module.order)
    banks = {}
    if quizzes.is_dir():
        banks = load_quiz_banks(quizzes, {m.slug: set(m.competencies) for m in modules}, problems)
    return Course(modules=tuple(modules), framework=framework, quizzes=banks), problems


def _check_orders(modules: list[Module], problems: list[Problem]) -> None:
    seen: dict[int, Module] = {}
    for module in modules:
        if module.order in seen:
            other = seen[module.order].slug
            path = module.text(SUPPORTED_LOCALES[0]).path
            problems.append(Problem(path, 1, f"order {module.order} is also used by {other}"))
        seen[module.order] = module


LEVELS = (1, 2, 3, 4)


def _load_framework(path: Path, problems: list[Problem]) -> Framework:
    empty = Framework(levels=(), competencies={})
    if not path.exists():
        problems.append(Problem(path, 0, "the competency framework file is missing"))
        return empty
    source = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as error:
        problems.append(Problem(path, yaml_line(error), f"invalid YAML: {error}"))
        return empty
    if not isinstance(data, dict):
        problems.append(Problem(path, 1, "expected 'levels' and 'competencies'"))
        return empty
    levels = _parse_levels(path, source, data.get("levels"), problems)
    items = data.get("competencies")
    if not isinstance(items, list) or not items:
        problems.append(Problem(path, 1, "expected a non-empty list under 'competencies'"))
        return Framework(levels=levels, competencies={})
    competencies: dict[str, Competency] = {}
    for item in items:
        competency = _parse_competency(path, source, item, problems)
        if competency is None:
            continue
        if competency.id in competencies:
            line = line_of(source, f"id: {competency.id}")
            problems.append(Problem(path, line, f"competency id {competency.id} is used twice"))
        competencies[competency.id] = competency
    return Framework(levels=levels, competencies=competencies)


def _parse_levels(path: Path, source: str, raw: Any, problems: list[Problem]) -> tuple[Level, ...]:
    line = line_of(source, "levels:")
    if not isinstance(raw, list) or [
        i.get("level") if isinstance(i, dict) else None for i in raw
    ] != list(LEVELS):
        problems.append(Problem(path, line, "'levels' must list levels 1, 2, 3 and 4 in order"))
        return ()
    levels = []
    for item in raw:
        names, descriptions = bilingual(item.get("name")), bilingual(item.get("description"))
        if names is None or descriptions is None:
            level_line = line_of(source, f"level: {item['level']}", after=line)
            problems.append(
                Problem(
                    path,
                    level_line,
                    f"level {item['level']} needs a name and a description in ru and en",
                )
            )
            continue
        levels.append(Level(level=item["level"], names=names, descriptions=descriptions))
    return tuple(levels)


def _parse_competency(
    path: Path, source: str, item: Any, problems: list[Problem]
) -> Competency | None:
    item_id = item.get("id") if isinstance(item, dict) else None
    line = line_of(source, f"id: {item_id}") if item_id else line_of(source, "competencies:")
    if not isinstance(item_id, str) or not ID_PATTERN.match(item_id):
        problems.append(Problem(path, line, f"competency without a valid id: {item!r:.60}"))
        return None
    names, summaries = bilingual(item.get("name")), bilingual(item.get("summary"))
    if names is None or summaries is None:
        problems.append(
            Problem(path, line, f"competency {item_id}: name and summary need ru and en")
        )
        return None
    raw_levels = item.get("levels")
    if not isinstance(raw_levels, dict) or sorted(raw_levels) != list(LEVELS):
        problems.append(Problem(path, line, f"competency {item_id}: levels must be 1, 2, 3 and 4"))
        return None
    indicators: dict[int, dict[str, tuple[str, ...]]] = {}
    for level in LEVELS:
        by_locale = raw_levels[level]
        lists: dict[str, Any] = {
            locale: by_locale.get(locale) if isinstance(by_locale, dict) else None
            for locale in SUPPORTED_LOCALES
        }
        if any(
            not isinstance(texts, list)
            or not 1 <= len(texts) <= 5
            or not all(isinstance(text, str) and text.strip() for text in texts)
            for texts in lists.values()
        ):
            problems.append(
                Problem(
                    path,
                    line,
                    f"competency {item_id}, level {level}: 1 to 5 indicators in ru and en",
                )
            )
            return None
        indicators[level] = {
            locale: tuple(t.strip() for t in texts) for locale, texts in lists.items()
        }
    return Competency(id=item_id, names=names, summaries=summaries, indicators=indicators)


def _load_module(
    directory: Path, competencies: dict[str, Competency], quizzes: Path, problems: list[Problem]
) -> Module | None:
    match = MODULE_DIR_PATTERN.match(directory.name)
    if match is None:
        problems.append(Problem(directory, 0, "module folders are named NN-slug, e.g. 01-myths"))
        return None
    texts: dict[str, ModuleText] = {}
    front: dict[str, dict[str, Any]] = {}
    for locale in SUPPORTED_LOCALES:
        path = directory / f"index.{locale}.md"
        if not path.exists():
            problems.append(Problem(path, 0, f"the {locale} version of the module is missing"))
            continue
        loaded = _load_module_text(path, locale, competencies, problems)
        if loaded is not None:
            texts[locale], front[locale] = loaded
    if len(texts) != len(SUPPORTED_LOCALES):
        return None
    _check_languages_agree(texts, front, problems)
    primary = front[SUPPORTED_LOCALES[0]]
    order = primary["order"]
    if order != int(match["order"]):
        problems.append(
            Problem(texts[SUPPORTED_LOCALES[0]].path, _line_of_key(texts, "order"),
                    f"order {order} does not match the folder number {match['order']}")
        )  # fmt: skip
    return Module(
        slug=match["slug"],
        order=order,
        directory=directory,
        competencies=tuple(primary["competencies"]),
        texts=texts,
        content_hash=content_hash(directory, quizzes / f"{match['slug']}.yaml"),
    )


def _line_of_key(texts: dict[str, ModuleText], key: str) -> int:
    text = texts[SUPPORTED_LOCALES[0]]
    return line_of(text.path.read_text(encoding="utf-8"), f"{key}:")


def _load_module_text(
    path: Path, locale: str, competencies: dict[str, Competency], problems: list[Problem]
) -> tuple[ModuleText, dict[str, Any]] | None:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    if not lines or lines[0].strip() != "---":
        problems.append(Problem(path, 1, "the file must start with YAML front matter ('---')"))
        return None
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        problems.append(Problem(path, 1, "the front matter is not closed with '---'"))
        return None
    try:
        data = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as error:
        problems.append(Problem(path, yaml_line(error) + 1, f"invalid front matter: {error}"))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(path, 2, "the front matter must be a mapping of keys"))
        return None

    before = len(problems)

    def problem(key: str, message: str) -> None:
        problems.append(Problem(path, line_of(source, f"{key}:"), message))

    for key in sorted(set(data) - FRONT_MATTER_KEYS):
        problem(key, f"unknown front matter key '{key}'")
    for key in sorted(FRONT_MATTER_KEYS - set(data)):
        problems.append(Problem(path, 1, f"front matter key '{key}' is missing"))
    if len(problems) > before:
        return None
    for key in ("title", "summary"):
        if not isinstance(data[key], str) or not data[key].strip():
            problem(key, f"'{key}' must be non-empty text")
    if not isinstance(data["order"], int) or isinstance(data["order"], bool) or data["order"] < 1:
        problem("order", "'order' must be a whole number from 1")
    if not isinstance(data["competencies"], list) or not data["competencies"]:
        problem("competencies", "'competencies' must be a non-empty list of competency ids")
    else:
        for competency in data["competencies"]:
            if competency not in competencies:
                problem("competencies", f"unknown competency '{competency}'")

    memos = _parse_memos(path, source, data["memos"], problems)
    tasks = _parse_tasks(path, source, data["tasks"], {memo.id for memo in memos}, problems)
    if len(problems) > before:
        return None
    text = ModuleText(
        locale=locale,
        path=path,
        title=data["title"].strip(),
        summary=data["summary"].strip(),
        body="\n".join(lines[end + 1 :]),
        body_line=end + 2,
        tasks=tasks,
        memos=memos,
    )
    return text, data


def _parse_memos(path: Path, source: str, raw: Any, problems: list[Problem]) -> tuple[Memo, ...]:
    line = line_of(source, "memos:")
    if not isinstance(raw, list):
        problems.append(Problem(path, line, "'memos' must be a list"))
        return ()
    memos: list[Memo] = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"id", "title", "file"}:
            problems.append(Problem(path, line, "each memo needs exactly: id, title, file"))
            continue
        memo_line = line_of(source, f"id: {item['id']}", after=line)
        if not isinstance(item["id"], str) or not ID_PATTERN.match(item["id"]):
            problems.append(Problem(path, memo_line, f"memo id '{item['id']}' is not a valid id"))
            continue
        memo_path = (path.parent / str(item["file"])).resolve()
        if not memo_path.is_relative_to(path.parent.resolve()) or not memo_path.is_file():
            problems.append(Problem(path, memo_line, f"memo file '{item['file']}' does not exist"))
            continue
        if any(memo.id == item["id"] for memo in memos):
            problems.append(Problem(path, memo_line, f"memo id '{item['id']}' is used twice"))
            continue
        memos.append(Memo(id=item["id"], title=str(item["title"]).strip(), path=memo_path))
    return tuple(memos)


def _parse_tasks(
    path: Path, source: str, raw: Any, memo_ids: set[str], problems: list[Problem]
) -> tuple[Task, ...]:
    line = line_of(source, "tasks:")
    if not isinstance(raw, list) or not raw:
        problems.append(Problem(path, line, "'tasks' must be a non-empty list"))
        return ()
    tasks: list[Task] = []
    for item in raw:
        if not isinstance(item, dict) or not {"id", "kind", "title"} <= set(item):
            problems.append(Problem(path, line, "each task needs: id, kind, title"))
            continue
        task_line = line_of(source, f"id: {item['id']}", after=line)
        kind, memo = item["kind"], item.get("memo")
        if not isinstance(item["id"], str) or not ID_PATTERN.match(item["id"]):
            problems.append(Problem(path, task_line, f"task id '{item['id']}' is not a valid id"))
        elif kind not in TASK_KINDS:
            allowed = ", ".join(sorted(TASK_KINDS))
            problems.append(Problem(path, task_line, f"task kind '{kind}' is not one of {allowed}"))
        elif kind == "memo" and memo not in memo_ids:
            problems.append(Problem(path, task_line, f"task names unknown memo '{memo}'"))
        elif any(task.id == item["id"] for task in tasks):
            problems.append(Problem(path, task_line, f"task id '{item['id']}' is used twice"))
        else:
            tasks.append(
                Task(id=item["id"], kind=kind, title=str(item["title"]).strip(), memo=memo)
            )
    return tuple(tasks)


def _check_languages_agree(
    texts: dict[str, ModuleText], front: dict[str, dict[str, Any]], problems: list[Problem]
) -> None:
    primary_locale, *others = SUPPORTED_LOCALES
    primary = front[primary_locale]
    for locale in others:
        other, path = front[locale], texts[locale].path
        source = path.read_text(encoding="utf-8")
        for key in ("order", "competencies"):
            if other[key] != primary[key]:
                problems.append(
                    Problem(path, line_of(source, f"{key}:"),
                            f"'{key}' differs from the {primary_locale} version")
                )  # fmt: skip
        if _shape(texts[locale].tasks) != _shape(texts[primary_locale].tasks):
            problems.append(
                Problem(path, line_of(source, "tasks:"),
                        f"tasks differ from the {primary_locale} version (ids, kinds, memos)")
            )  # fmt: skip
        if [m.id for m in texts[locale].memos] != [m.id for m in texts[primary_locale].memos]:
            problems.append(
                Problem(path, line_of(source, "memos:"),
                        f"memo ids differ from the {primary_locale} version")
            )  # fmt: skip


def _shape(tasks: tuple[Task, ...]) -> list[tuple[str, str, str | None]]:
    return [(task.id, task.kind, task.memo) for task in tasks]


HREF_PATTERN = re.compile(r'href="([^"]*)"')
ID_ATTRIBUTE_PATTERN = re.compile(r'id="([^"]+)"')
MODULE_LINK_PATTERN = re.compile(r"^/modules/(?P<slug>[a-z0-9-]+)/?(?:#(?P<anchor>.+))?$")


def _check_rendered(course: Course) -> list[Problem]:
    """Checks that need the rendered text: the same sections in every language, links that
    resolve, memos that render."""
    problems: list[Problem] = []
    primary_locale, *others = SUPPORTED_LOCALES
    anchors = {
        (module.slug, locale): set(
            ID_ATTRIBUTE_PATTERN.findall(str(course.render(module, locale).html))
        )
        for module in course.modules
        for locale in SUPPORTED_LOCALES
    }
    for module in course.modules:
        primary = course.render(module, primary_locale)
        for locale in others:
            rendered = course.render(module, locale)
            if [s.id for s in rendered.sections] != [s.id for s in primary.sections]:
                text = module.texts[locale]
                problems.append(
                    Problem(text.path, text.body_line,
                            f"section ids {[s.id for s in rendered.sections]} differ from the "
                            f"{primary_locale} version {[s.id for s in primary.sections]}")
                )  # fmt: skip
        for locale, text in module.texts.items():
            html = str(course.render(module, locale).html)
            problems.extend(
                _check_links(text.path, html, anchors[module.slug, locale], anchors, locale)
            )
            for memo in text.memos:
                problems.extend(_check_memo(course, module, memo, anchors, locale))
    return problems


def _check_memo(
    course: Course,
    module: Module,
    memo: Memo,
    anchors: dict[tuple[str, str], set[str]],
    locale: str,
) -> list[Problem]:
    source = memo.read()
    if not source.lstrip().startswith("# "):
        return [Problem(memo.path, 1, "a memo starts with its title as a '# ' heading")]
    html = str(course.render_memo(module, memo).html)
    own = set(ID_ATTRIBUTE_PATTERN.findall(html))
    return _check_links(memo.path, html, own, anchors, locale)


def _check_links(
    path: Path, html: str, own_ids: set[str], anchors: dict[tuple[str, str], set[str]], locale: str
) -> list[Problem]:
    problems: list[Problem] = []
    source = path.read_text(encoding="utf-8")
    for href in HREF_PATTERN.findall(html):
        line = line_of(source, f"]({href}")
        if href.startswith("#"):
            if href[1:] not in own_ids:
                problems.append(
                    Problem(path, line, f"link {href} points to no section on this page")
                )
        elif href.startswith("/"):
            match = MODULE_LINK_PATTERN.match(href)
            if match is None or (match["slug"], locale) not in anchors:
                problems.append(
                    Problem(path, line, f"link {href} points to no module of the course")
                )
            elif match["anchor"] and match["anchor"] not in anchors[match["slug"], locale]:
                problems.append(
                    Problem(path, line, f"link {href} points to no section of that module")
                )
        elif not href.startswith(("https://", "http://", "mailto:")):
            problems.append(
                Problem(path, line, f"link {href} is neither a course link nor a web address")
            )
    return problems


def content_hash(directory: Path, quiz_bank: Path | None = None) -> str:
    """A version of a module: the hash of the names and bytes of its files and quiz bank."""
    digest = hashlib.sha256()
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    if quiz_bank is not None and quiz_bank.is_file():
        files.append(quiz_bank)
    for path in files:
        name = path.relative_to(directory) if path.is_relative_to(directory) else Path("quiz.yaml")
        digest.update(name.as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()
