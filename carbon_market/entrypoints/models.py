"""Every ORM model of the platform, mapped in one place.

Alembic's ``env.py``, the command line's sessions and the test fixtures import this module so
that ``Base.metadata`` holds the whole schema; the features' manifests name their model
modules (``carbon_market.entrypoints.features``).
"""

from carbon_market.entrypoints.features import load_models
from carbon_market.kernel.db import Base

load_models()

__all__ = ["Base"]
