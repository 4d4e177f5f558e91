"""A person's progress: sections read, tasks done, memo downloads, and the completion of
modules and of the course. Functions flush; the view commits."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import has_request_context, request
from sqlalchemy import (
    Integer,
    String,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from lms.config import SUPPORTED_LOCALES
from lms.content.loader import Course, Module
from lms.extensions import db
from lms.models import (
    AttemptState,
    BadgeKind,
    Base,
    ContentVersion,
    CourseModule,
    MemoDownload,
    ModuleCompletion,
    QuizAttempt,
    SectionRead,
    TaskCompletion,
    User,
)
from lms.models.base import UTCDateTime
from lms.services import certificates, recognition
from lms.services.reports import as_utc


class NotPublished(LookupError):
    """The module exists on disk but has not been published yet."""


REQUIRED_TASK_KINDS = frozenset({"read", "memo", "quiz"})
"""The steps that complete a module (DESIGN.md): sections read, memo downloaded, quiz passed.
A goal task is practice the module invites; goals have their own workflow and approval."""


@dataclass(frozen=True)
class QuizSummary:
    best_score: int | None
    passed: bool
    attempts_used: int
    in_progress: bool


@dataclass(frozen=True)
class CompletionSummary:
    """A module completed, as progress pages show it (the record is ``ModuleCompletion``)."""

    id: int
    completed_at: datetime
    score: int | None


@dataclass(frozen=True)
class ModuleProgress:
    done: frozenset[str]
    total: int
    required: frozenset[str] = frozenset()
    sections_read: frozenset[str] = frozenset()
    sections_total: int = 0
    quiz: QuizSummary | None = None
    completion: CompletionSummary | None = None

    @property
    def count(self) -> int:
        return len(self.done)

    @property
    def complete(self) -> bool:
        return self.completion is not None

    @property
    def started(self) -> bool:
        return self.count > 0 or bool(self.sections_read) or self.quiz is not None


def published_version(slug: str) -> tuple[CourseModule, ContentVersion]:
    """The module's record and current content version; ``NotPublished`` if it has none."""
    # Asked several times by one request (a quiz's start checks, draws and records): the
    # answer is kept for the rest of that request, whose session holds the records.
    kept = request.environ.setdefault("lms.published", {}) if has_request_context() else {}
    if slug not in kept:
        kept[slug] = db.session.scalar(
            select(CourseModule)
            .where(CourseModule.slug == slug)
            .options(joinedload(CourseModule.current_version))
        )
    record = kept[slug]
    if record is None or record.current_version is None:
        raise NotPublished(slug)
    return record, record.current_version


def record_memo_download(
    user: User, course: Course, module: Module, memo_id: str, locale: str
) -> None:
    """Count the download and mark the module's tasks for this memo done (once)."""
    record, version = published_version(module.slug)
    db.session.add(
        MemoDownload(
            user_id=user.id,
            module_id=record.id,
            memo_id=memo_id,
            locale=locale,
            content_version_id=version.id,
        )
    )
    for task in module.text(locale).tasks:
        if task.kind == "memo" and task.memo == memo_id:
            complete_task(user, record, version, task.id)
    db.session.flush()
    refresh_completion(user, course, module)


def section_ids(course: Course, module: Module) -> tuple[str, ...]:
    """The module's sections (level-2 headings); the same ids in every language."""
    return tuple(section.id for section in course.render(module, SUPPORTED_LOCALES[0]).sections)


def mark_section_read(user: User, course: Course, module: Module, section_id: str) -> None:
    """Record a section as read; when all are, the module's "read" task is done."""
    sections = section_ids(course, module)
    if section_id not in sections:
        raise LookupError(section_id)
    record, version = published_version(module.slug)
    owned = (SectionRead.user_id == user.id, SectionRead.module_id == record.id)
    read = set(db.session.scalars(select(SectionRead.section_id).where(*owned)))
    if section_id not in read:
        _insert_once(
            SectionRead(
                user_id=user.id,
                module_id=record.id,
                section_id=section_id,
                content_version_id=version.id,
            )
        )
        read.add(section_id)
    if set(sections) <= read:
        for task in module.text(SUPPORTED_LOCALES[0]).tasks:
            if task.kind == "read":
                complete_task(user, record, version, task.id)
        refresh_completion(user, course, module)


