"""Trading: the trade ledger of the exchange's trades, their settlement in the registry,
market statistics and surveillance (``docs/trading.md``).

* ``rules/`` (pure): the rulebooks as data, price limits and trading modes, statistics.
* ``replay`` (the checks of trades over a market held in memory), ``checks`` (the ones that
  read the database), ``service`` (recording and settling one trade, reference prices),
  ``market``, ``disclosure``, ``groups``.
* ``intake/``: the exchange's end-of-day file, all or nothing: checked in memory, written in
  a few set-based statements, settled through the ledger's ``post_many``.
* ``api``, ``cli``, ``jobs``.

Trading sits above the ledger (it settles through it) and below compliance (which prices
penalties at the market's average).
"""
