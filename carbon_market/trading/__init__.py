"""Trading: the trade ledger of the exchange's trades, their settlement in the registry,
market statistics and surveillance (``docs/trading.md``)."""
