"""HR: exports."""

from lms.hr import bp  # noqa: F401
