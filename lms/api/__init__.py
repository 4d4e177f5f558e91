"""The read API under /api/v1/: people, completions, competencies and goals, for integrations.

Every answer is JSON, errors included; bearer tokens issued by admins open it
(``lms.permissions.token_required``), and ``/api/v1/openapi.json`` describes it.
"""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from lms.api import views  # noqa: E402, F401  (registers the views)
