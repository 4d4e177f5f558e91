"""The OpenAPI 3.1 description of the read API, kept as data next to the views it describes.

Served at ``/api/v1/openapi.json`` with the server it was asked from. The tests validate the
document and every answer of the API against the schemas below, so a change to a view that
is not made here too fails them.
"""

from __future__ import annotations

import copy
from typing import Any

ROLES = ["employee", "manager", "hr", "admin"]
GOAL_STATES = ["draft", "submitted", "approved", "returned", "achieved", "not_achieved"]


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [schema, {"type": "null"}]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def _page_of(item: str) -> dict[str, Any]:
    return _object(
        {
            "data": {"type": "array", "items": _ref(item)},
            "next": {
                "description": "The next page, with the same filters and limit; null on the last.",
                "oneOf": [{"type": "string", "format": "uri"}, {"type": "null"}],
            },
        }
    )


ID = {"type": "integer", "minimum": 1}
TIMESTAMP = {"type": "string", "format": "date-time", "description": "ISO 8601, UTC."}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string", "description": "What is wrong, in English."},
            "parameter": {
                "type": "string",
                "description": "The query-string parameter that is not valid, on a 400.",
            },
        },
        "additionalProperties": False,
    },
    "Named": _object({"id": ID, "name": {"type": "string"}}),
    "PersonRef": _object({"id": ID, "email": {"type": "string"}}),
    "Person": _object(
        {
            "id": ID,
            "email": {"type": "string"},
            "full_name": {"type": "string"},
            "employee_number": _nullable({"type": "string"}),
            "active": {
                "type": "boolean",
                "description": "False once the account is deactivated; records stay.",
            },
            "region": _ref("Named"),
            "centre": _ref("Named"),
            "team": _ref("Named"),
            "roles": {
                "type": "array",
                "items": {"type": "string", "enum": ROLES},
                "uniqueItems": True,
            },
        }
    ),
    "Completion": _object(
        {
            "id": ID,
            "person": _ref("PersonRef"),
            "module": {"type": "string", "description": "The module's slug."},
            "content_version": {
                "type": "string",
                "description": "The hash of the content version the module was completed on.",
            },
            "completed_at": TIMESTAMP,
            "score": _nullable({"type": "integer", "minimum": 0, "maximum": 100}),
            "attempts": {"type": "integer", "minimum": 0},
        },
        "A module completed: every required step done. Written once, never changed.",
    ),
    "CompetencyLevel": _object(
        {
            "id": ID,
            "person": _ref("PersonRef"),
            "competency": {"type": "string", "description": "The competency's id."},
            "level": {"type": "integer", "minimum": 1, "maximum": 4},
            "set_at": TIMESTAMP,
        },
        "A person's current level in a competency: the newest of its history.",
    ),
    "Goal": _object(
        {
            "id": ID,
            "person": _ref("PersonRef"),
            "title": {"type": "string"},
            "state": {"type": "string", "enum": GOAL_STATES},
            "due_on": {"type": "string", "format": "date"},
            "progress": {"type": "integer", "minimum": 0, "maximum": 100},
            "competencies": {
                "type": "array",
                "items": {"type": "string"},
                "description": "The ids of the competencies the goal puts into practice.",
            },
            "org_goal_id": _nullable(ID),
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
        },
        "A person's individual client-centric goal.",
    ),
    "PeoplePage": _page_of("Person"),
    "CompletionsPage": _page_of("Completion"),
    "CompetencyLevelsPage": _page_of("CompetencyLevel"),
    "GoalsPage": _page_of("Goal"),
}

PARAMETERS: dict[str, Any] = {
    "limit": {
        "name": "limit",
        "in": "query",
        "description": "How many records a page holds; empty is the default.",
        "allowEmptyValue": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
    },
    "after": {
        "name": "after",
        "in": "query",
        "description": (
            "The id of the last record of the previous page; `next` links carry it. Empty is 0."
        ),
        "allowEmptyValue": True,
        "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1, "default": 0},
    },
}


def _error_response(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ref("Error")}},
    }
    if headers:
        response["headers"] = headers
    return response


RESPONSES: dict[str, Any] = {
    "BadRequest": _error_response("A query-string parameter is not valid."),
    "Unauthorized": _error_response(
        "No bearer token, or one that is unknown, revoked, or whose issuer is no longer an "
        "active admin.",
        {
            "WWW-Authenticate": {
                "description": "The bearer challenge of RFC 6750.",
                "schema": {"type": "string"},
            }
        },
    ),
}


def _list_operation(
    operation_id: str, summary: str, page_schema: str, filters: tuple[dict[str, Any], ...] = ()
) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "parameters": [
                {"$ref": "#/components/parameters/limit"},
                {"$ref": "#/components/parameters/after"},
                *filters,
            ],
            "responses": {
                "200": {
                    "description": "A page of records in the order of their ids.",
                    "content": {"application/json": {"schema": _ref(page_schema)}},
                },
                "400": {"$ref": "#/components/responses/BadRequest"},
                "401": {"$ref": "#/components/responses/Unauthorized"},
            },
        }
    }


PATHS: dict[str, Any] = {
    "/people": _list_operation(
        "listPeople",
        "People in the teams the token's admin may see, deactivated ones included.",
        "PeoplePage",
    ),
    "/completions": _list_operation(
        "listCompletions",
        "Module completions of those people.",
        "CompletionsPage",
        (
            {
                "name": "module",
                "in": "query",
                "description": (
                    "Only this module (its slug); an unknown slug is a 400, empty is every module."
                ),
                "allowEmptyValue": True,
                "schema": {"type": "string"},
            },
            {
                "name": "since",
                "in": "query",
                "description": (
                    "Only completions on or after this day (from 00:00 UTC); empty is every day."
                ),
                "allowEmptyValue": True,
                "schema": {"type": "string", "format": "date"},
            },
        ),
    ),
    "/competencies": _list_operation(
        "listCompetencyLevels",
        "Current competency levels of those people, one per person and competency.",
        "CompetencyLevelsPage",
    ),
    "/goals": _list_operation(
        "listGoals", "Individual goals of those people, in every state.", "GoalsPage"
    ),
    "/openapi.json": {
        "get": {
            "operationId": "getOpenApiDocument",
            "summary": "This document.",
            "security": [],
            "responses": {
                "200": {
                    "description": "The OpenAPI document of this API.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Client-Centricity Academy read API",
        "version": "1.0.0",
        "description": (
            "Read-only access to people, module completions, competency levels and goals. "
            "A token is issued by an admin at /admin/tokens and sees what that admin sees; "
            "it stops working when revoked, or when its admin is deactivated or loses the "
            "role. Lists are pages in the order of record ids: follow `next` until it is null."
        ),
    },
    "security": [{"bearerAuth": []}],
    "paths": PATHS,
    "components": {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "Authorization: Bearer <token>, as issued at /admin/tokens.",
            }
        },
        "parameters": PARAMETERS,
        "responses": RESPONSES,
        "schemas": SCHEMAS,
    },
}


def document(server_url: str) -> dict[str, Any]:
    """The document, with ``server_url`` (this API's root, e.g. https://host/api/v1)."""
    result = copy.deepcopy(DOCUMENT)
    result["servers"] = [{"url": server_url}]
    return result
