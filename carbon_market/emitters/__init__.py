"""Emitter registration: covered enterprises, their facilities, and the sector and district
catalogues.

Design: regulators register enterprises (one at a time through the API, or in bulk from CSV or
XLSX through the all-or-nothing importer); registration opens the enterprise's compliance
account in the registry. Enterprise users read their own enterprise and keep its contacts up to
date. Status changes (registered → active → suspended → exited) carry an effective date and are
kept as history. The credit code check (``credit_code.py``) and the import row validation
(``importing.py``) are pure; ``service.py`` holds every rule that needs the database.
"""
