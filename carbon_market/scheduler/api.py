"""HTTP resource of the scheduler: ``/api/v1/jobs/runs`` (thin handler)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.views import MethodView

from carbon_market.kernel.http import Api, Blueprint, current_actor, db_session, page_request
from carbon_market.kernel.schemas import dump_page, page_of
from carbon_market.scheduler import runs
from carbon_market.scheduler.schemas import JobRunQueryArgsSchema, JobRunSchema

blp = Blueprint(
    "jobs",
    __name__,
    url_prefix="/api/v1/jobs",
    description="Scheduled jobs: the record of every run (docs/scheduler.md).",
)


def init_app(app: Flask, api: Api) -> None:
    api.register_blueprint(blp)


@blp.route("/runs")
class JobRuns(MethodView):
    @blp.arguments(JobRunQueryArgsSchema, location="query")
    @blp.response(200, page_of(JobRunSchema, "JobRunPageSchema"))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Job runs, newest first (regulators, auditors)."""
        page = page_request(args)
        return dump_page(runs.list_runs(db_session(), current_actor(), page=page, **args))
