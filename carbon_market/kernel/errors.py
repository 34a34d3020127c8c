"""The one exception tree of the platform and its RFC 9457 problem details.

Services raise :class:`DomainError` subclasses; the HTTP edge (``carbon_market.kernel.http``) and
the
CLI each map them once. ``slug`` names the problem type: the API serves it as
``/api/problems/<slug>`` and ``docs/problems.md`` catalogues every one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One offending field: a JSON pointer (``#/rows/17/credit_code``), a code and a reason."""

    pointer: str
    detail: str
    code: str | None = None
    #: For bulk imports: the spreadsheet row number (header = row 1) and the column name.
    row: int | None = None
    column: str | None = None
    #: For workbook uploads, whose sheets each have a row 2: the sheet the cell is on.
    sheet: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pointer": self.pointer, "detail": self.detail}
        for key in ("code", "sheet", "row", "column"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


class DomainError(Exception):
    """A refusal the user can act on. ``status`` is the HTTP status it maps to."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[FieldError] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors or [])
        self.extra = dict(extra or {})


class MissingHeader(DomainError):
    status = 400
    slug = "missing-header"
    title = "Required header missing"


class NotAuthenticated(DomainError):
    status = 401
    slug = "not-authenticated"
    title = "Authentication required"


class PermissionDenied(DomainError):
    status = 403
    slug = "permission-denied"
    title = "Permission denied"


class NotFound(DomainError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class IdempotencyMismatch(DomainError):
    status = 422
    slug = "idempotency-mismatch"
    title = "Idempotency key reused with a different request"


class ValidationFailed(DomainError):
    status = 422
    slug = "validation-failed"
    title = "Validation failed"


class UnreadableFile(ValidationFailed):
    """An upload that is not a readable CSV or XLSX file (bulk imports, factor sets, report
    workbooks)."""

    slug = "unreadable-file"
    title = "File cannot be read"


class RuleViolation(DomainError):
    status = 422
    slug = "rule-violation"
    title = "Rule violation"


class InsufficientHolding(RuleViolation):
    slug = "insufficient-holding"
    title = "Not enough units available"


class AccountNotUsable(RuleViolation):
    slug = "account-not-usable"
    title = "Account blocked or closed"


class FourEyesViolation(RuleViolation):
    slug = "four-eyes"
    title = "A second person must approve"


class InvalidStatusTransition(RuleViolation):
    slug = "invalid-status-transition"
    title = "Status change not allowed"


#: Problem types that only the HTTP edge produces, with no exception class of their own.
HTTP_PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("not-authenticated", "Authentication required"),
    403: ("permission-denied", "Permission denied"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-failed", "Validation failed"),
    429: ("too-many-requests", "Too many requests"),
    500: ("internal-error", "Internal server error"),
    503: ("unavailable", "Service unavailable"),
}


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    errors: list[FieldError] | None = None,
    request_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build an RFC 9457 problem details body."""
    body: dict[str, Any] = {
        "type": f"/api/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [e.as_dict() for e in errors]
    if request_id:
        body["request_id"] = request_id
    if extra:
        body.update(extra)
    return body


def pointer_token(key: Any) -> str:
    """``key`` as one JSON pointer reference token: ``~`` -> ``~0``, ``/`` -> ``~1`` (RFC 6901)."""
    return str(key).replace("~", "~0").replace("/", "~1")


def marshmallow_errors(messages: Any, prefix: str = "#") -> list[FieldError]:
    """Flatten marshmallow's nested ``{"field": ["msg"]}`` into JSON-pointer field errors."""
    out: list[FieldError] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            pointer = prefix if key == "_schema" else f"{prefix}/{pointer_token(key)}"
            out.extend(marshmallow_errors(value, pointer))
    elif isinstance(messages, list | tuple):
        for item in messages:
            if isinstance(item, dict | list):
                out.extend(marshmallow_errors(item, prefix))
            else:
                out.append(FieldError(pointer=prefix, detail=str(item)))
    else:
        out.append(FieldError(pointer=prefix, detail=str(messages)))
    return out
