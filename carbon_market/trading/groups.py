"""The regulator's register of enterprise groups (集团), for surveillance.

Trades between accounts of *different* enterprises of one group are flagged ``same_group``
(those within one enterprise are ``same_enterprise``): a group moving units among its
members at chosen prices is the wash-trade pattern the surveillance looks for. The
register is deliberately small: a group (code, name) and which enterprises belong to it,
each enterprise to at most one group; regulators keep it, auditors read it.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from carbon_market.emitters.models import Enterprise
from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import record
from carbon_market.kernel.db import clock_of, transactional
from carbon_market.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from carbon_market.trading.models import EnterpriseGroup, EnterpriseGroupMember


@transactional
def create_group(session: Session, actor: Actor, *, code: str, name: str) -> EnterpriseGroup:
    """Register a group (regulators). Conflict when the code is taken."""
    authorize(actor, "market.groups")
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise ValidationFailed(
            "a group needs a code and a name",
            errors=[FieldError("#/code" if not code else "#/name", "must not be blank")],
        )
    if session.scalar(select(EnterpriseGroup.id).where(EnterpriseGroup.code == code)):
        raise Conflict(f"group {code} exists", errors=[FieldError("#/code", "taken")])
    group = EnterpriseGroup(
        code=code, name=name, created_at=clock_of(session).now(), created_by=actor.name
    )
    session.add(group)
    session.flush()  # the audit event names the group by its id
    record(
        session, actor, action="enterprise_group:create", entity_type="enterprise_group",
        entity_id=group.id, after={"code": code, "name": name},
    )  # fmt: skip
    return group


def list_groups(session: Session, actor: Actor) -> list[tuple[EnterpriseGroup, list[int]]]:
    """Every group with its members' enterprise ids (regulators, auditors)."""
    authorize(actor, "market.surveillance")
    members: dict[int, list[int]] = {}
    for enterprise_id, group_id in session.execute(
        select(EnterpriseGroupMember.enterprise_id, EnterpriseGroupMember.group_id).order_by(
            EnterpriseGroupMember.enterprise_id
        )
    ):
        members.setdefault(group_id, []).append(enterprise_id)
    groups = session.scalars(select(EnterpriseGroup).order_by(EnterpriseGroup.code))
    return [(group, members.get(group.id, [])) for group in groups]


def _group(session: Session, group_id: int) -> EnterpriseGroup:
    group = session.get(EnterpriseGroup, group_id)
    if group is None:
        raise NotFound(f"group {group_id} does not exist")
    return group


@transactional
def add_member(session: Session, actor: Actor, group_id: int, enterprise_id: int) -> bool:
    """Put an enterprise in a group (regulators); False when it was in it already.
    Conflict when it belongs to another group: remove it there first."""
    authorize(actor, "market.groups")
    group = _group(session, group_id)
    if session.get(Enterprise, enterprise_id) is None:
        raise NotFound(f"enterprise {enterprise_id} does not exist")
    found = session.get(EnterpriseGroupMember, enterprise_id)
    if found is not None:
        if found.group_id == group.id:
            return False
        raise Conflict(
            f"enterprise {enterprise_id} belongs to group {found.group_id}: remove it there first"
        )
    session.add(
        EnterpriseGroupMember(
            enterprise_id=enterprise_id, group_id=group.id,
            added_at=clock_of(session).now(), added_by=actor.name,
        )
    )  # fmt: skip
    record(
        session, actor, action="enterprise_group:add_member", entity_type="enterprise_group",
        entity_id=group.id, after={"enterprise_id": enterprise_id},
    )  # fmt: skip
    return True


@transactional
def remove_member(session: Session, actor: Actor, group_id: int, enterprise_id: int) -> None:
    """Take an enterprise out of a group (regulators); NotFound when it is not in it."""
    authorize(actor, "market.groups")
    group = _group(session, group_id)
    removed = session.execute(
        delete(EnterpriseGroupMember).where(
            EnterpriseGroupMember.enterprise_id == enterprise_id,
            EnterpriseGroupMember.group_id == group.id,
        )
    )
    if not removed.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"enterprise {enterprise_id} is not in group {group_id}")
    record(
        session, actor, action="enterprise_group:remove_member", entity_type="enterprise_group",
        entity_id=group.id, before={"enterprise_id": enterprise_id},
    )  # fmt: skip
