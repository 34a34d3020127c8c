"""Emitter registration: enterprises, facilities, catalogues."""

from carbon_market.kernel.features import Feature

FEATURE = Feature(
    name="emitters",
    models=("carbon_market.emitters.models",),
    blueprints=("carbon_market.emitters.api",),
    commands=("carbon_market.emitters.cli:import_",),
    wiring="carbon_market.emitters.wiring:wire",
)
