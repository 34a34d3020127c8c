"""Allocation (配额分配): plans, methods, the engine, issuing and auction clearing.

Design overview (``docs/allocation.md``):

* ``plan`` — the plan document (one JSON form for the API, the CLI and import/export) and
  its checks; ``rulebook`` — the power sector's correction factors as data.
* ``methods`` — pure, vectorised functions over a DataFrame of facilities; ``rounding`` —
  cap scaling and whole allowances by largest remainder; ``engine`` — both over a plan;
  ``files`` — the offline CSVs; ``auction`` — uniform-price clearing. None of these touches
  a database or the web, and all arithmetic is exact ``Decimal`` with named roundings.
* ``models``, ``registry`` (the engine's input read from approved reports), ``service``
  (draft, copy, edit, approve with four eyes, dry runs), ``issuing`` (through the ledger in
  idempotent, resumable batches), ``schemas`` and ``api``.
"""
