"""A person's progress: which module tasks they have done, and memo downloads."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms.config import SUPPORTED_LOCALES
from lms.content.loader import Course, Module
from lms.extensions import db
from lms.models import ContentVersion, CourseModule, MemoDownload, TaskCompletion, User


class NotPublished(LookupError):
    """The module exists on disk but has not been published yet."""


@dataclass(frozen=True)
class ModuleProgress:
    done: frozenset[str]
    total: int

    @property
    def count(self) -> int:
        return len(self.done)

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.count >= self.total

    @property
    def started(self) -> bool:
        return self.count > 0


def published_version(slug: str) -> tuple[CourseModule, ContentVersion]:
    """The module's record and current content version; ``NotPublished`` if it has none."""
    record = db.session.scalar(select(CourseModule).where(CourseModule.slug == slug))
    if record is None or record.current_version is None:
        raise NotPublished(slug)
    return record, record.current_version


def record_memo_download(user: User, module: Module, memo_id: str, locale: str) -> None:
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


def complete_task(user: User, record: CourseModule, version: ContentVersion, task_id: str) -> None:
    """Mark a task done on the current content version; doing it again changes nothing."""
    exists = select(TaskCompletion.id).where(
        TaskCompletion.user_id == user.id,
        TaskCompletion.module_id == record.id,
        TaskCompletion.task_id == task_id,
    )
    if db.session.scalar(exists) is not None:
        return
    completion = TaskCompletion(
        user_id=user.id, module_id=record.id, task_id=task_id, content_version_id=version.id
    )
    try:
        with db.session.begin_nested():  # a parallel request may have just done the same
            db.session.add(completion)
    except IntegrityError:
        pass


def course_progress(user: User, course: Course) -> dict[str, ModuleProgress]:
    """Tasks done per module for ``user``, in one query, counting only tasks that still exist."""
    rows = db.session.execute(
        select(CourseModule.slug, TaskCompletion.task_id)
        .join(TaskCompletion, TaskCompletion.module_id == CourseModule.id)
        .where(TaskCompletion.user_id == user.id)
    ).all()
    done: dict[str, set[str]] = {}
    for slug, task_id in rows:
        done.setdefault(slug, set()).add(task_id)
    progress = {}
    for module in course.modules:
        task_ids = {task.id for task in module.text(SUPPORTED_LOCALES[0]).tasks}
        progress[module.slug] = ModuleProgress(
            done=frozenset(done.get(module.slug, set()) & task_ids), total=len(task_ids)
        )
    return progress


def memo_download_count(slug: str, memo_id: str) -> int:
    return (
        db.session.scalar(
            select(func.count(MemoDownload.id))
            .join(CourseModule, MemoDownload.module_id == CourseModule.id)
            .where(CourseModule.slug == slug, MemoDownload.memo_id == memo_id)
        )
        or 0
    )
