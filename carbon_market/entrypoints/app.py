"""The application factory."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import swagger_ui_bundle
from flask import Flask, send_from_directory
from werkzeug.wrappers import Response

from carbon_market.entrypoints import features, health, web
from carbon_market.kernel import http, problems
from carbon_market.kernel.auth import throttle
from carbon_market.kernel.clock import Clock
from carbon_market.kernel.config import Config, load_config
from carbon_market.kernel.db import make_engine, make_session_factory
from carbon_market.kernel.features import resolve

SWAGGER_UI_DIR = Path(swagger_ui_bundle.swagger_ui_path)


def create_app(
    config: Config | Mapping[str, str] | None = None, *, clock: Clock | None = None
) -> Flask:
    """Build the platform's Flask app.

    ``config`` is a ready :class:`Config`, a mapping of environment variables (tests), or None
    to read the process environment. ``clock`` replaces the system clock (tests).
    """
    cfg = config if isinstance(config, Config) else load_config(config)
    logging.basicConfig(level=cfg.log_level)
    # /readyz inspects the migration state on every probe; Alembic would log each one.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    app = Flask(__name__, instance_path=str(cfg.instance_path))
    # Before any route is added: every <int:...> is bounded to what a 64-bit id column holds.
    app.url_map.converters["int"] = http.BoundedIntConverter
    app.config.update(
        SECRET_KEY=cfg.secret_key,
        MAX_CONTENT_LENGTH=cfg.max_upload_length,
        API_TITLE="Carbon market and green finance platform",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        # Served from the swagger-ui-bundle package: nothing is fetched from a CDN.
        OPENAPI_SWAGGER_UI_URL="/api/docs/static/",
        API_SPEC_OPTIONS={
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearerAuth": []}],
        },
    )
    engine = make_engine(cfg.database_url)
    app.extensions["carbon_market.config"] = cfg
    app.extensions["carbon_market.engine"] = engine
    app.extensions["carbon_market.session_factory"] = make_session_factory(engine, clock, cfg)

    features.wire()
    api = http.Api(app)
    http.init_app(app)
    health.init_app(app)
    problems.init_app(app)
    for path in features.paths("blueprints"):  # every feature's resources, in feature order
        resolve(path).init_app(app, api)
    web.init_app(app, cfg)
    throttle.init_app(app, cfg)  # after the sign-in views are registered: it wraps them

    @app.get("/api/docs/static/<path:filename>")
    def swagger_static(filename: str) -> Response:
        return send_from_directory(SWAGGER_UI_DIR, filename)

    return app
