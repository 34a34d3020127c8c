"""Carbon market and green finance operations platform.

The core package: the app factory, configuration, database layer, auth, errors, emitter
registration and (in later issues) MRV, the registry ledger, trading and compliance.
"""

from carbon_market.app import create_app

__all__ = ["create_app"]
