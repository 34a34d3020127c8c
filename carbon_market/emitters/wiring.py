"""The registry's answers to the kernel's questions (``carbon_market.kernel.events``)."""

from __future__ import annotations

from carbon_market.emitters.service import enterprise_id_for
from carbon_market.kernel.auth.tenants import enterprise_by_credit_code


def wire() -> None:
    """Answer which enterprise an enterprise user's credit code names."""
    enterprise_by_credit_code.provide(enterprise_id_for)
