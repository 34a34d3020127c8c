"""Market statistics, the average price compliance needs, and surveillance (services).

Trades are read straight through the DB-API cursor of the session's connection (prices as
integer fen, no ORM objects): statistics over a million trades spend their time in the
database driver, not in SQLAlchemy's per-row Python. The figures themselves are computed
by the pure ``stats`` module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import BigInteger, func, select, type_coerce
from sqlalchemy.orm import Session

from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.csv_export import schema_csv
from carbon_market.kernel.errors import FieldError, ValidationFailed
from carbon_market.ledger.models import Account
from carbon_market.trading import checks
from carbon_market.trading.models import EnterpriseGroupMember, Trade, TradeStatus
from carbon_market.trading.rules import stats
from carbon_market.trading.rules.price_limits import vwap_fen
from carbon_market.trading.schemas import DailyStatsSchema

#: Days of at most this many years are served at once (a chart's range).
MAX_RANGE = timedelta(days=3661)


_LOAD = (
    "SELECT trade_date, kind, quantity, price, id, seller_account_id, buyer_account_id, "
    "reference_price FROM trade WHERE unit_kind = ? AND trade_date >= ? AND trade_date <= ? "
    "AND status != ? ORDER BY traded_at, id"
)
#: The query of :func:`load_trades` in each driver's parameter style.
LOAD_TRADES = {"sqlite": _LOAD, "postgresql": _LOAD.replace("?", "%s")}


def _check_range(start: date, end: date) -> None:
    if end < start or end - start > MAX_RANGE:
        raise ValidationFailed(
            "the range must run forward and span at most ten years",
            errors=[FieldError("#/query/to", "before 'from' or more than ten years after it")],
        )


def load_trades(session: Session, unit_kind: str, start: date, end: date) -> pd.DataFrame:
    """Live (not rejected) trades of ``unit_kind`` from ``start`` to ``end`` inclusive, in
    trade order, as the frame :func:`stats.daily_stats` takes (plus ids, accounts and the
    reference price in fen)."""
    connection = session.connection()
    cursor: Any = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(
        LOAD_TRADES[connection.dialect.name], (unit_kind, start, end, TradeStatus.REJECTED.value)
    )
    columns = [*stats.TRADE_COLUMNS, "id", "seller_account_id", "buyer_account_id", "ref_fen"]
    frame = pd.DataFrame(cursor.fetchall(), columns=columns)
    cursor.close()
    frame["trade_date"] = pd.to_datetime(frame["trade_date"])
    return frame


def _lookback(session: Session, unit_kind: str, start: date) -> date:
    """The first of the trading days the rolling figures of ``start`` read: the 20 (or the
    rulebook's ``rolling_days``) days with trades before it. Counted in trading days, not
    calendar days, so that in a thin market a day's averages and volume flags are the same
    whatever range is asked for. Days whose trades were all rejected count too (an
    index-only query; they only make the look-back longer)."""
    days = max(20, checks.rulebook_of(session).surveillance.rolling_days)
    recent = (
        select(Trade.trade_date)
        .where(Trade.unit_kind == unit_kind, Trade.trade_date < start)
        .distinct()
        .order_by(Trade.trade_date.desc())
        .limit(days)
        .subquery()
    )
    first: date | None = session.scalar(select(func.min(recent.c.trade_date)))
    return start if first is None else first


def _daily(session: Session, unit_kind: str, start: date, end: date) -> pd.DataFrame:
    """Daily statistics from before ``start`` (so that rolling figures are full on the
    first day); callers keep the days from ``start`` on."""
    first = _lookback(session, unit_kind, start)
    carried = checks.reference_price(session, unit_kind, first)
    carried_fen = int(carried * 100) if carried is not None else None
    return stats.daily_stats(load_trades(session, unit_kind, first, end), carried_fen)


def _from(days: pd.DataFrame, start: date) -> pd.DataFrame:
    if days.empty:
        return days
    return days[days["date"] >= pd.Timestamp(start)].reset_index(drop=True)


def market_stats(
    session: Session, actor: Actor, *, unit_kind: str, start: date, end: date
) -> list[dict[str, Any]]:
    """One row per trading day of ``start``–``end`` with trades (see ``stats``): prices as
    Decimal CNY, volumes as whole units. Every user reads market statistics."""
    authorize(actor, "market.stats")
    _check_range(start, end)
    checks.check_unit_kind(session, unit_kind)
    days = _from(_daily(session, unit_kind, start, end), start)
    money = ["open", "high", "low", "close", "vwap", "turnover", "close_ma5", "close_ma20"]
    rows = []
    for record in days.to_dict(orient="records"):
        row: dict[str, Any] = {"date": record["date"].date()}
        row.update({name: stats.fen_to_cny(record[name]) for name in money})
        for name in ("volume", "trades"):
            row[name] = int(record[name])
        row["volume_ma20"] = stats.whole(record["volume_ma20"])
        rows.append(row)
    return rows


def stats_csv(rows: list[dict[str, Any]]) -> str:
    """:func:`market_stats` as a spreadsheet: the API's JSON members as columns, prices as
    the same decimal strings; shared by the API's ``?format=csv`` and the web UI, so that the
    two files are the same bytes."""
    return schema_csv(DailyStatsSchema(), rows)


def stats_csv_name(unit_kind: str, start: date, end: date) -> str:
    return f"market-{unit_kind}-{start}-{end}.csv"


def average_price(session: Session, unit_kind: str, start: date, end: date) -> Decimal | None:
    """The volume-weighted average price of every live trade of ``unit_kind`` from
    ``start`` to ``end`` (trading days, inclusive), to the fen half up; None without
    trades. Compliance calls it for penalties (a multiple of the average price over a past
    window); it authorizes nothing because it is never an endpoint of its own."""
    turnover, volume = session.execute(
        select(
            func.sum(Trade.quantity * type_coerce(Trade.price, BigInteger)),
            func.sum(Trade.quantity),
        ).where(
            Trade.unit_kind == unit_kind,
            Trade.trade_date >= start,
            Trade.trade_date <= end,
            Trade.status.in_(checks.LIVE),
        )
    ).one()
    if not volume:
        return None
    return Decimal(vwap_fen(int(turnover), int(volume))).scaleb(-2)


@dataclass(frozen=True)
class Flag:
    reason: str
    detail: str
    date: date
    trade: Trade | None = None


def _related(session: Session, trades: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Which trades are between accounts of one enterprise, and which between different
    enterprises of one registered group (two queries, whatever the number of trades)."""
    ids = set(trades["seller_account_id"]) | set(trades["buyer_account_id"])
    query = select(Account.id, Account.enterprise_id).where(Account.id.in_(ids))
    owners = {account_id: owner for account_id, owner in session.execute(query)}
    seller = trades["seller_account_id"].map(owners)
    buyer = trades["buyer_account_id"].map(owners)
    same_enterprise = seller.notna() & (seller == buyer)
    enterprises = {owner for owner in owners.values() if owner is not None}
    members = select(EnterpriseGroupMember.enterprise_id, EnterpriseGroupMember.group_id).where(
        EnterpriseGroupMember.enterprise_id.in_(enterprises)
    )
    groups = {enterprise_id: group_id for enterprise_id, group_id in session.execute(members)}
    seller_group, buyer_group = seller.map(groups), buyer.map(groups)
    same_group = seller_group.notna() & (seller_group == buyer_group) & ~same_enterprise
    return same_enterprise, same_group


def surveillance(
    session: Session, actor: Actor, *, unit_kind: str, start: date, end: date
) -> list[Flag]:
    """Trades and days a regulator should look at, each with its reason:

    * ``same_enterprise``: seller and buyer accounts belong to one enterprise (wash trades);
    * ``same_group``: they belong to different enterprises of one group of the regulator's
      register (``groups``);
    * ``price_at_limit``: the price sits on an edge of its band;
    * ``unusual_volume``: the day's volume is above the rulebook's multiple of the average
      of the trading days before it.
    """
    authorize(actor, "market.surveillance")
    _check_range(start, end)
    checks.check_unit_kind(session, unit_kind)
    rulebook = checks.rulebook_of(session)
    trades = load_trades(session, unit_kind, start, end)
    flagged: list[tuple[int, str, str]] = []
    if not trades.empty:
        same_enterprise, same_group = _related(session, trades)
        for trade_id in trades.loc[same_enterprise, "id"]:
            flagged.append(
                (int(trade_id), "same_enterprise", "seller and buyer are one enterprise")
            )
        for trade_id in trades.loc[same_group, "id"]:
            flagged.append(
                (int(trade_id), "same_group", "seller and buyer are enterprises of one group")
            )
        for mode in rulebook.modes:
            if mode.band is None:  # no band, no edge to sit on
                continue
            of_kind = trades[trades["kind"] == mode.kind]
            low, high = stats.band_edges_fen(of_kind["ref_fen"].astype("int64"), mode.band)
            pinned = of_kind[(of_kind["price_fen"] == low) | (of_kind["price_fen"] == high)]
            for trade_id in pinned["id"]:
                flagged.append((int(trade_id), "price_at_limit", f"on the {mode.kind} band edge"))
    wanted = {trade_id for trade_id, _, _ in flagged}
    loaded = {t.id: t for t in session.scalars(select(Trade).where(Trade.id.in_(wanted)))}
    flags = [Flag(reason, detail, loaded[i].trade_date, loaded[i]) for i, reason, detail in flagged]
    watch = rulebook.surveillance
    days = _daily(session, unit_kind, start, end)
    if not days.empty:
        unusual = _from(
            stats.unusual_volume_days(
                days, ratio=watch.volume_ratio, rolling_days=watch.rolling_days
            ),
            start,
        )
        for record in unusual.to_dict(orient="records"):
            flags.append(
                Flag(
                    "unusual_volume",
                    f"volume {int(record['volume']):,} against a {watch.rolling_days}-day "
                    f"average of {int(record['average']):,} (more than ×{watch.volume_ratio})",
                    record["date"].date(),
                )
            )
    return sorted(flags, key=lambda f: (f.date, f.trade.id if f.trade else 0, f.reason))
