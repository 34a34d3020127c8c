"""Trading: the exchange's trades, their settlement and the market."""

from carbon_market.kernel.features import Feature

FEATURE = Feature(
    name="trading",
    models=("carbon_market.trading.models",),
    blueprints=("carbon_market.trading.api",),
    commands=("carbon_market.trading.cli:trades",),
    jobs="carbon_market.trading.jobs:JOBS",
)
