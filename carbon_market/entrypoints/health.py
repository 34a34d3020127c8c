"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from carbon_market.kernel import migrate

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> dict[str, Any]:
    """The process is up and answering (no database call: a slow database is not death)."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> tuple[dict[str, Any], int]:
    """Ready for traffic: the database answers and its schema is at the migrations' head."""
    engine = current_app.extensions["carbon_market.engine"]
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current = migrate.current_revisions(engine)
    except SQLAlchemyError as exc:
        return {"status": "unavailable", "database": f"unreachable: {type(exc).__name__}"}, 503
    heads = migrate.head_revisions(str(engine.url))
    if current != heads:
        return {
            "status": "unavailable",
            "database": "reachable",
            "migrations": {"current": sorted(current), "head": sorted(heads)},
        }, 503
    return {
        "status": "ready",
        "database": "reachable",
        "migrations": {"current": sorted(current)},
    }, 200


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
