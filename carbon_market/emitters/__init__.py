"""Emitter registration: covered enterprises, their facilities, and the sector and district
catalogues.

Regulators register enterprises (one at a time through the API, or in bulk from CSV or XLSX
through the all-or-nothing importer). Registering publishes ``EnterprisesRegistered``
(``events``), on which the ledger, above, opens each enterprise's compliance account in the
same unit of work. Enterprise users read their own enterprise and keep its contacts up to
date. Status changes (registered → active → suspended → exited) carry an effective date and
are kept as history. The credit code check (``credit_code``) and the import's row checks
(``importing``) are pure; ``service`` and ``bulk`` hold every rule that needs the database;
``enums`` the vocabulary (statuses, capacity units, cooling, power categories).

The registry is the lowest feature but the scheduler: every other feature may read it; it
answers the kernel's question of which enterprise a credit code names (``wiring``).
"""
