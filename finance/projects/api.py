"""HTTP resources of the climate-finance project library (thin handlers)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.views import MethodView
from flask_smorest.fields import Upload

from carbon_market.emitters.schemas import CatalogueEntrySchema
from carbon_market.kernel.http import (
    Api,
    Blueprint,
    csv_response,
    current_actor,
    db_session,
    page_request,
)
from carbon_market.kernel.schemas import Schema, dump_page, page_of
from finance.projects import bulk, catalogue, financing, importing, monitoring, portfolio
from finance.projects import service as svc
from finance.projects.schemas import (
    DisbursementCreateSchema,
    DisbursementSchema,
    FinancingCreateSchema,
    FinancingImportResultSchema,
    FinancingSchema,
    MilestoneCreateSchema,
    MilestoneDoneSchema,
    MilestoneSchema,
    MonitoringSchema,
    PortfolioQueryArgsSchema,
    PortfolioSchema,
    ProjectCreateSchema,
    ProjectImportResultSchema,
    ProjectQueryArgsSchema,
    ProjectSchema,
    ProjectStatusChangeSchema,
    ProjectStatusHistorySchema,
    ProjectUpdateSchema,
    ReductionCreateSchema,
    ReductionSchema,
    SubsectorSchema,
)

blp = Blueprint(
    "finance",
    __name__,
    url_prefix="/api/v1/finance",
    description="Climate-finance pilot projects (气候投融资): financing, monitoring, portfolio. "
    "Amounts are decimal strings in CNY.",
)

ProjectPageSchema = page_of(ProjectSchema, "ProjectPageSchema")
PROJECT = "/projects/<int:project_id>"
FINANCING = PROJECT + "/financings/<int:financing_id>"


class FinanceImportFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "CSV or XLSX"})


@blp.route("/subsectors")
class Subsectors(MethodView):
    @blp.response(200, SubsectorSchema(many=True))
    def get(self) -> Any:
        """The sub-sector catalogue with zh/en labels (public)."""
        return catalogue.list_subsectors(db_session())

    @blp.arguments(CatalogueEntrySchema)
    @blp.response(201, SubsectorSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a sub-sector (regulators and finance officers)."""
        return catalogue.add_subsector(db_session(), current_actor(), **data)


