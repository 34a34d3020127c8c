"""Emitter registration: enterprises, facilities, catalogues."""

from carbon_market.kernel.features import Feature

FEATURE = Feature(
    name="emitters",
    models=("carbon_market.emitters.models",),
    blueprints=("carbon_market.emitters.api",),
    wiring="carbon_market.emitters.wiring:wire",
)
