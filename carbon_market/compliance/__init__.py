"""Compliance: each covered enterprise's yearly obligation, its surrenders, status and
penalties.

* ``rules/`` (pure): the rulebooks as data (the national market's and the Beijing pilot's),
  the obligation and offset-cap arithmetic, the status from the facts, the forecast.
* ``service`` (years, extensions, exemptions, surrenders with four eyes), ``queries`` and
  ``sweep`` (the status table, set-based), ``penalties``, ``projections`` (the forecast for
  every enterprise), ``notices`` (reminders, flags, warnings through the outbox).
* ``corrections/``: when a corrected report version is approved, the cascade recomputes the
  year (units back through the ledger, the penalty superseded). It runs on MRV's
  ``ReportApproved`` (``wiring``) and in the daily sweep for approvals made elsewhere.
* ``api``, ``jobs``: the HTTP resources and the scheduled jobs.

Compliance sits above the ledger, MRV and trading (it reads obligations, moves units and
prices penalties at the market's average) and below allocation, which deducts shortfalls.
"""
