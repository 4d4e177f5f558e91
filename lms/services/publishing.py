"""Publishing the course: each module's current content version, kept with its history."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from lms.content.loader import Course
from lms.extensions import db
from lms.models import ContentVersion, CourseModule


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
