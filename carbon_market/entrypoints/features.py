"""The features of the platform, in their one order, and what the entry points do with them.

:data:`FEATURES` lists every feature's package, lowest first: the order in which a feature
may import another (``docs/design.md``, enforced by import-linter in ``pyproject.toml``).
Each package's ``manifest.py`` says what the feature adds (``carbon_market.kernel.features``);
the app factory, the command line and the job registry read the manifests in this order.
Adding a feature is its own folder and one line here.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from importlib import import_module

from carbon_market.kernel import events
from carbon_market.kernel.features import Feature, resolve

#: Lowest first. A feature imports the kernel and the features before it, never one after.
FEATURES: tuple[str, ...] = (
    "carbon_market.kernel",
    "carbon_market.scheduler",
    "carbon_market.emitters",
    "carbon_market.notifications",
    "carbon_market.ledger",
    "finance.greenpower",
    "carbon_market.mrv",
    "carbon_market.trading",
    "carbon_market.compliance",
    "allocation",
    "finance.projects",
)

_wiring = threading.Lock()


@functools.cache
def manifests() -> tuple[Feature, ...]:
    """Every feature's manifest, in :data:`FEATURES` order (reading them imports nothing
    else)."""
    return tuple(import_module(f"{package}.manifest").FEATURE for package in FEATURES)


def paths(kind: str) -> Iterator[str]:
    """The dotted paths the manifests list under ``kind`` (``models``, ``blueprints``, ...),
    in feature order."""
    for feature in manifests():
        yield from getattr(feature, kind)


@functools.cache
def load_models() -> None:
    """Map every table of the platform: a session's relationships may reach any of them."""
    for path in paths("models"):
        import_module(path)


def wire() -> None:
    """Subscribe every feature to the events of the features below it and answer their
    hooks, once per process (``carbon_market.kernel.events``). Every entry point calls it
    before its first unit of work; calling it again does nothing."""
    with _wiring:
        if events.is_wired():
            return
        for feature in manifests():
            if feature.wiring is not None:
                resolve(feature.wiring)()
        events.mark_wired()
