"""Publishing the course: each module's current content version, kept with its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select

from lms.content.loader import Course
from lms.extensions import db
from lms.models import ContentVersion, CourseModule, ModuleCompletion, User
from lms.services import audit


@dataclass(frozen=True)
class Published:
    slug: str
    content_hash: str
    changed: bool


def publish_course(course: Course) -> list[Published]:
    """Record the content on disk as each module's current version; unchanged modules stay."""
    existing = {module.slug: module for module in db.session.scalars(select(CourseModule))}
    results: list[Published] = []
    for module in course.modules:
        record = existing.get(module.slug)
        if record is None:
            record = CourseModule(slug=module.slug, position=module.order)
            db.session.add(record)
        record.position = module.order
        version = next((v for v in record.versions if v.content_hash == module.content_hash), None)
        if version is None:
            version = ContentVersion(module=record, content_hash=module.content_hash)
            db.session.add(version)
        changed = record.current_version is not version
        record.current_version = version
        results.append(Published(module.slug, module.content_hash, changed))
    db.session.flush()
    return results


def current_versions() -> dict[str, ContentVersion]:
    """The current content version of each published module, by slug."""
    modules = db.session.scalars(
        select(CourseModule).where(CourseModule.current_version_id.isnot(None))
    )
    return {module.slug: module.current_version for module in modules if module.current_version}


# --- the content versions page: history, what is on disk, publishing from the browser -------


@dataclass(frozen=True)
class VersionEntry:
    """One published version of a module and how many completion records were earned on it."""

    id: int
    content_hash: str
    published_at: datetime
    current: bool
    completions: int

    @property
    def short_hash(self) -> str:
        return self.content_hash[:12]


@dataclass(frozen=True)
class ModuleHistory:
    slug: str
    versions: tuple[VersionEntry, ...]  # newest first


def version_history() -> dict[str, ModuleHistory]:
    """Every published module's versions, newest first, in the order of the course, each with
    its count of module completions: one query, grouped, however many versions there are."""
    completions = (
        select(
            ModuleCompletion.content_version_id.label("version_id"),
            func.count().label("total"),
        )
        .group_by(ModuleCompletion.content_version_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            CourseModule.slug,
            CourseModule.current_version_id,
            ContentVersion.id,
            ContentVersion.content_hash,
            ContentVersion.published_at,
            func.coalesce(completions.c.total, 0),
        )
        .join(ContentVersion, ContentVersion.module_id == CourseModule.id)
        .outerjoin(completions, completions.c.version_id == ContentVersion.id)
        .order_by(
            CourseModule.position,
            CourseModule.slug,
            ContentVersion.published_at.desc(),
            ContentVersion.id.desc(),
        )
    )
    versions: dict[str, list[VersionEntry]] = {}
    for slug, current_id, version_id, content_hash, published_at, total in rows:
        entry = VersionEntry(
            version_id, content_hash, published_at, version_id == current_id, total
        )
        versions.setdefault(slug, []).append(entry)
    return {slug: ModuleHistory(slug, tuple(entries)) for slug, entries in versions.items()}


class DiskState(StrEnum):
    """A module on disk compared with its current published version."""

    UNCHANGED = "unchanged"
    CHANGED = "changed"
    UNPUBLISHED = "unpublished"


def current_hashes() -> dict[str, str]:
    """The hash of each published module's current version, by slug, in one query."""
    rows = db.session.execute(
        select(CourseModule.slug, ContentVersion.content_hash).join(
            ContentVersion, ContentVersion.id == CourseModule.current_version_id
        )
    )
    return {slug: content_hash for slug, content_hash in rows}


def pending_changes(course: Course) -> dict[str, DiskState]:
    """Each module of ``course`` (the content on disk): the same as its current version,
    changed since publishing, or never published."""
    published = current_hashes()
    states: dict[str, DiskState] = {}
    for module in course.modules:
        current = published.get(module.slug)
        if current is None:
            states[module.slug] = DiskState.UNPUBLISHED
        elif current == module.content_hash:
            states[module.slug] = DiskState.UNCHANGED
        else:
            states[module.slug] = DiskState.CHANGED
    return states


@dataclass(frozen=True)
class Publication:
    """What publishing did: the hash before and after of each module that changed (before is
    None for a module published for the first time), and the slugs left as they were."""

    changed: dict[str, tuple[str | None, str]]
    unchanged: tuple[str, ...]


def publish(actor: User | None, course: Course) -> Publication:
    """Publish ``course`` (already checked) and, when any module changed, say so in the audit
    log with each changed module's hash before and after. Flushes; the caller commits."""
    before = current_hashes()
    results = publish_course(course)
    changed = {r.slug: (before.get(r.slug), r.content_hash) for r in results if r.changed}
    unchanged = tuple(r.slug for r in results if not r.changed)
    if changed:
        audit.record(
            actor,
            "content.publish",
            modules={slug: {"before": old, "after": new} for slug, (old, new) in changed.items()},
            unchanged=len(unchanged),
        )
    return Publication(changed, unchanged)
