"""Ledger transactions: the workflow every other feature calls to move units.

The workflow (four eyes, after the registry rules in docs/ledger.md):

* an enterprise user with the initiator capability requests a transfer out of their
  enterprise's account; the units are reserved at once so they cannot be spent twice, and the
  transfer waits in ``pending_approval`` until another user of the same enterprise with the
  approver capability approves it (never the initiator), or it lapses;
* a regulator's issuance, and a regulator's transfer out of a government account, likewise
  wait for a second regulator;
* an approved transfer to an account not on the source's trusted list waits ``delayed`` for
  ``LEDGER_UNTRUSTED_DELAY_HOURS`` (26 by default) and can be cancelled meanwhile;
* the system actor (settlement, scheduled jobs, the corrections cascade) posts at once.

``requests`` asks (transfer, issuance, reversal), ``decisions`` decides (approve, reject,
cancel), ``due`` completes and expires what falls due, ``records`` is what they share;
``idempotency`` makes a retried request do its work once, ``expiry`` cancels units whose
validity ended. This package's names below are the workflow's public face; posting itself is
``carbon_market.ledger.posting``.
"""

from carbon_market.ledger.transactions.decisions import approve, cancel, reject
from carbon_market.ledger.transactions.due import run_due
from carbon_market.ledger.transactions.requests import issue, request_transfer, reverse

__all__ = ["approve", "cancel", "issue", "reject", "request_transfer", "reverse", "run_due"]
