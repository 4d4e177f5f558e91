"""Course certificates: issued once when the last module is complete, checked by their code.

A code is 12 characters of Crockford's base32 (60 random bits), shown in three groups:
``7KQ2-M9XD-4HTB``. It leaves out I, L, O and U, so a code read aloud or typed from paper is
read back the same way; ``normalise_code`` forgives lower case, spaces, dashes and the
letters people confuse with digits.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.extensions import db
from lms.models import BadgeKind, Certificate, CourseModule, ModuleCompletion, User
from lms.services import recognition

if TYPE_CHECKING:
    from lms.content import Course

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12
GROUP = 4
LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalise_code(text: str) -> str | None:
    """The stored form of a code someone typed, or None if it cannot be one."""
    code = "".join(text.split()).replace("-", "").upper().translate(LOOKALIKES)
    if len(code) != CODE_LENGTH or any(char not in ALPHABET for char in code):
        return None
    return code


def find_certificate(text: str) -> Certificate | None:
    code = normalise_code(text)
    if code is None:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == code))


def certificate_of(user: User) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.user_id == user.id))


def issue_if_course_complete(user: User, course: Course) -> Certificate | None:
    """Issue the certificate when every module of the course is complete; only ever once."""
    existing = certificate_of(user)
    if existing is not None:
        return existing
    completed = set(
        db.session.scalars(
            select(CourseModule.slug)
            .join(ModuleCompletion, ModuleCompletion.module_id == CourseModule.id)
            .where(ModuleCompletion.user_id == user.id)
        )
    )
    if not course.modules or not {module.slug for module in course.modules} <= completed:
        return None
    for _attempt in range(3):  # a clash of two random 60-bit codes is all but impossible
        certificate = Certificate(user_id=user.id, code=new_code(), full_name=user.full_name)
        try:
            with db.session.begin_nested():
                db.session.add(certificate)
        except IntegrityError:
            existing = certificate_of(user)  # or a parallel request issued it just now
            if existing is not None:
                return existing
        else:
            recognition.award_badge(user, BadgeKind.COURSE_COMPLETED, "course")
            return certificate
    raise RuntimeError("could not find a free certificate code")
