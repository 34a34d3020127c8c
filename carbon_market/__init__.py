"""Carbon market and green finance operations platform.

The core package: the kernel (``kernel/``), the core features (emitter registration, the
registry ledger, MRV, trading, compliance, notifications, the scheduler) and the entry points
(``entrypoints/``); ``allocation`` and ``finance`` are features beside it. ``docs/design.md``
draws the layers.

``create_app`` is imported on first use (PEP 562), not with the package: importing any
``carbon_market.*`` module would otherwise build the whole web layer (Flask, every
blueprint, pandas), and the ``carbon-market`` command line would pay for it on every run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from carbon_market.entrypoints.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from carbon_market.entrypoints.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
