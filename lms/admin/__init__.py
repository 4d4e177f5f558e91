"""Admin pages: API tokens (more in issue 9)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from lms.admin import tokens  # noqa: E402, F401  (registers the views)
