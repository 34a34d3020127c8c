"""HTTP resources for allocation under ``/api/v1/allocation`` (thin handlers)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from flask import Flask
from flask.views import MethodView

from allocation import auctions, service
from allocation.issuing import stages
from allocation.issuing import whole as issuing
from allocation.models import Stage
from allocation.reserve import decisions, entrants, reductions
from allocation.schemas import (
    AdjustmentArgsSchema,
    AdjustmentSchema,
    AuctionOpenSchema,
    AuctionQueryArgsSchema,
    AuctionSchema,
    BidInSchema,
    BidSchema,
    CompareArgsSchema,
    ComparisonRowSchema,
    CopySchema,
    DryRunSchema,
    EntrantInSchema,
    IssueSummarySchema,
    PlanDocumentSchema,
    PlanFileSchema,
    PlanQueryArgsSchema,
    PlanSchema,
    ReductionInSchema,
    RejectSchema,
    SettleSummarySchema,
    StageSummarySchema,
    StoredResultSchema,
)
from carbon_market.kernel.http import Api, Blueprint, current_actor, db_session, page_request
from carbon_market.kernel.schemas import PageArgsSchema, dump_page, page_of

blp = Blueprint(
    "allocation",
    __name__,
    url_prefix="/api/v1/allocation",
    description="Allocation plans: draft, copy, approve (a second regulator), dry runs, "
    "comparison and issuing through the ledger; auctions: open, sealed bids, clearing and "
    "settlement through the ledger.",
)


def _split(data: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    name = data.pop("name", None)
    return data, name


@blp.route("/plans")
class Plans(MethodView):
    @blp.arguments(PlanQueryArgsSchema, location="query")
    @blp.response(200, page_of(PlanSchema, "AllocationPlanPageSchema"))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List plans (``year``, ``status``); regulators and auditors."""
        page = page_request(args)
        return dump_page(service.list_plans(db_session(), current_actor(), page=page, **args))

    @blp.arguments(PlanDocumentSchema)
    @blp.response(201, PlanSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a draft plan from its document (regulators)."""
        document, name = _split(data)
        return service.create_plan(db_session(), current_actor(), document=document, name=name)


@blp.route("/plans/<int:plan_id>")
class PlanById(MethodView):
    @blp.response(200, PlanSchema)
    def get(self, plan_id: int) -> Any:
        return service.get_plan(db_session(), current_actor(), plan_id)

    @blp.arguments(PlanDocumentSchema)
    @blp.response(200, PlanSchema)
    def put(self, data: dict[str, Any], plan_id: int) -> Any:
        """Replace a draft's document (409 once approved)."""
        document, name = _split(data)
        return service.update_plan(
            db_session(), current_actor(), plan_id, document=document, name=name
        )


@blp.route("/plans/import")
class PlanImport(MethodView):
    @blp.arguments(PlanFileSchema, location="files")
    @blp.response(201, PlanSchema)
    def post(self, form: dict[str, Any]) -> Any:
        """Record an exported plan document (multipart ``file``, optional ``name``) as a
        draft (regulators): the same checks as creating one."""
        return service.import_plan(
            db_session(), current_actor(), content=form["file"].read(), name=form.get("name")
        )


@blp.route("/plans/<int:plan_id>/document")
class PlanExport(MethodView):
    @blp.response(200, PlanDocumentSchema)
    def get(self, plan_id: int) -> Any:
        """The plan's document, ready to import (as ``carbon-market allocation export``)."""
        return service.export_document(db_session(), current_actor(), plan_id)


@blp.route("/plans/<int:plan_id>/copy")
class PlanCopy(MethodView):
    @blp.arguments(CopySchema)
    @blp.response(201, PlanSchema)
    def post(self, data: dict[str, Any], plan_id: int) -> Any:
        """A new draft from this plan for ``year`` (default: the next), base years shifted."""
        return service.copy_plan(db_session(), current_actor(), plan_id, **data)


@blp.route("/plans/<int:plan_id>/approve")
class PlanApprove(MethodView):
    @blp.response(200, PlanSchema)
    def post(self, plan_id: int) -> Any:
        """Approve a draft (a regulator other than its author): its results are frozen."""
        return service.approve_plan(db_session(), current_actor(), plan_id)


@blp.route("/plans/<int:plan_id>/compute")
class PlanCompute(MethodView):
    @blp.response(200, DryRunSchema)
    def post(self, plan_id: int) -> Any:
        """Dry run on the registry as it is now: per-facility results, nothing stored."""
        outcome = service.dry_run(db_session(), current_actor(), plan_id)
        return {"summary": outcome.summary(), "results": service.result_documents(outcome)}


@blp.route("/plans/<int:plan_id>/results")
class PlanResults(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_of(StoredResultSchema, "AllocationResultPageSchema"))
    def get(self, args: dict[str, Any], plan_id: int) -> dict[str, Any]:
        """The approved plan's frozen results (enterprise users: their own facilities)."""
        page = page_request(args)
        return dump_page(service.list_results(db_session(), current_actor(), plan_id, page=page))


@blp.route("/plans/<int:plan_id>/issue")
class PlanIssue(MethodView):
    @blp.response(200, IssueSummarySchema)
    def post(self, plan_id: int) -> Any:
        """Issue an approved plan through the ledger, in batches; a repeat moves nothing."""
        return issuing.issue_plan(db_session(), current_actor(), plan_id)


@blp.route("/plans/<int:plan_id>/pre-allocate")
class PlanPreAllocate(MethodView):
    @blp.response(200, StageSummarySchema)
    def post(self, plan_id: int) -> Any:
        """Issue pre_allocation_share of each allocation on last year's activity; a repeat
        moves nothing."""
        return stages.pre_allocate(db_session(), current_actor(), plan_id)


@blp.route("/plans/<int:plan_id>/true-up")
class PlanTrueUp(MethodView):
    @blp.response(200, StageSummarySchema)
    def post(self, plan_id: int) -> Any:
        """Issue (or claw back) the final allocation less the pre-allocation; a repeat moves
        nothing."""
        return stages.true_up(db_session(), current_actor(), plan_id)


@blp.route("/plans/<int:plan_id>/adjustments")
class PlanAdjustments(MethodView):
    @blp.arguments(AdjustmentArgsSchema, location="query")
    @blp.response(200, page_of(AdjustmentSchema, "AllocationAdjustmentPageSchema"))
    def get(self, args: dict[str, Any], plan_id: int) -> dict[str, Any]:
        """Pre-allocation, true-up and new-entrant movements (enterprises: their own)."""
        page = page_request(args)
        return dump_page(
            service.list_adjustments(db_session(), current_actor(), plan_id, page=page, **args)
        )


@blp.route("/plans/<int:plan_id>/new-entrants")
class PlanNewEntrants(MethodView):
    @blp.arguments(EntrantInSchema)
    @blp.response(201, AdjustmentSchema)
    def post(self, data: dict[str, Any], plan_id: int) -> Any:
        """Record a new entrant or a capacity change: its allocation from the plan's
        reserve by benchmark, pro rata by months operating, pending a second regulator."""
        return entrants.record_entrant(db_session(), current_actor(), plan_id, **data)


@blp.route("/plans/<int:plan_id>/capacity-reductions")
class PlanCapacityReductions(MethodView):
    @blp.arguments(ReductionInSchema)
    @blp.response(201, AdjustmentSchema)
    def post(self, data: dict[str, Any], plan_id: int) -> Any:
        """Record a capacity reduction or a closure: the allowances to return to the
        reserve by benchmark, pro rata by months, pending a second regulator."""
        return reductions.record_reduction(db_session(), current_actor(), plan_id, **data)


#: The two kinds of reserve record, by their collection's name in the URL.
RECORDS = {"new-entrants": Stage.NEW_ENTRANT, "capacity-reductions": Stage.CAPACITY_REDUCTION}


def _decision_routes(collection: str, stage: Stage) -> None:
    """``…/{collection}/{id}/approve`` and ``/reject`` for one kind of reserve record."""
    name = collection.replace("-", "_")

    @blp.route(
        f"/plans/<int:plan_id>/{collection}/<int:record_id>/approve", endpoint=f"{name}_approve"
    )
    class Approve(MethodView):
        @blp.response(200, AdjustmentSchema)
        def post(self, plan_id: int, record_id: int) -> Any:
            """Approve a pending record (a regulator other than the recorder): its units
            move through the ledger; a repeat moves nothing (an owed reduction: tries
            again)."""
            return decisions.approve_record(
                db_session(), current_actor(), plan_id, record_id, stage=stage
            )

    @blp.route(
        f"/plans/<int:plan_id>/{collection}/<int:record_id>/reject", endpoint=f"{name}_reject"
    )
    class Reject(MethodView):
        @blp.arguments(RejectSchema)
        @blp.response(200, AdjustmentSchema)
        def post(self, data: dict[str, Any], plan_id: int, record_id: int) -> Any:
            """Reject a pending record (a regulator other than the recorder): nothing
            moves."""
            return decisions.reject_record(
                db_session(), current_actor(), plan_id, record_id, stage=stage, **data
            )


for _collection, _stage in RECORDS.items():
    _decision_routes(_collection, _stage)


@blp.route("/compare")
class Compare(MethodView):
    @blp.arguments(CompareArgsSchema, location="query")
    @blp.response(200, ComparisonRowSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """Two plans computed on the registry, side by side per facility."""
        table = service.compare_plans(db_session(), current_actor(), args["a"], args["b"])
        table = table.astype(object).where(pd.notna(table), None)
        return table.to_dict("records")


@blp.route("/auctions")
class Auctions(MethodView):
    @blp.arguments(AuctionQueryArgsSchema, location="query")
    @blp.response(200, page_of(AuctionSchema, "AuctionPageSchema"))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List auctions (``year``, ``status``): their terms and results are public."""
        page = page_request(args)
        return dump_page(auctions.list_auctions(db_session(), current_actor(), page=page, **args))

    @blp.arguments(AuctionOpenSchema)
    @blp.response(201, AuctionSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Open an auction (regulators): volume, reserve price, per-bidder limit, window."""
        return auctions.open_auction(db_session(), current_actor(), **data)


@blp.route("/auctions/<int:auction_id>")
class AuctionById(MethodView):
    @blp.response(200, AuctionSchema)
    def get(self, auction_id: int) -> Any:
        return auctions.get_auction(db_session(), current_actor(), auction_id)


@blp.route("/auctions/<int:auction_id>/bids")
class AuctionBids(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_of(BidSchema, "AuctionBidPageSchema"))
    def get(self, args: dict[str, Any], auction_id: int) -> dict[str, Any]:
        """Bids: an enterprise its own; regulators and auditors all, once the window closed."""
        page = page_request(args)
        return dump_page(auctions.list_bids(db_session(), current_actor(), auction_id, page=page))

    @blp.arguments(BidInSchema)
    @blp.response(201, BidSchema)
    def post(self, data: dict[str, Any], auction_id: int) -> Any:
        """Submit a sealed bid for one's enterprise, inside the window and the limit."""
        return auctions.submit_bid(db_session(), current_actor(), auction_id, **data)


@blp.route("/auctions/<int:auction_id>/bids/<int:bid_id>/withdraw")
class AuctionBidWithdraw(MethodView):
    @blp.response(200, BidSchema)
    def post(self, auction_id: int, bid_id: int) -> Any:
        """Withdraw one's own bid while the window is open: kept as ``withdrawn``, out of
        the limit and the clearing; one may bid again."""
        return auctions.withdraw_bid(db_session(), current_actor(), auction_id, bid_id)


@blp.route("/auctions/<int:auction_id>/clear")
class AuctionClear(MethodView):
    @blp.response(200, AuctionSchema)
    def post(self, auction_id: int) -> Any:
        """Clear a closed auction (regulators); a repeat changes nothing."""
        return auctions.clear(db_session(), current_actor(), auction_id)


@blp.route("/auctions/<int:auction_id>/settle")
class AuctionSettle(MethodView):
    @blp.response(200, SettleSummarySchema)
    def post(self, auction_id: int) -> Any:
        """Move the awards from the auction account to the winners; a repeat moves nothing."""
        return auctions.settle(db_session(), current_actor(), auction_id)


def init_app(app: Flask, api: Api) -> None:
    api.register_blueprint(blp)
