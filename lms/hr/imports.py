"""HR: imports."""

from lms.hr import bp  # noqa: F401
