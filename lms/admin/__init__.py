"""Admin pages: API tokens (more in issue 9)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
