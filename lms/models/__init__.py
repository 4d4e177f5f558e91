"""All models, imported here so that metadata and Alembic see every table."""

from lms.models.base import Base, utcnow
from lms.models.competencies import CompetencyEvidence, CompetencyLevel, EvidenceKind
from lms.models.content import ContentVersion, CourseModule
from lms.models.org import Centre, Region, Team, team_managers
from lms.models.progress import (
    Certificate,
    MemoDownload,
    ModuleCompletion,
    SectionRead,
    TaskCompletion,
)
from lms.models.quiz import AttemptState, ExtraAttempt, QuizAttempt
from lms.models.users import Role, RoleAssignment, User

__all__ = [
    "AttemptState",
    "Base",
    "Certificate",
    "Centre",
    "CompetencyEvidence",
    "CompetencyLevel",
    "ContentVersion",
    "CourseModule",
    "EvidenceKind",
    "ExtraAttempt",
    "MemoDownload",
    "ModuleCompletion",
    "QuizAttempt",
    "Region",
    "Role",
    "RoleAssignment",
    "SectionRead",
    "TaskCompletion",
    "Team",
    "User",
    "team_managers",
    "utcnow",
]
