"""Allocation: plans, issuing, the reserve and auctions."""

from carbon_market.kernel.features import Feature

FEATURE = Feature(
    name="allocation",
    models=("allocation.models",),
    blueprints=("allocation.api",),
    commands=("allocation.cli:allocation",),
)
