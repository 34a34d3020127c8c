"""The HTTP edge: the smorest ``Api``, a strict ``Blueprint``, problem+json, request ids,
bearer-token authentication and the request-scoped database session.

Every error leaves the API as RFC 9457 problem details with ``application/problem+json``:
domain errors, werkzeug's routing errors (404/405), 413, webargs' 400/422 and any unexpected
exception (a 500 that is logged with its request id and never shows a traceback).
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask import Flask, Request, Response, current_app, g, json, request
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.fields import Upload
from sqlalchemy.orm import Session, sessionmaker
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, UnsupportedMediaType
from werkzeug.routing import IntegerConverter

from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.errors import (
    HTTP_PROBLEMS,
    DomainError,
    FieldError,
    NotAuthenticated,
    ValidationFailed,
    marshmallow_errors,
    pointer_token,
    problem,
)
from carbon_market.kernel.pagination import PageRequest
from carbon_market.kernel.schemas import ProblemSchema
from carbon_market.kernel.types import MAX_ID

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class StrictParser(FlaskParser):
    """Let the schema's ``unknown = RAISE`` apply to query strings and forms too."""

    DEFAULT_UNKNOWN_BY_LOCATION = {  # noqa: RUF012  (an instance variable upstream)
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": None,
        "querystring": None,
        "form": None,
        "files": None,
    }

    def load_files(self, req: Request, schema: ma.Schema) -> Any:
        """A multipart form's files *and* its text fields (``enterprise``, ``year`` beside an
        uploaded ``file``): smorest documents one request body per operation, so one
        ``location="files"`` schema must describe the whole form. A text field sent under
        the name of an upload field is left out: such a field is missing, not a file."""
        uploads = {name for name, field in schema.fields.items() if isinstance(field, Upload)}
        merged: MultiDict[str, Any] = MultiDict(req.files)
        for name, value in req.form.items(multi=True):
            if name not in uploads:
                merged.add(name, value)
        return self._makeproxy(merged, schema)


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` that matches only what a 64-bit column can hold: an id beyond it is a
    404 like any other missing row, where the database driver would have raised an overflow
    (a 500) on binding it."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class Blueprint(SmorestBlueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = StrictParser()


# --- problem rendering --------------------------------------------------------------------


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = problem(
        status,
        slug,
        title,
        detail,
        instance=request.path if request else None,
        errors=errors,
        request_id=g.get("request_id"),
        extra=extra,
    )
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def render_domain_error(exc: DomainError) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
    return problem_response(
        exc.status,
        exc.slug,
        exc.title,
        exc.detail,
        errors=exc.errors,
        extra=exc.extra,
        headers=headers,
    )


def _webargs_errors(messages: dict[str, Any]) -> list[FieldError]:
    # webargs nests messages by location: {"json": {...}, "query": {...}}. Body fields are
    # pointed at from the document root; other locations get their name as the first step.
    errors: list[FieldError] = []
    for location, inner in messages.items():
        prefix = "#" if location == "json" else f"#/{location}"
        errors.extend(marshmallow_errors(inner, prefix))
    return errors


def render_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    if status >= 500:
        return render_unexpected(getattr(exc, "original_exception", None) or exc)
    slug, title = HTTP_PROBLEMS.get(status, ("http-error", exc.name))
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    errors = _webargs_errors(messages) if isinstance(messages, dict) else []
    if status == 422 and errors:
        detail = f"{len(errors)} field(s) are invalid."
    elif status == 400 and errors:
        detail = errors[0].detail
    else:
        detail = exc.description or title
    headers = dict(data.get("headers") or {})
    if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
        headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    return problem_response(status, slug, title, detail, errors=errors, headers=headers)


def render_unexpected(exc: BaseException) -> Response:
    log.error("unhandled error in request %s", g.get("request_id"), exc_info=exc)
    slug, title = HTTP_PROBLEMS[500]
    return problem_response(
        500, slug, title, "The server failed to handle the request; it has been logged."
    )


class Api(SmorestApi):  # type: ignore[misc]
    """smorest's Api with problem+json for every HTTP exception it handles."""

    ERROR_SCHEMA = ProblemSchema

    def __init__(self, app: Flask | None = None, **kwargs: Any) -> None:
        # Blueprints whose views are not yet in the spec: (blueprint, name, parameters).
        self._undocumented: list[tuple[Any, str, Any]] = []
        self._complete_spec: Any = None
        self._documenting = threading.Lock()
        super().__init__(app, **kwargs)

    @property
    def spec(self) -> Any:
        """The OpenAPI spec, completed with the views of every registered blueprint.

        smorest documents a blueprint's views as it registers it, which is most of the cost
        of building the app (about 0.35 s of 0.4 s): every CLI command and every test paid
        it for a spec nobody read. The views are documented on first use of the spec
        instead (``/api/openapi.json``, ``flask openapi``), with the same result.
        """
        if self._undocumented:
            # Threads' first requests for the spec wait until one has documented every view:
            # none may document them twice, nor answer with half a spec (a blueprint leaves
            # the list only once it is in the spec).
            with self._documenting:
                while self._undocumented:
                    blueprint, name, parameters = self._undocumented[0]
                    blueprint.register_views_in_doc(
                        self, self._app, self._complete_spec, name=name, parameters=parameters
                    )
                    self._complete_spec.tag({"name": name, "description": blueprint.description})
                    del self._undocumented[0]
        return self._complete_spec

    @spec.setter
    def spec(self, value: Any) -> None:
        self._complete_spec = value

    def register_blueprint(self, blp: Any, *, parameters: Any = None, **options: Any) -> None:
        """smorest's registration, with the documentation of the views deferred (see
        :attr:`spec`)."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append((blp, name, parameters))

    def handle_http_exception(self, error: HTTPException) -> Response:
        return render_http_exception(error)


# --- request lifecycle --------------------------------------------------------------------


def _assign_request_id() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex


def _limit_body_size() -> None:
    # JSON bodies are small; only multipart uploads (bulk import files) may be large.
    config = current_app.extensions["carbon_market.config"]
    is_upload = request.mimetype == "multipart/form-data"
    request.max_content_length = (
        config.max_upload_length if is_upload else config.max_content_length
    )


_BODY_TYPES = ("application/json", "multipart/form-data")


def _require_known_body_type() -> None:
    """A body that is neither JSON nor a multipart upload is refused with 415, rather than
    read as an empty object and answered with a confusing list of missing fields."""
    has_body = bool(request.content_length) or "chunked" in request.headers.get(
        "Transfer-Encoding", ""
    )
    mimetype = request.mimetype or ""
    if (
        has_body
        and request.path.startswith("/api/")
        and not (mimetype in _BODY_TYPES or mimetype.endswith("+json"))
    ):
        raise UnsupportedMediaType(
            f"send the body as application/json (or multipart/form-data for uploads), "
            f"not {mimetype or 'without a Content-Type'}"
        )


_QUERY_LOCATIONS = ("query", "querystring")


def _takes_query(view: Any, method: str) -> bool | None:
    """Whether the smorest operation behind ``view`` declares query arguments; None for a
    view smorest does not document (the problem catalogue, the docs, health probes)."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        name = "get" if method == "HEAD" else method.lower()
        view = getattr(view_class, name, None)
    apidoc = getattr(view, "_apidoc", None)
    if apidoc is None:
        return None
    parameters = apidoc.get("arguments", {}).get("parameters", [])
    return any(p.get("in") in _QUERY_LOCATIONS for p in parameters)


def _refuse_unknown_query() -> None:
    """An operation without query arguments refuses any query parameter, as the others
    refuse an unknown one (their schemas RAISE): ``GET /enterprises/7?format=csv`` would
    otherwise answer JSON as if asked for it, the parameter silently ignored."""
    if not request.args or not request.path.startswith("/api/") or request.endpoint is None:
        return
    view = current_app.view_functions.get(request.endpoint)
    if _takes_query(view, request.method) is not False:
        return
    names = list(dict.fromkeys(request.args.keys()))
    raise ValidationFailed(
        f"{len(names)} field(s) are invalid.",
        errors=[FieldError(f"#/query/{pointer_token(n)}", "Unknown field.") for n in names],
    )


def _echo_request_id(response: Response) -> Response:
    if "request_id" in g:
        response.headers["X-Request-ID"] = g.request_id
    return response


def db_session() -> Session:
    """The request's session, created on first use and closed at teardown."""
    if "db_session" not in g:
        factory: sessionmaker[Session] = current_app.extensions["carbon_market.session_factory"]
        g.db_session = factory()
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


#: ``(session, token, request id) -> Actor``, raising NotAuthenticated: how a bearer token
#: becomes an actor. The auth blueprint installs it (``kernel/auth/api.py``), so this module,
#: below the services, does not import how tokens are stored.
Authenticator = Callable[[Session, str, str | None], Actor]
AUTHENTICATOR = "carbon_market.authenticate"


def current_actor() -> Actor:
    """The authenticated actor, or 401. Bearer tokens only (the API keeps no cookies)."""
    if "actor" not in g:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("send 'Authorization: Bearer <token>'")
        authenticate: Authenticator = current_app.extensions[AUTHENTICATOR]
        g.actor = authenticate(db_session(), token.strip(), g.get("request_id"))
    actor: Actor = g.actor
    return actor


def page_request(args: dict[str, Any]) -> PageRequest:
    """Pop ``page`` and ``page_size`` from parsed query args into a PageRequest."""
    return PageRequest(page=args.pop("page"), page_size=args.pop("page_size"))


def init_app(app: Flask) -> None:
    app.before_request(_assign_request_id)
    app.before_request(_limit_body_size)
    app.before_request(_require_known_body_type)
    app.before_request(_refuse_unknown_query)
    app.after_request(_echo_request_id)
    app.teardown_appcontext(_close_session)
    app.register_error_handler(DomainError, render_domain_error)
    app.register_error_handler(HTTPException, render_http_exception)
    app.register_error_handler(Exception, render_unexpected)


def csv_response(text: str, filename: str) -> Response:
    """A CSV download (``carbon_market.kernel.csv_export.csv_text``) named ``filename``."""
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
