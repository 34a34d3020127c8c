"""The scheduler's records of job runs and its lease."""

from carbon_market.kernel.features import Feature

FEATURE = Feature(
    name="scheduler",
    models=("carbon_market.scheduler.models",),
    blueprints=("carbon_market.scheduler.api",),
)
