"""The manifest a feature registers itself with.

Each feature's ``manifest.py`` holds one :class:`Feature`: the modules that map its tables,
the modules whose ``init_app(app, api)`` registers its HTTP resources, its command groups,
its scheduled jobs, and the function that subscribes it to the events of the features below
it. The entry points (``carbon_market.entrypoints.features``) read every manifest in the
feature order and do the rest, so adding a feature touches its own folder and one line there.

Everything is named by a dotted path and imported only when an entry point needs it:
reading the manifests costs nothing, and the command line does not pay for Flask or pandas
to print its help.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any


@dataclass(frozen=True)
class Feature:
    """What a feature adds to the platform, by dotted path ("module" or "module:attribute")."""

    name: str
    #: Modules whose import maps the feature's tables (every model of the platform must be
    #: mapped before a session configures its relationships).
    models: tuple[str, ...] = ()
    #: Modules with ``init_app(app, api)``: the feature's blueprints, in registration order.
    blueprints: tuple[str, ...] = ()
    #: ``"module:group"``: click commands or groups added to ``carbon-market``.
    commands: tuple[str, ...] = ()
    #: ``"module:JOBS"``: a tuple of ``carbon_market.scheduler.jobs.Job``.
    jobs: str | None = None
    #: ``"module:function"``: called once per process to subscribe the feature's handlers to
    #: the events of the features below it and to answer their hooks.
    wiring: str | None = None


def resolve(path: str) -> Any:
    """The object a ``"module:attribute"`` path names (the module itself without ``:``)."""
    module, _, attribute = path.partition(":")
    loaded = import_module(module)
    return getattr(loaded, attribute) if attribute else loaded
