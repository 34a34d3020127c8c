"""Climate finance (气候投融资): the registry of the pilot projects, their financing, their
monitoring and the portfolio figures (``finance.projects``).

Green power (plants, certificates, claims) lives in ``carbon_market.greenpower``.
"""
