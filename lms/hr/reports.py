"""HR: reports."""

from lms.hr import bp  # noqa: F401
