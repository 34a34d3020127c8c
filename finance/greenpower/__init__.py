"""Green power (绿电): generating plants, green electricity trades, green certificates (绿证)
with serial-number ranges, their transfers and claims, and the city's green-power targets.

Only claimed certificates lower an enterprise's purchased-electricity emissions: the MRV
calculation reads the claims of the report's enterprise and year (:mod:`.claims`).
"""
