"""Allocation (配额分配): plans, methods, the engine, issuing, the reserve and auctions.

Design overview (``docs/allocation.md``):

* ``rules/`` (pure: no database, no web, exact ``Decimal`` with named roundings): ``plan``,
  the plan document (one JSON form for the API, the CLI and import/export) and its checks;
  ``rulebook``, the power sector's correction factors as data; ``methods/``, vectorised
  functions over a DataFrame of facilities; ``rounding``, cap scaling and whole allowances
  by largest remainder; ``engine``, both over a plan; ``clearing``, uniform-price auction
  clearing; ``entrant_allocation`` and ``deductions``.
* ``files``: the offline CSVs of ``carbon-market allocation compute`` (pure).
* ``models``, ``registry`` (the engine's input read from approved reports), ``service``
  (draft, copy, edit, approve with four eyes, dry runs), ``schemas``, ``api``, ``cli``.
* ``issuing/``: through the ledger in idempotent, resumable batches, at once (``whole``) or
  as pre-allocation and true-up (``stages``).
* ``reserve/``: new entrants, capacity changes and reductions, and the second regulator's
  decision on each; ``auctions``: sealed-bid auctions settled through the ledger.

Allocation sits above compliance (it deducts uncorrected shortfalls) and below the
climate-finance projects.
"""