def _insert_once(row: Base) -> bool:
    """Insert a row guarded by a unique constraint; False if a parallel request got there first."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
        return True
    except IntegrityError:
        return False


def complete_task(user: User, record: CourseModule, version: ContentVersion, task_id: str) -> None:
    """Mark a task done on the current content version; doing it again changes nothing."""
    exists = select(TaskCompletion.id).where(
        TaskCompletion.user_id == user.id,
        TaskCompletion.module_id == record.id,
        TaskCompletion.task_id == task_id,
    )
    if db.session.scalar(exists) is not None:
        return
    _insert_once(
        TaskCompletion(
            user_id=user.id, module_id=record.id, task_id=task_id, content_version_id=version.id
        )
    )


def complete_goal_tasks(user: User, course: Course) -> None:
    """A drafted goal does the "draft your goal" task of every published module that has one."""
    for module in course.modules:
        for task in module.text(SUPPORTED_LOCALES[0]).tasks:
            if task.kind != "goal":
                continue
            try:
                record, version = published_version(module.slug)
            except NotPublished:
                continue
            complete_task(user, record, version, task.id)


def required_tasks(module: Module) -> frozenset[str]:
    tasks = module.text(SUPPORTED_LOCALES[0]).tasks
    return frozenset(task.id for task in tasks if task.kind in REQUIRED_TASK_KINDS)


def refresh_completion(user: User, course: Course, module: Module) -> ModuleCompletion | None:
    """Record the module as complete once every required step is done (once, never changed),
    and issue the course certificate when it was the last module.

    Two requests finishing two different steps at once must not both decide "not yet": the
    person's row is locked first (PostgreSQL; SQLite serialises writes anyway), so the second
    check waits for the first to commit and then sees both steps.
    """
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    record, version = published_version(module.slug)
    owned_completion = select(ModuleCompletion).where(
        ModuleCompletion.user_id == user.id, ModuleCompletion.module_id == record.id
    )
    existing = db.session.scalar(owned_completion)
    if existing is not None:
        certificates.issue_if_course_complete(user, course)  # heals a certificate missed before
        return existing
    done = set(
        db.session.scalars(
            select(TaskCompletion.task_id).where(
                TaskCompletion.user_id == user.id, TaskCompletion.module_id == record.id
            )
        )
    )
    if not required_tasks(module) <= done:
        return None
    attempts = select(QuizAttempt).where(
        QuizAttempt.user_id == user.id,
        QuizAttempt.module_id == record.id,
        QuizAttempt.state == AttemptState.SUBMITTED,
    )
    submitted = list(db.session.scalars(attempts))
    passed = [
        attempt.score for attempt in submitted if attempt.passed and attempt.score is not None
    ]
    completion = ModuleCompletion(
        user_id=user.id,
        module_id=record.id,
        content_version_id=version.id,
        score=max(passed) if passed else None,
        attempts=len(submitted),
    )
    if not _insert_once(completion):
        return db.session.scalar(owned_completion)
    recognition.award_badge(user, BadgeKind.MODULE_COMPLETED, module.slug)
    certificates.issue_if_course_complete(user, course)
    return completion


def course_progress(user: User, course: Course) -> dict[str, ModuleProgress]:
    """Everyone's view of their own progress, per module, in one query for the whole course
    (tasks done, sections read, the quiz summary and the completions), since every page that
    shows progress waits on each round trip."""
    done: dict[str, set[str]] = {}
    read: dict[str, set[str]] = {}
    quizzes: dict[str, QuizSummary] = {}
    completions: dict[str, CompletionSummary] = {}
    rows = db.session.execute(_progress_rows(), {"user_id": user.id})
    for kind, slug, value, best, passed, used, open_, at in rows:
        if kind == "task":
            done.setdefault(slug, set()).add(value)
        elif kind == "read":
            read.setdefault(slug, set()).add(value)
        elif kind == "quiz":
            quizzes[slug] = QuizSummary(
                best_score=best, passed=bool(passed), attempts_used=used, in_progress=bool(open_)
            )
        else:
            completions[slug] = CompletionSummary(id=used, completed_at=as_utc(at), score=best)
    progress = {}
    for module in course.modules:
        task_ids = {task.id for task in module.text(SUPPORTED_LOCALES[0]).tasks}
        sections = set(section_ids(course, module))
        progress[module.slug] = ModuleProgress(
            done=frozenset(done.get(module.slug, set()) & task_ids),
            total=len(task_ids),
            required=required_tasks(module),
            sections_read=frozenset(read.get(module.slug, set()) & sections),
            sections_total=len(sections),
            quiz=quizzes.get(module.slug),
            completion=completions.get(module.slug),
        )
    return progress


@functools.cache
def _progress_rows() -> Any:
    """(kind, slug, value, best score, passed, attempts used or id, open, completed at): a
    row per task done ("task") and per section read ("read"), one per module with quiz
    attempts ("quiz") and one per module completed ("done", with its score and id), of the
    person ``:user_id``. Built once: building it took as long as running it."""
    user_id = bindparam("user_id", type_=Integer)
    no_text = cast(null(), String)
    no_number = cast(null(), Integer)
    no_time = cast(null(), UTCDateTime()).label("at")
    tasks = (
        select(
            literal("task", String).label("kind"),
            CourseModule.slug,
            TaskCompletion.task_id.label("value"),
            *(no_number.label(name) for name in ("best", "passed", "used", "open")),
            no_time,
        )
        .join(TaskCompletion, TaskCompletion.module_id == CourseModule.id)
        .where(TaskCompletion.user_id == user_id)
    )
    reads = (
        select(
            literal("read", String),
            CourseModule.slug,
            SectionRead.section_id,
            *(no_number for _ in range(4)),
            no_time,
        )
        .join(SectionRead, SectionRead.module_id == CourseModule.id)
        .where(SectionRead.user_id == user_id)
    )
    submitted = QuizAttempt.state == AttemptState.SUBMITTED
    quizzes = (
        select(
            literal("quiz", String),
            CourseModule.slug,
            no_text,
            func.max(case((submitted, QuizAttempt.score))),
            func.max(case((QuizAttempt.passed.is_(True), 1), else_=0)),
            func.count(case((submitted, 1))),
            func.max(case((submitted, 0), else_=1)),
            no_time,
        )
        .join(QuizAttempt, QuizAttempt.module_id == CourseModule.id)
        .where(QuizAttempt.user_id == user_id)
        .group_by(CourseModule.slug)
    )
    completions = (
        select(
            literal("done", String),
            CourseModule.slug,
            no_text,
            ModuleCompletion.score,
            no_number,
            ModuleCompletion.id,
            no_number,
            ModuleCompletion.completed_at,
        )
        .join(ModuleCompletion, ModuleCompletion.module_id == CourseModule.id)
        .where(ModuleCompletion.user_id == user_id)
    )
    return union_all(tasks, reads, quizzes, completions)


def memo_download_count(slug: str, memo_id: str) -> int:
    return (
        db.session.scalar(
            select(func.count(MemoDownload.id))
            .join(CourseModule, MemoDownload.module_id == CourseModule.id)
            .where(CourseModule.slug == slug, MemoDownload.memo_id == memo_id)
        )
        or 0
    )
