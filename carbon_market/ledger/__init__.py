"""The registry ledger: accounts that hold units, and the double-entry transactions that
move them.

* ``accounts/``: account numbers with check digits (pure), opening (the one opener of every
  account: trading accounts, and compliance accounts on ``EnterprisesRegistered``),
  lifecycle, holdings, trusted lists.
* ``transactions/``: the workflow (request, four-eyes approval, delay, reversal, issuance,
  expiry) and idempotent requests: what every other feature calls to move units.
* ``posting/``: the engine's hot path on the raw cursor and the hash chains; its package
  publishes ``post_many`` for bulk intakes, the engine itself is the ledger's own.
* ``rules`` (pure), ``queries`` (statements, transactions), ``verify`` (``ledger verify``),
  ``api``, ``cli``, ``jobs``; ``enums`` the kinds and statuses.

The ledger sits above the registry (an account's owner is an enterprise) and the
notifications (its jobs tell approvers), and below everything that moves units.
"""
