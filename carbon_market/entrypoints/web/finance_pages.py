"""The climate-finance pages: the pilot projects a user may see, one project's financing
and monitoring, and (regulators, finance officers, auditors) the portfolio's totals.

Figures are shown as the API's schemas write them (``finance/projects/schemas.py``):
amounts and tonnes as the same decimal strings as ``GET /api/v1/finance/...``.
"""

from __future__ import annotations

from typing import Any

from carbon_market.entrypoints.web.actor import web_actor
from carbon_market.entrypoints.web.views import bp, query_args, render, requested_page
from carbon_market.kernel.access.policy import is_allowed
from carbon_market.kernel.http import db_session
from finance.projects import financing, monitoring, portfolio
from finance.projects import service as svc
from finance.projects.enums import ProjectCategory, ProjectStatus
from finance.projects.schemas import (
    DisbursementSchema,
    FinancingSchema,
    MilestoneSchema,
    MonitoringSchema,
    ProjectQueryArgsSchema,
    ProjectSchema,
    ProjectStatusHistorySchema,
)

#: The list's filters (the API's query parameters of the same names).
FILTERS = ("status", "category", "locality", "subsector")

#: The portfolio's totals in the order shown, with their labels (keys as in the API's).
TOTALS = (
    ("projects", "Projects 项目数"),
    ("total_investment", "Total investment (CNY) 总投资"),
    ("committed", "Committed (CNY) 已承诺融资"),
    ("disbursed", "Disbursed (CNY) 已发放"),
    ("grant_committed", "Grants committed (CNY) 赠款"),
    ("finance_coverage", "Finance coverage 融资覆盖率"),
    ("leverage", "Leverage 撬动比"),
    ("expected_annual_reduction_t", "Expected annual reduction (t) 预期年减排量"),
    ("expected_reduction_t", "Expected for reported periods (t) 报告期预期减排"),
    ("achieved_reduction_t", "Achieved (t) 实际减排"),
    ("achieved_vs_expected", "Achieved ÷ expected 完成率"),
    ("cost_per_tonne", "Cost per tonne achieved (CNY/t) 单位减排成本"),
)


def _filters() -> dict[str, Any]:
    """The form's filters, read by the API's query schema (its messages for a bad value)."""
    return query_args(ProjectQueryArgsSchema(only=FILTERS), FILTERS)


@bp.get("/projects", endpoint="projects")
def project_list() -> str:
    """The projects the user may see (an enterprise: those it sponsors), 50 a page, with
    the portfolio's totals over the same filters for those who may read the portfolio."""
    actor = web_actor()  # signed in before the form is read: a stranger is sent to sign in
    session, filters = db_session(), svc.ProjectFilter(**_filters())
    page = svc.list_projects(session, actor, filters=filters, page=requested_page())
    totals = None
    if is_allowed(actor, "finance.portfolio"):
        totals = portfolio.get_portfolio(session, actor, filters=filters)["totals"]
    return render(
        "projects.html", page=page, projects=ProjectSchema(many=True).dump(page.items),
        totals=totals, form={name: getattr(filters, name) or "" for name in FILTERS},
        statuses=list(ProjectStatus), categories=list(ProjectCategory),
        totals_labels=TOTALS,
    )  # fmt: skip


@bp.get("/projects/<int:project_id>", endpoint="project")
def project_detail(project_id: int) -> str:
    """One project: its financings with their disbursements, expected and achieved
    reductions, milestones and status history (another sponsor's project: 404)."""
    session, actor = db_session(), web_actor()
    project = svc.get_project(session, actor, project_id)
    financings = financing.list_financings(session, actor, project_id)
    paid = {
        view.financing.id: DisbursementSchema(many=True).dump(
            financing.list_disbursements(session, actor, project_id, view.financing.id)
        )
        for view in financings
    }
    return render(
        "project.html", project=ProjectSchema().dump(project),
        financings=FinancingSchema(many=True).dump(financings), disbursements=paid,
        monitoring=MonitoringSchema().dump(monitoring.get_monitoring(session, actor, project_id)),
        milestones=MilestoneSchema(many=True).dump(
            monitoring.list_milestones(session, actor, project_id)
        ),
        history=ProjectStatusHistorySchema(many=True).dump(
            svc.list_status_history(session, actor, project_id)
        ),
    )  # fmt: skip
