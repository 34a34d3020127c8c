"""Market statistics and surveillance flags over trades (pure: pandas, no database).

Everything is computed in integers: prices in fen (``price_fen``), quantities in units,
turnover in fen. Averages are rounded half up to the fen with integer arithmetic,
``(2 × sum + n) // (2 × n)``, so no figure ever passes through a binary float. The one
place pandas hands back float64 is a rolling *sum* of integer fen; sums below 2**53 are
exact in float64 and are turned back into integers before dividing.

Definitions (per trading day and unit kind): ``open`` the first trade's price, ``high`` and
``low`` the extremes, ``vwap`` Σ(q × p) ÷ Σq over all the day's trades, ``close`` the VWAP of
its *listed* trades (the national rule), or the previous close when it had none, ``volume``
Σq, ``turnover`` Σ(q × p), ``trades`` their number; ``close_ma5``/``close_ma20`` the
averages of the last 5 and 20 closes (trading days), ``volume_ma20`` of the volumes.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pandas as pd

#: The columns :func:`daily_stats` expects, one row per trade, in trade order
#: (``traded_at``, then id): the first row of a day is its opening trade.
TRADE_COLUMNS = ["trade_date", "kind", "quantity", "price_fen"]
STAT_COLUMNS = [
    "date", "open", "high", "low", "close", "vwap", "volume", "turnover", "trades",
    "close_ma5", "close_ma20", "volume_ma20",
]  # fmt: skip


def _half_up(total: pd.Series, count: pd.Series | int) -> pd.Series:
    """total ÷ count rounded half up, both non-negative integers (count > 0)."""
    return (2 * total + count) // (2 * count)


def _rolling_mean(values: pd.Series, days: int) -> pd.Series:
    sums = values.rolling(days, min_periods=days).sum()
    exact = sums.round().astype("Int64")  # integer sums below 2**53: float64 is exact
    return _half_up(exact, days)


def daily_stats(trades: pd.DataFrame, previous_close_fen: int | None = None) -> pd.DataFrame:
    """One row per trading day with trades: integer fen and units (see the module doc).

    ``previous_close_fen`` is carried into the first day if it has no listed trades.
    """
    if trades.empty:
        return pd.DataFrame(columns=STAT_COLUMNS)
    quantity = trades["quantity"].astype("int64")
    price = trades["price_fen"].astype("int64")
    turnover = quantity * price
    listed = trades["kind"] == "listed"
    frame = pd.DataFrame(
        {
            "date": trades["trade_date"],
            "price": price,
            "quantity": quantity,
            "turnover": turnover,
            "listed_turnover": turnover.where(listed, 0),
            "listed_volume": quantity.where(listed, 0),
        }
    )
    days = frame.groupby("date", sort=True).agg(
        open=("price", "first"),
        high=("price", "max"),
        low=("price", "min"),
        volume=("quantity", "sum"),
        turnover=("turnover", "sum"),
        trades=("price", "size"),
        listed_turnover=("listed_turnover", "sum"),
        listed_volume=("listed_volume", "sum"),
    )
    days["vwap"] = _half_up(days["turnover"], days["volume"])
    has_listed = days["listed_volume"] > 0
    close = _half_up(days["listed_turnover"], days["listed_volume"].where(has_listed, 1))
    close = close.astype("Int64").mask(~has_listed).ffill()
    if previous_close_fen is not None:
        close = close.fillna(previous_close_fen)
    days["close"] = close
    days["close_ma5"] = _rolling_mean(days["close"], 5)
    days["close_ma20"] = _rolling_mean(days["close"], 20)
    days["volume_ma20"] = _rolling_mean(days["volume"], 20)
    return days.reset_index()[STAT_COLUMNS]


def whole(value: Any) -> int | None:
    """A frame cell as an int, None for a missing one (NA, NaN or None after to_dict)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(value)


def fen_to_cny(value: Any) -> Decimal | None:
    """A fen figure of a stats frame as CNY with two places (None for a missing value)."""
    fen = whole(value)
    return None if fen is None else Decimal(fen).scaleb(-2)


def band_edges_fen(reference_fen: pd.Series, band: Decimal) -> tuple[pd.Series, pd.Series]:
    """The band's lowest and highest prices in fen, rounded half up like ``price_limits``."""
    numerator, denominator = band.as_integer_ratio()
    low = (2 * reference_fen * (denominator - numerator) + denominator) // (2 * denominator)
    high = (2 * reference_fen * (denominator + numerator) + denominator) // (2 * denominator)
    return low, high


def unusual_volume_days(days: pd.DataFrame, *, ratio: Decimal, rolling_days: int) -> pd.DataFrame:
    """Days whose volume is above ``ratio`` × the average volume of the ``rolling_days``
    trading days before them (days with fewer predecessors are not judged)."""
    before = days["volume"].shift(1).rolling(rolling_days, min_periods=rolling_days).sum()
    numerator, denominator = ratio.as_integer_ratio()
    # volume > ratio × (sum ÷ n)  ⇔  volume × n × den > sum × num, in integers
    judged = before.notna()
    sums = before.where(judged, 0).round().astype("int64")
    flagged = judged & (days["volume"] * rolling_days * denominator > sums * numerator)
    out = days.loc[flagged, ["date", "volume"]].copy()
    out["average"] = _half_up(sums[flagged], rolling_days)
    return out
