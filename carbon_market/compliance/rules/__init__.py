"""The compliance rules as pure code and data (no database): rulebooks, obligations, status, the
forecast.
"""
