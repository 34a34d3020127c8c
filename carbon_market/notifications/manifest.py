"""The notifications outbox."""

from carbon_market.kernel.features import Feature

FEATURE = Feature(
    name="notifications",
    models=("carbon_market.notifications.models",),
    blueprints=("carbon_market.notifications.api",),
    jobs="carbon_market.notifications.jobs:JOBS",
)
