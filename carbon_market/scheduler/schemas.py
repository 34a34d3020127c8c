"""Job-run records as the API shows them."""

from __future__ import annotations

from marshmallow import fields

from carbon_market.kernel.schemas import PageArgsSchema, Schema
from carbon_market.scheduler.models import RunOutcome


class JobRunQueryArgsSchema(PageArgsSchema):
    job = fields.String(metadata={"description": "A job name, e.g. ledger_verify"})
    outcome = fields.Enum(RunOutcome, by_value=True)
    day = fields.Date(metadata={"description": "The day the job ran for"})
    since = fields.Date(metadata={"description": "Started on or after this day (Beijing)"})
    until = fields.Date(metadata={"description": "Started on or before this day (Beijing)"})


class JobRunSchema(Schema):
    id = fields.Integer()
    job = fields.String()
    day = fields.Date(metadata={"description": "The day (Asia/Shanghai) the job ran for"})
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    outcome = fields.Enum(RunOutcome, by_value=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    summary = fields.String()
    error = fields.String(allow_none=True)
    triggered_by = fields.String(metadata={"description": "scheduler, or cli:<user>"})
