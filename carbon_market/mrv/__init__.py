"""MRV: monitoring, reporting and verification of emissions and co-pollutants.

Four parts, from the bottom up:

* ``calculator/`` (pure: no database) converts activity data between units
  (``units``), loads the packaged factor sets (``factor_sets``, from ``data/cn-default.csv``,
  every value with its published source), parses and checks a calculation's source streams
  (``streams``) and computes CO2 and the co-pollutants in exact ``Decimal`` (``emissions``):
  the formulas of the GB/T 32150 family of accounting guides. ``carbon-market mrv calc`` is
  the offline calculator.
* ``factors/`` is the emission factor library: the versioned sets in the database that
  regulators add, import and export (``library``, ``rows``), and their API under
  ``/api/v1/emission-factors``. A set is never edited (a change is a new version); a set used
  by a submitted report is frozen.
* ``reports/`` is the annual emission report: its workflow draft → submitted → verified →
  approved/returned (``workflow``), its figures on the year's default set with the
  enterprise's green-power claims (``figures``), review flags and indicators (pure), the
  monthly series the compliance forecast reads, and its API under ``/api/v1/reports``.
* ``xlsx/`` is the report's Excel round trip (a template to fill in, an upload to read);
  ``synergy/`` the synergy (协同) view of CO2 and co-pollutants per sector and district under
  ``/api/v1/synergy``.

MRV sits above green power (a report reads the enterprise's claims) and below trading and
compliance. It tells the features above it what happened through events
(``reports.events``), never by calling them.
"""
