"""Domain events and hooks: how a lower feature sets off work in a higher one without
importing it.

The features are stacked in one order (``docs/design.md``): a feature imports the kernel and
the features below it, never one above. Yet some facts travel upward: approving a corrected
report changes an enterprise's compliance, a green-power claim changes an open report,
registering an enterprise opens its registry account. The lower feature states such a fact
as an **event** (a frozen dataclass in its ``events`` module) and publishes it; the higher
feature subscribes a handler at start-up. A **hook** is the same inversion for a question
with one answer: the lower feature declares it, one higher feature provides the answer.

Handlers run at once, in the order they subscribed, in the publisher's session and unit of
work: what they change commits or rolls back with the change that set them off, exactly as
if the publisher had called them. A handler that raises undoes the whole unit.

Subscriptions are made once per process by the entry points
(``carbon_market.entrypoints.features.wire``), which every entry point calls before its
first unit of work: the app factory, the command line, the scheduler, and the tests'
conftest. Publishing before that, or asking a hook nobody provided, raises
:class:`NotWired`: an event nobody could have heard is a bug, never a silent no-op.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session


class Event:
    """Base of every domain event: a fact, named in the past tense, as a frozen dataclass."""


E = TypeVar("E", bound=Event)
F = TypeVar("F", bound=Callable[..., Any])

Handler = Callable[[Session, Any], None]

_handlers: dict[type[Event], list[Handler]] = {}
_wired = False


class NotWired(RuntimeError):
    """An event was published, or a hook asked, before the features were wired."""


def subscribe(event_type: type[E], handler: Callable[[Session, E], None]) -> None:
    """Run ``handler(session, event)`` whenever an ``event_type`` is published.

    Subscribing the same handler twice is harmless (wiring is idempotent)."""
    handlers = _handlers.setdefault(event_type, [])
    if handler not in handlers:
        handlers.append(handler)


def publish(session: Session, event: Event) -> None:
    """Hand ``event`` to its subscribers, in the caller's unit of work."""
    if not _wired:
        raise NotWired(
            f"{type(event).__name__} published before the features were wired "
            "(carbon_market.entrypoints.features.wire)"
        )
    for handler in _handlers.get(type(event), ()):
        handler(session, event)


def mark_wired() -> None:
    """Called by the entry points once every feature has subscribed and provided."""
    global _wired
    _wired = True


def is_wired() -> bool:
    return _wired


class Hook(Generic[F]):
    """One question a lower feature asks and exactly one higher feature answers.

    Declared at module level in the asking feature (``tenants = Hook[...]("…")``); the
    answering feature calls :meth:`provide` when it is wired; the asker calls :meth:`get`.
    """

    def __init__(self, question: str) -> None:
        self.question = question
        self._answer: F | None = None

    def provide(self, answer: F) -> None:
        """Answer the hook; a second, different answer is a wiring error."""
        if self._answer is not None and self._answer is not answer:
            raise RuntimeError(f"the hook {self.question!r} is answered twice")
        self._answer = answer

    def get(self) -> F:
        if self._answer is None:
            raise NotWired(
                f"nobody answered the hook {self.question!r}: the features were not wired "
                "(carbon_market.entrypoints.features.wire)"
            )
        return self._answer
