"""The project library's rules as pure code (no database): the lifecycle, interest, figures,
portfolio analytics.
"""
