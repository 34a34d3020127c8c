"""The emissions calculator (pure: no database): source streams in, CO2 and co-pollutants out, in
exact decimals.
"""