@blp.route("/projects")
class Projects(MethodView):
    @blp.arguments(ProjectQueryArgsSchema, location="query")
    @blp.response(200, ProjectPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List projects (enterprise users: the projects they sponsor)."""
        page = page_request(args)
        result = svc.list_projects(
            db_session(), current_actor(), filters=svc.ProjectFilter(**args), page=page
        )
        return dump_page(result)

    @blp.arguments(ProjectCreateSchema)
    @blp.response(201, ProjectSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Register a project (finance officers)."""
        return svc.create_project(db_session(), current_actor(), **data)


@blp.route(PROJECT)
class ProjectById(MethodView):
    @blp.response(200, ProjectSchema)
    def get(self, project_id: int) -> Any:
        """One project."""
        return svc.get_project(db_session(), current_actor(), project_id)

    @blp.arguments(ProjectUpdateSchema)
    @blp.response(200, ProjectSchema)
    def patch(self, data: dict[str, Any], project_id: int) -> Any:
        """Correct a project's details (finance officers)."""
        return svc.update_project(db_session(), current_actor(), project_id, changes=data)


@blp.route(PROJECT + "/status")
class ProjectStatus(MethodView):
    @blp.arguments(ProjectStatusChangeSchema)
    @blp.response(200, ProjectSchema)
    def post(self, data: dict[str, Any], project_id: int) -> Any:
        """Move the project along its lifecycle, or withdraw it (finance officers)."""
        return svc.change_status(db_session(), current_actor(), project_id, **data)


@blp.route(PROJECT + "/history")
class ProjectHistory(MethodView):
    @blp.response(200, ProjectStatusHistorySchema(many=True))
    def get(self, project_id: int) -> Any:
        """Status history, oldest first."""
        return svc.list_status_history(db_session(), current_actor(), project_id)


@blp.route(PROJECT + "/financings")
class Financings(MethodView):
    @blp.response(200, FinancingSchema(many=True))
    def get(self, project_id: int) -> Any:
        """The project's financings with disbursed amounts and interest."""
        return financing.list_financings(db_session(), current_actor(), project_id)

    @blp.arguments(FinancingCreateSchema)
    @blp.response(201, FinancingSchema)
    def post(self, data: dict[str, Any], project_id: int) -> Any:
        """Record a financing (finance officers)."""
        return financing.add_financing(db_session(), current_actor(), project_id, **data)


@blp.route(FINANCING)
class FinancingById(MethodView):
    @blp.response(200, FinancingSchema)
    def get(self, project_id: int, financing_id: int) -> Any:
        """One financing with its figures."""
        return financing.get_financing(db_session(), current_actor(), project_id, financing_id)


@blp.route(FINANCING + "/disbursements")
class Disbursements(MethodView):
    @blp.response(200, DisbursementSchema(many=True))
    def get(self, project_id: int, financing_id: int) -> Any:
        """The financing's disbursements, by date."""
        return financing.list_disbursements(db_session(), current_actor(), project_id, financing_id)

    @blp.arguments(DisbursementCreateSchema)
    @blp.response(201, DisbursementSchema)
    def post(self, data: dict[str, Any], project_id: int, financing_id: int) -> Any:
        """Record a disbursement (finance officers); never beyond the commitment."""
        return financing.add_disbursement(
            db_session(), current_actor(), project_id, financing_id, **data
        )


@blp.route(PROJECT + "/reductions")
class Reductions(MethodView):
    @blp.response(200, MonitoringSchema)
    def get(self, project_id: int) -> Any:
        """Reduction reports by period against the expected figure, and figures to date."""
        return monitoring.get_monitoring(db_session(), current_actor(), project_id)

    @blp.arguments(ReductionCreateSchema)
    @blp.response(201, ReductionSchema)
    def post(self, data: dict[str, Any], project_id: int) -> Any:
        """Report achieved reductions for a period (finance officers)."""
        return monitoring.report_reduction(db_session(), current_actor(), project_id, **data)


@blp.route(PROJECT + "/milestones")
class Milestones(MethodView):
    @blp.response(200, MilestoneSchema(many=True))
    def get(self, project_id: int) -> Any:
        """The project's milestones, by due date."""
        return monitoring.list_milestones(db_session(), current_actor(), project_id)

    @blp.arguments(MilestoneCreateSchema)
    @blp.response(201, MilestoneSchema)
    def post(self, data: dict[str, Any], project_id: int) -> Any:
        """Add a milestone (finance officers)."""
        return monitoring.add_milestone(db_session(), current_actor(), project_id, **data)


@blp.route(PROJECT + "/milestones/<int:milestone_id>/done")
class MilestoneDone(MethodView):
    @blp.arguments(MilestoneDoneSchema)
    @blp.response(200, MilestoneSchema)
    def post(self, data: dict[str, Any], project_id: int, milestone_id: int) -> Any:
        """Mark a milestone done (finance officers); ``done_on`` defaults to today."""
        return monitoring.complete_milestone(
            db_session(), current_actor(), project_id, milestone_id, **data
        )


@blp.route("/portfolio")
class Portfolio(MethodView):
    @blp.arguments(PortfolioQueryArgsSchema, location="query")
    @blp.response(200, PortfolioSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Portfolio totals and chart-ready series; ``?format=csv`` for a long-form CSV."""
        as_csv = args.pop("format") == "csv"
        filters = svc.ProjectFilter(**args)
        if as_csv:
            body = portfolio.portfolio_csv(db_session(), current_actor(), filters=filters)
            return csv_response(body, "portfolio.csv")
        return portfolio.get_portfolio(db_session(), current_actor(), filters=filters)


@blp.route("/projects/import")
class ProjectImport(MethodView):
    @blp.arguments(FinanceImportFileSchema, location="files")
    @blp.response(201, ProjectImportResultSchema)
    def post(self, files: dict[str, Any]) -> Any:
        """Import projects from CSV or XLSX, all or nothing (finance officers).

        Every bad row is reported at once as ``#/projects/rows/<row>/<column>``.
        """
        actor = current_actor()
        table = importing.read_upload(files["file"], importing.PROJECTS)
        return bulk.import_projects(db_session(), actor, table=table)


@blp.route("/financings/import")
class FinancingImport(MethodView):
    @blp.arguments(FinanceImportFileSchema, location="files")
    @blp.response(201, FinancingImportResultSchema)
    def post(self, files: dict[str, Any]) -> Any:
        """Import financings of registered projects, all or nothing (finance officers).

        Every bad row is reported at once as ``#/financings/rows/<row>/<column>``.
        """
        actor = current_actor()
        table = importing.read_upload(files["file"], importing.FINANCINGS)
        return bulk.import_financings(db_session(), actor, table=table)


def init_app(app: Flask, api: Api) -> None:
    api.register_blueprint(blp)
