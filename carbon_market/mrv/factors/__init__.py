"""The emission factor library: versioned factor sets in the database, their rows, import and
export.
"""
