"""The climate-finance project library: the highest feature, which reads the registry.

Design: finance officers keep the library. A project (sponsor, pilot locality, category,
sub-sector from a catalogue, total investment, expected annual reduction) moves along
``proposed → admitted → financed → under_construction → operating → closed`` or is
``withdrawn`` from any status before ``closed``; every move is kept as history and audited.
Each project has financing records (instruments, institutions, commitments) with their
disbursements, reduction reports per period against the pro-rated expected figure, and
milestones that a job flags when overdue. Enterprises read the projects they sponsor;
regulators and auditors read everything.

Pure modules compute and touch no database (``rules/``): ``lifecycle`` (the status moves and
the instrument rules), ``interest`` (loan and central-bank refinancing interest),
``figures`` (pro-rating, cost per tonne) and ``analytics`` (portfolio totals over
DataFrames, Decimal throughout); ``enums`` is the vocabulary. ``catalogue.py``, ``service.py``,
``financing.py``, ``monitoring.py``, ``portfolio.py`` and ``bulk.py`` hold every rule that
needs the database.
The formulas and conventions are explained for newcomers in ``docs/finance.md``.
"""
