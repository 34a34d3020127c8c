"""Compliance: each covered enterprise's yearly obligation, its surrenders, status and
penalties (issue 8). ``rulebook.py`` holds the rules as data (Beijing pilot, national
market); ``rules.py`` the arithmetic, pure. Storage, the surrender workflow, the sweep and the
API build on these.
"""
