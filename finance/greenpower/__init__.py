"""Green power (绿电): generating plants, green electricity trades, green certificates (绿证)
with serial-number ranges, their transfers and claims, and the city's green-power targets.

Only claimed certificates lower an enterprise's purchased-electricity emissions: MRV, above
green power in the feature order, reads the claims of the report's enterprise and year
(``claims``), and recomputes an open report when a claim publishes ``GreenPowerClaimed``
(``events``). Green power imports only the kernel and the registry.
"""
