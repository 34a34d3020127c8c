"""Compliance: years, surrenders, status, penalties and corrections."""

from carbon_market.kernel.features import Feature

FEATURE = Feature(
    name="compliance",
    models=("carbon_market.compliance.models",),
    blueprints=("carbon_market.compliance.api",),
    jobs="carbon_market.compliance.jobs:JOBS",
    wiring="carbon_market.compliance.wiring:wire",
)
