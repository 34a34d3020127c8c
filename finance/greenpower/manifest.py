"""Green power: plants, trades, certificates and claims."""

from carbon_market.kernel.features import Feature

FEATURE = Feature(
    name="greenpower",
    models=("finance.greenpower.models",),
    blueprints=("finance.greenpower.api",),
)
