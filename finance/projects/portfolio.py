"""The portfolio service: loads the library's figures and hands them to ``analytics``.

Four narrow queries (projects, financings, disbursements, reduction reports), each row a
plain tuple: the ORM's per-object cost would dominate on a large library, and the pure
module does the arithmetic.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.csv_export import csv_text
from finance.projects.models import Disbursement, Financing, Project, ReductionReport
from finance.projects.rules import analytics
from finance.projects.rules.figures import expected_for_period
from finance.projects.service import ProjectFilter, filtered_projects


def _frames(session: Session, filters: ProjectFilter) -> dict[str, Any]:
    projects = session.execute(
        filtered_projects(
            select(
                Project.id,
                Project.locality,
                Project.category,
                Project.subsector,
                Project.status,
                Project.start_date,
                Project.total_investment,
                Project.expected_annual_reduction_t,
            ),
            filters,
        ).order_by(Project.id)
    ).all()
    # A subquery rather than a list of ids: a large library would exceed bind limits.
    ids = filtered_projects(select(Project.id), filters)
    annual = {p.id: p.expected_annual_reduction_t for p in projects}
    chosen = Financing.project_id.in_(ids)
    financings = session.execute(
        select(
            Financing.id,
            Financing.project_id,
            Financing.instrument,
            Financing.start_date,
            Financing.committed,
        ).where(chosen)
    ).all()
    disbursements = session.execute(
        select(
            Disbursement.financing_id,
            Financing.project_id,
            Financing.instrument,
            Disbursement.disbursed_on,
            Disbursement.amount,
        )
        .join(Financing, Financing.id == Disbursement.financing_id)
        .where(chosen)
    ).all()
    reports = session.execute(
        select(
            ReductionReport.project_id,
            ReductionReport.period_start,
            ReductionReport.period_end,
            ReductionReport.achieved_t,
        ).where(ReductionReport.project_id.in_(ids))
    ).all()
    return {
        "projects": analytics.frame(
            (
                {
                    "id": p.id,
                    "locality": p.locality,
                    "category": p.category.value,
                    "subsector": p.subsector,
                    "status": p.status.value,
                    "start_year": p.start_date.year,
                    "total_investment": p.total_investment,
                    "expected_annual_reduction_t": p.expected_annual_reduction_t,
                }
                for p in projects
            ),
            analytics.PROJECT_COLUMNS,
        ),
        "financings": analytics.frame(
            (
                {
                    "id": f.id,
                    "project_id": f.project_id,
                    "instrument": f.instrument.value,
                    "start_year": f.start_date.year,
                    "committed": f.committed,
                }
                for f in financings
            ),
            analytics.FINANCING_COLUMNS,
        ),
        "disbursements": analytics.frame(
            (
                {
                    "financing_id": d.financing_id,
                    "project_id": d.project_id,
                    "instrument": d.instrument.value,
                    "year": d.disbursed_on.year,
                    "amount": d.amount,
                }
                for d in disbursements
            ),
            analytics.DISBURSEMENT_COLUMNS,
        ),
        "reductions": analytics.frame(
            (
                {
                    "project_id": r.project_id,
                    "year": r.period_end.year,
                    "achieved_t": r.achieved_t,
                    "expected_t": expected_for_period(
                        annual[r.project_id], r.period_start, r.period_end
                    ),
                }
                for r in reports
            ),
            analytics.REDUCTION_COLUMNS,
        ),
    }


def get_portfolio(session: Session, actor: Actor, *, filters: ProjectFilter) -> dict[str, Any]:
    """Portfolio figures over the projects matching ``filters``, JSON-ready (decimal
    strings). Regulators, finance officers and auditors: the figures cover every sponsor."""
    authorize(actor, "finance.portfolio")
    figures = analytics.portfolio_figures(**_frames(session, filters))
    result: dict[str, Any] = analytics.as_json(figures)
    return result


def portfolio_csv(session: Session, actor: Actor, *, filters: ProjectFilter) -> str:
    """The same figures as CSV in long form: ``section,label,metric,value``."""
    authorize(actor, "finance.portfolio")
    figures = analytics.portfolio_figures(**_frames(session, filters))
    columns = ["section", "label", "metric", "value"]
    return csv_text(columns, analytics.csv_rows(figures), lineterminator="\n")
