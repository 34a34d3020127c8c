"""The kernel's own tables and endpoints: users, tokens and the audit log."""

from carbon_market.kernel.features import Feature

FEATURE = Feature(
    name="kernel",
    models=(
        "carbon_market.kernel.auth.models",
        "carbon_market.kernel.audit.models",
    ),
    blueprints=(
        "carbon_market.kernel.auth.api",
        "carbon_market.kernel.audit.api",
    ),
)
