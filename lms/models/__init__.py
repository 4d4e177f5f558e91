"""All models, imported here so that metadata and Alembic see every table."""

from lms.models.api import ApiToken
from lms.models.audit import AuditEvent
from lms.models.base import Base, utcnow
from lms.models.competencies import CompetencyEvidence, CompetencyLevel, EvidenceKind
from lms.models.content import ContentVersion, CourseModule
from lms.models.goals import CheckIn, Goal, GoalCompetency, GoalEvent, GoalState, OrgGoal
from lms.models.notifications import Notification, NotificationKind
from lms.models.org import Centre, Region, Team, team_managers
from lms.models.progress import (
    Certificate,
    MemoDownload,
    ModuleCompletion,
    ModuleStart,
    SectionRead,
    TaskCompletion,
)
from lms.models.quiz import AttemptState, ExtraAttempt, QuizAttempt
from lms.models.recognition import Badge, BadgeKind, Recognition
from lms.models.reviews import CompetencyReview, DevelopmentAction
from lms.models.users import ActivationLink, Role, RoleAssignment, User, UserSession

__all__ = [
    "ActivationLink",
    "ApiToken",
    "AuditEvent",
    "AttemptState",
    "Badge",
    "BadgeKind",
    "Base",
    "Centre",
    "Certificate",
    "CheckIn",
    "CompetencyEvidence",
    "CompetencyLevel",
    "CompetencyReview",
    "ContentVersion",
    "CourseModule",
    "DevelopmentAction",
    "EvidenceKind",
    "ExtraAttempt",
    "Goal",
    "GoalCompetency",
    "GoalEvent",
    "GoalState",
    "MemoDownload",
    "ModuleCompletion",
    "ModuleStart",
    "Notification",
    "NotificationKind",
    "OrgGoal",
    "QuizAttempt",
    "Recognition",
    "Region",
    "Role",
    "RoleAssignment",
    "SectionRead",
    "TaskCompletion",
    "Team",
    "User",
    "UserSession",
    "team_managers",
    "utcnow",
]
