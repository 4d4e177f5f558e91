"""Admin pages: the audit log and API tokens."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from lms.admin import audit, tokens  # noqa: E402, F401  (registers the views)
