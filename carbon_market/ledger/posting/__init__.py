"""Posting units: the ledger's one public way for another feature to post in bulk.

A feature that moves units one transaction at a time calls the ledger's workflow
(``carbon_market.ledger.transactions``: request, issue, approve, reverse), which
posts through the engine. A bulk intake that settles tens of thousands of movements in one
unit of work (the exchange's trade file) calls :func:`post_many` with :class:`Movement` s
between :class:`Leg` s, as an :class:`Initiator`, and gets one :class:`Posted` per movement.

Everything else here is the engine's own (``engine.py``: the hot path's SQL, reservations,
the chain heads) and ``chain.py`` (the hash chain, pure); import-linter keeps the engine
private to the ledger (``pyproject.toml``).
"""

from carbon_market.ledger.posting.engine import Initiator, Leg, Movement, Posted, post_many

__all__ = ["Initiator", "Leg", "Movement", "Posted", "post_many"]
