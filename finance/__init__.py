"""Climate finance (气候投融资) and green power, two features at two heights of the order.

``finance.projects`` (the registry of the pilot projects, their financing, their monitoring
and the portfolio figures) is the highest feature; ``finance.greenpower`` (plants,
certificates, claims) sits below MRV, whose reports read its claims.
"""
