"""The climate-finance project library."""

from carbon_market.kernel.features import Feature

FEATURE = Feature(
    name="projects",
    models=("finance.projects.models",),
    blueprints=("finance.projects.api",),
    commands=("finance.projects.cli:finance",),
    jobs="finance.projects.jobs:JOBS",
)
