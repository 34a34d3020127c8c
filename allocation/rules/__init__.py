"""The allocation rules as pure code and data (no database): the plan document, the methods, the
engine, rounding, auction clearing.
"""
