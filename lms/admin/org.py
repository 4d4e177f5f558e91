"""Admin: org (being written)."""

from lms.admin import bp  # noqa: F401
