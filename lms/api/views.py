"""The read API's endpoints: parse the query string, call ``lms.api.records`` with the token's
admin as the viewer, answer a page of JSON. Every error is JSON too: ``{"error": ...}``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import g, jsonify, request, url_for
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from lms.api import bp, openapi, records
from lms.api.records import Page, Record
from lms.extensions import db
from lms.permissions import public, token_required

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


class BadParameter(ValueError):
    """A query-string parameter is not valid: the message says which and why."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


def _error(status: int, message: str, **extra: str) -> tuple[Response, int]:
    return jsonify(error=message, **extra), status


@bp.errorhandler(BadParameter)
def bad_parameter(error: BadParameter) -> tuple[Response, int]:
    return _error(400, str(error), parameter=error.parameter)


def http_error(error: HTTPException) -> tuple[Response, int]:
    response, status = _error(error.code or 500, error.description or error.name)
    # The exception's own headers (a 405's Allow) are kept; its content type is not ours.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response, status


# Registered by code: the app's HTML pages for these codes would otherwise take precedence.
for _code in (400, 403, 404, 405):
    bp.register_error_handler(_code, http_error)


@bp.errorhandler(500)
def internal_error(error: Exception) -> tuple[Response, int]:
    db.session.rollback()
    return _error(500, "something went wrong on our side; the error has been recorded")


@bp.errorhandler(OperationalError)
def database_unavailable(error: OperationalError) -> tuple[Response, int]:
    db.session.rollback()
    return _error(503, "the database cannot be reached; please try again in a few minutes")


@bp.after_request
def not_stored(response: Response) -> Response:
    """Personal data: no cache along the way keeps a copy."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _integer(args: Mapping[str, str], name: str, default: int, lowest: int, highest: int) -> int:
    raw = args.get(name, "").strip()
    if not raw:
        return default
    too_long = len(raw) > len(str(highest))
    if too_long or not (raw.isascii() and raw.isdigit()) or not lowest <= int(raw) <= highest:
        raise BadParameter(name, f"{name} must be a whole number from {lowest} to {highest}")
    return int(raw)


def _page(args: Mapping[str, str]) -> Page:
    return Page(
        limit=_integer(args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        after=_integer(args, "after", 0, 0, 2**63 - 1),
    )


def _answer(rows: list[Record], page: Page, **filters: str) -> Response:
    """A page of ``rows`` (one more than the page, if there is a next one) and the link to
    the next page, which keeps the filters and the limit."""
    data = rows[: page.limit]
    next_url = None
    if len(rows) > page.limit:
        next_url = url_for(
            request.endpoint or "",
            _external=True,
            **filters,
            limit=page.limit,
            after=data[-1]["id"],
        )
    return jsonify(data=data, next=next_url)


@bp.get("/people")
@token_required
def people() -> Response:
    page = _page(request.args)
    return _answer(records.people(g.api_user, page), page)


@bp.get("/completions")
@token_required
def completions() -> Response:
    page = _page(request.args)
    filters: dict[str, Any] = {}
    module = request.args.get("module", "").strip()
    if module:
        if not records.module_exists(module):
            raise BadParameter("module", "there is no module with this slug")
        filters["module"] = module
    since = request.args.get("since", "").strip()
    if since:
        try:
            filters["since"] = date.fromisoformat(since)
        except ValueError:
            raise BadParameter("since", "since must be a date as YYYY-MM-DD") from None
    rows = records.completions(g.api_user, page, **filters)
    return _answer(rows, page, **{name: str(value) for name, value in filters.items()})


@bp.get("/competencies")
@token_required
def competencies() -> Response:
    page = _page(request.args)
    return _answer(records.competency_levels(g.api_user, page), page)


@bp.get("/goals")
@token_required
def goals() -> Response:
    page = _page(request.args)
    return _answer(records.goals(g.api_user, page), page)


@bp.get("/openapi.json")
@public
def openapi_document() -> Response:
    """The description of this API; the server is wherever it was asked for."""
    here = url_for("api.openapi_document", _external=True).removesuffix("/openapi.json")
    return jsonify(openapi.document(server_url=here))
