"""Admin pages: people, the organisation, content versions, the audit log and API tokens."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from lms.admin import audit, content, org, people, tokens  # noqa: E402, F401  (registers the views)
