"""The registry ledger."""

from carbon_market.kernel.features import Feature

FEATURE = Feature(
    name="ledger",
    models=("carbon_market.ledger.models",),
    blueprints=("carbon_market.ledger.api",),
    commands=("carbon_market.ledger.cli:ledger",),
    jobs="carbon_market.ledger.jobs:JOBS",
    wiring="carbon_market.ledger.wiring:wire",
)
