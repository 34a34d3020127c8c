"""Authentication: users, API tokens, passwords and logins.

A request (or CLI command, or scheduled job) is turned into an
:class:`~carbon_market.kernel.access.roles.Actor` at the edge: the HTTP layer from a bearer
token (``service.authenticate``, installed by this package's blueprint), the CLI from
``--as NAME``, the scheduler as the system actor. Every service then authorizes that actor
first (``kernel/access``), so the API, the CLI and the scheduler obey the same rules.

Passwords are argon2id hashes. API tokens are random 256-bit strings shown once; only their
SHA-256 is stored (a token has far more entropy than a password, so a fast hash is enough and
lets every request be checked in microseconds). Failed logins are rate-limited
(``throttle``). An enterprise user names its enterprise by credit code, which the registry
resolves (``tenants``).
"""
