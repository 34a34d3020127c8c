"""MRV: monitoring, reporting and verification of emissions and co-pollutants (issue 5).

This increment holds the pure core only, with no database, HTTP or workflow:

* :mod:`carbon_market.mrv.units` converts activity data between the units of one physical
  dimension (mass, gas volume, electricity, heat) and refuses a unit that does not fit.
* :mod:`carbon_market.mrv.factors` loads versioned emission factor sets from data files shipped
  in the package (``data/cn-default.csv``, every value with its published source) into frozen
  dataclasses, and finds a set by name or by the year it applies to.
* :mod:`carbon_market.mrv.calc` validates a calculation request (collecting every error, each
  naming its stream and field) and computes CO2 and the co-pollutants with exact ``Decimal``
  arithmetic: the formulas of the GB/T 32150 family of accounting guides.

The ``carbon-market mrv calc`` command is the offline calculator over these modules.

The factor library in the database (``models``, ``factor_rows``, ``factor_library``, ``api``
under ``/api/v1/emission-factors``): versioned sets that regulators add, import and export as
CSV/XLSX in the packaged format; a set is never edited (a change is a new version) and a set
used by a submitted report is frozen. ``factor_library.factor_set_for`` hands the calculator a
stored set. The migration seeds ``cn-default`` as version 1.

Later increments add, on top of the same calculation: annual
reports with monthly activity data, range and jump flags, the draft → submitted → verified →
approved/returned workflow, the XLSX round trip, the ``/api/v1/reports`` and
``/api/v1/emission-factors`` endpoints and the synergy (协同) view.

The synergy view (``synergy``, pure; ``synergy_service``; ``synergy_api`` under
``/api/v1/synergy``): CO2 and co-pollutants of the latest approved reports per sector and
district, their like-for-like change on the year before and the pollutant reduced per tonne
of CO2 reduced.
"""
