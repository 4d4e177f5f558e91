"""HR: reports over a region or everything, exports, the import of people, and
organisational goals. The views live in the modules imported below."""

from flask import Blueprint

bp = Blueprint("hr", __name__, url_prefix="/hr")

from lms.hr import exports, imports, reports, views  # noqa: E402, F401  (registers the views)
