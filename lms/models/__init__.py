"""All models, imported here so that metadata and Alembic see every table."""

from lms.models.base import Base, utcnow
from lms.models.content import ContentVersion, CourseModule
from lms.models.org import Centre, Region, Team, team_managers
from lms.models.progress import MemoDownload, TaskCompletion
from lms.models.users import Role, RoleAssignment, User

__all__ = [
    "Base",
    "Centre",
    "ContentVersion",
    "CourseModule",
    "MemoDownload",
    "Region",
    "Role",
    "RoleAssignment",
    "TaskCompletion",
    "Team",
    "User",
    "team_managers",
    "utcnow",
]
