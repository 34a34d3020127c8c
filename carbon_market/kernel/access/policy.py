"""Who may do what: the one authorization table of the platform.

Services call :func:`authorize` before anything else. Enterprise users are tenants: for any
action on an enterprise's data they must be bound to that enterprise. A tenant touching
another enterprise's data gets :class:`~carbon_market.kernel.errors.NotFound`, the same answer as
for data that does not exist, so ids cannot be probed (OWASP API1, BOLA).
"""

from __future__ import annotations

from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.errors import NotFound, PermissionDenied

R, E, V, F, A, X = (
    Role.REGULATOR,
    Role.ENTERPRISE,
    Role.VERIFIER,
    Role.FINANCE_OFFICER,
    Role.AUDITOR,
    Role.EXCHANGE,
)
READERS = frozenset({R, E, V, F, A, X})

#: action -> roles allowed. Enterprise users are further limited to their own enterprise.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "enterprise.read": READERS,
    "enterprise.register": frozenset({R}),
    "enterprise.update": frozenset({R}),
    "enterprise.update_contacts": frozenset({R, E}),
    "enterprise.change_status": frozenset({R}),
    "enterprise.import": frozenset({R}),
    "facility.read": READERS,
    "facility.create": frozenset({R}),
    "facility.update": frozenset({R}),
    "catalogue.manage": frozenset({R}),
    "audit.read": frozenset({R, A}),
    "user.read": frozenset({R, A}),
    "user.create": frozenset({R}),
    "user.deactivate": frozenset({R}),
    "token.revoke_any": frozenset({R}),
    # The registry ledger. Enterprise users act on their own enterprise's accounts only;
    # initiating and approving further need the user's initiator / approver capability.
    "account.read": frozenset({R, E, A}),
    "account.manage": frozenset({R}),
    "account.set_limit": frozenset({R, E}),
    "ledger.read": frozenset({R, E, A}),
    "ledger.issue": frozenset({R}),
    "ledger.transfer": frozenset({R, E}),
    "ledger.decide": frozenset({R, E}),
    "ledger.reverse": frozenset({R}),
    "trust.read": frozenset({R, E, A}),
    "trust.request": frozenset({R, E}),
    "trust.decide": frozenset({R, E}),
    # The emission factor library: everybody computes with it; regulators maintain it.
    "factors.read": READERS,
    "factors.manage": frozenset({R}),
    # Emission reports: enterprises file their own, verifiers verify those assigned to them,
    # regulators assign, approve and return; auditors read.
    "reports.read": frozenset({R, E, V, A}),
    "reports.write": frozenset({R, E}),
    "reports.submit": frozenset({E}),
    "reports.assign": frozenset({R}),
    "reports.verify": frozenset({V}),
    "reports.decide": frozenset({R}),
    # Green power: regulators keep plants, trades, certificates and targets; enterprises see
    # their own trades, certificates and claims, transfer what they hold and claim for
    # themselves.
    "greenpower.read": READERS,
    "greenpower.manage": frozenset({R}),
    "greenpower.transfer": frozenset({R, E}),
    "greenpower.claim": frozenset({R, E}),
    # The synergy view compares enterprises with each other: for those who oversee them.
    "synergy.read": frozenset({R, A}),
    # Climate finance: finance officers keep the project library; regulators and auditors
    # read it all, an enterprise only the projects it sponsors (by credit code); verifiers
    # have no business with it. Regulators and officers extend the sub-sector catalogue.
    "finance.read": frozenset({R, E, F, A}),
    "finance.write": frozenset({F}),
    "finance.import": frozenset({F}),
    "finance.portfolio": frozenset({R, F, A}),
    "finance.catalogue.manage": frozenset({R, F}),
    # Allocation: regulators draft, approve (a second regulator) and issue plans; auditors
    # read them; an enterprise sees only its own facilities' results.
    "allocation.read": frozenset({R, A}),
    "allocation.manage": frozenset({R}),
    "allocation.approve": frozenset({R}),
    "allocation.issue": frozenset({R}),
    "allocation.results": frozenset({R, E, A}),
    # Auctions: regulators open, clear and settle them; their terms and results are public
    # to those who may bid (covered enterprises) or oversee; an enterprise bids for itself
    # and sees its own bids only, regulators and auditors all of them once the window closes.
    "auction.read": frozenset({R, E, A}),
    "auction.manage": frozenset({R}),
    "auction.bid": frozenset({E}),
    "auction.bids": frozenset({R, E, A}),
    # Trading: the exchange's service account (or a regulator) records trades and imports
    # the end-of-day file; regulators set reference prices and watch the market. Trades are
    # read by those who record or oversee them, and by an enterprise for its own accounts.
    # Market statistics are public information: every user reads them.
    "trading.read": frozenset({R, E, A, X}),
    "trading.record": frozenset({R, X}),
    "market.stats": READERS,
    "market.reference_price": frozenset({R}),
    "market.surveillance": frozenset({R, A}),
    # Scheduled jobs: their run records are for those who oversee the platform. Notifications:
    # an enterprise reads its own messages, regulators and auditors all of them.
    "jobs.read": frozenset({R, A}),
    "notifications.read": frozenset({R, E, A}),
    # Compliance: regulators open and edit years, grant extensions and exemptions, set the
    # penalty multiple and run the sweep; an enterprise surrenders from its own account and
    # reads its own status and penalties; auditors read everything. Every signed-in user
    # reads the years and, after the surrender deadline, the published results.
    "compliance.read_year": READERS,
    "compliance.manage": frozenset({R}),
    "compliance.surrender": frozenset({E}),
    "compliance.read": frozenset({R, E, A}),
    "compliance.results": READERS,
    # The register of enterprise groups (for the same_group flag) is kept by regulators.
    "market.groups": frozenset({R}),
}


def is_allowed(actor: Actor, action: str) -> bool:
    if actor.is_system:
        return True
    roles = PERMISSIONS.get(action)
    if roles is None:
        raise KeyError(f"unknown action {action!r}: add it to PERMISSIONS")
    return actor.role in roles


def authorize(actor: Actor, action: str, *, enterprise_id: int | None = None) -> None:
    """Raise unless ``actor`` may perform ``action`` on data of ``enterprise_id``.

    Raises PermissionDenied when the role may not perform the action at all, and NotFound
    when an enterprise user reaches for another enterprise's data.
    """
    if not is_allowed(actor, action):
        raise PermissionDenied(f"role {actor.role} may not perform {action}")
    is_tenant = actor.role is Role.ENTERPRISE and enterprise_id is not None
    if is_tenant and actor.enterprise_id != enterprise_id:
        raise NotFound("no such resource")


def tenant_scope(actor: Actor) -> int | None:
    """The enterprise id a list must be restricted to, or None for no restriction."""
    if actor.role is Role.ENTERPRISE:
        return actor.enterprise_id
    return None
