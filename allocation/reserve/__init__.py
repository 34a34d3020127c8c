"""The reserve's records: new entrants, capacity changes and reductions, and the second regulator's
decision.
"""
