"""Users, API tokens, roles and the authorization policy.

Design: a request (or CLI command, or scheduled job) is turned into an :class:`Actor` value at
the edge; every service calls :func:`carbon_market.kernel.auth.policy.authorize` first with that
actor.
Because the check lives in the service, the API, the CLI and the scheduler obey the same rules.

Passwords are argon2id hashes. API tokens are random 256-bit strings shown once; only their
SHA-256 is stored (a token has far more entropy than a password, so a fast hash is enough and
lets every request be checked in microseconds).
"""
