"""MRV: the factor library, emission reports, their workbook and the synergy view."""

from carbon_market.kernel.features import Feature

FEATURE = Feature(
    name="mrv",
    models=(
        "carbon_market.mrv.factors.models",
        "carbon_market.mrv.reports.models",
    ),
    blueprints=(
        "carbon_market.mrv.factors.api",
        "carbon_market.mrv.reports.api",
        "carbon_market.mrv.xlsx.api",
        "carbon_market.mrv.synergy.api",
    ),
    commands=("carbon_market.mrv.cli:mrv",),
    wiring="carbon_market.mrv.wiring:wire",
)
