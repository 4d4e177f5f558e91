"""Admin: content (being written)."""

from lms.admin import bp  # noqa: F401
