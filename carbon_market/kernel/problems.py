"""The catalogue of problem types, served at ``/api/problems/<slug>``.

RFC 9457 lets a problem ``type`` be dereferenced for documentation; ours are relative URIs
that resolve to this catalogue. ``docs/problems.md`` is the same list for readers.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask

from carbon_market.kernel.errors import HTTP_PROBLEMS, DomainError, NotFound

bp = Blueprint("problems", __name__, url_prefix="/api/problems")

DESCRIPTIONS: dict[str, str] = {
    "bad-request": "The request could not be read (for example malformed JSON).",
    "not-authenticated": "Send a valid, unexpired, unrevoked token as 'Authorization: Bearer'.",
    "permission-denied": "Your role may not perform this action.",
    "not-found": "No such resource, or not one you may see.",
    "method-not-allowed": "The resource exists but not with this method; see the Allow header.",
    "conflict": "The request conflicts with the current state (for example a duplicate).",
    "payload-too-large": "The request body exceeds the size limit.",
    "unsupported-media-type": "Send the body as application/json (or multipart for uploads).",
    "validation-failed": "One or more fields are invalid; 'errors' lists each with a pointer.",
    "rule-violation": "The request is well-formed but breaks a business rule.",
    "invalid-status-transition": "The lifecycle does not allow this status change.",
    "unreadable-file": "An uploaded file is not a readable CSV or XLSX file.",
    "too-many-requests": "Slow down and retry after the Retry-After header's seconds "
    "(failed logins are limited per address and user name).",
    "internal-error": "The server failed; the request id identifies it in the logs.",
    "unavailable": "The service is not ready (database unreachable or not migrated).",
}


def _titles() -> dict[str, str]:
    titles = {slug: title for slug, title in HTTP_PROBLEMS.values()}
    stack: list[type[DomainError]] = [DomainError]
    while stack:
        cls = stack.pop()
        titles[cls.slug] = cls.title
        stack.extend(cls.__subclasses__())
    return titles


@bp.get("/<slug>")
def problem_type(slug: str) -> dict[str, Any]:
    titles = _titles()
    if slug not in titles:
        raise NotFound(f"no problem type {slug!r}")
    return {
        "type": f"/api/problems/{slug}",
        "title": titles[slug],
        "description": DESCRIPTIONS.get(slug, ""),
    }


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
