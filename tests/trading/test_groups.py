"""The register of enterprise groups and the ``same_group`` surveillance flag."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from carbon_market.kernel.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from carbon_market.ledger.models import Account
from carbon_market.trading import groups
from carbon_market.trading import market as market_service
from tests.conftest import AuthActions
from tests.factories import make_enterprise
from tests.trading.conftest import Market

JUNE = {"unit_kind": "allowance", "start": date(2026, 6, 1), "end": date(2026, 6, 30)}


def _enterprise(m: Market, number: str) -> int:
    found = m.session.scalar(select(Account.enterprise_id).where(Account.number == number))
    assert found is not None
    return found


def _reasons(m: Market) -> list[tuple[str, int | None]]:
    flags = market_service.surveillance(m.session, m.regulator, **JUNE)
    return [(f.reason, f.trade.id if f.trade else None) for f in flags]


def test_a_trade_between_two_enterprises_of_one_group_is_flagged(market: Market) -> None:
    trade = market.trade()  # alpha → beta: two enterprises
    assert _reasons(market) == []
    group = groups.create_group(market.session, market.regulator, code="G1", name="某能源集团")
    for number in (market.alpha, market.beta):
        assert groups.add_member(market.session, market.regulator, group.id,
                                 _enterprise(market, number))  # fmt: skip
    assert _reasons(market) == [("same_group", trade.id)]
    groups.remove_member(
        market.session, market.regulator, group.id, _enterprise(market, market.beta)
    )
    assert _reasons(market) == []


def test_the_register_refuses_what_it_cannot_hold(market: Market) -> None:
    regulator = market.regulator
    first = groups.create_group(market.session, regulator, code="G1", name="甲集团")
    second = groups.create_group(market.session, regulator, code="G2", name="乙集团")
    alpha = _enterprise(market, market.alpha)
    assert groups.add_member(market.session, regulator, first.id, alpha) is True
    assert groups.add_member(market.session, regulator, first.id, alpha) is False  # again
    with pytest.raises(Conflict):  # one group per enterprise
        groups.add_member(market.session, regulator, second.id, alpha)
    with pytest.raises(Conflict):
        groups.create_group(market.session, regulator, code="G1", name="重复")
    with pytest.raises(ValidationFailed):
        groups.create_group(market.session, regulator, code="  ", name="空")
    with pytest.raises(NotFound):
        groups.remove_member(market.session, regulator, second.id, alpha)
    with pytest.raises(NotFound):
        groups.add_member(market.session, regulator, 987654, alpha)
    with pytest.raises(PermissionDenied):
        groups.create_group(market.session, market.exchange, code="G3", name="交易所")
    listed = groups.list_groups(market.session, regulator)
    assert [(g.code, members) for g, members in listed] == [("G1", [alpha]), ("G2", [])]


def test_the_group_endpoints(client: FlaskClient, auth: AuthActions, market: Market) -> None:
    headers = auth.headers(SimpleNamespace(name="regulator"))
    other = make_enterprise(market.session, name="丙钢铁")
    created = client.post(
        "/api/v1/market/groups", json={"code": "G9", "name": "丙集团"}, headers=headers
    )
    assert created.status_code == 201, created.get_json()
    url = f"/api/v1/market/groups/{created.get_json()['id']}/members/{other.id}"
    assert client.put(url, headers=headers).status_code == 201
    assert client.put(url, headers=headers).status_code == 204
    listed = client.get("/api/v1/market/groups", headers=headers).get_json()
    assert [(g["code"], g["enterprise_ids"]) for g in listed] == [("G9", [other.id])]
    assert client.delete(url, headers=headers).status_code == 204
    assert client.delete(url, headers=headers).status_code == 404
