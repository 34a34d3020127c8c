"""The web UI's market page: the API's daily statistics as a chart, a table and its CSV."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest

from carbon_market.kernel.auth.service import actor_for
from carbon_market.trading import service as trading
from carbon_market.trading.models import TradeKind
from tests.api.helpers import VINTAGE

#: The test clock's today (2026-06-01 in Beijing) and the default range's first day.
TODAY, THIRTY_DAYS_BACK = "2026-06-01", "2026-05-03"
DEFAULT_QUERY = f"unit_kind=allowance&from={THIRTY_DAYS_BACK}&to={TODAY}"
#: Anything a browser would fetch from another host: a script, a stylesheet, an image, a
#: font (``src``/``href`` to ``http(s)://`` or ``//``, ``url(...)``, ``@import``, an
#: ``xml-stylesheet`` instruction).
EXTERNAL = re.compile(
    r"""(?:src|href)\s*=\s*["'](?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import|xml-stylesheet""",
    re.IGNORECASE,
)


@pytest.fixture
def trades(session, tenants):
    """Three trading days, alpha selling to beta: 27 May (100 @ 100.00, 200 @ 101.00,
    300 @ 102.50: VWAP 101.58), 29 May (50 @ 99.95) and today (90 @ 100.40), after a
    reference price of 100.00 from 27 May; and one day outside the default range."""
    regulator = actor_for(tenants.users["regulator"])
    exchange = actor_for(tenants.users["exchange"])
    trading.set_reference_price(
        session, regulator, unit_kind="allowance", day=date(2026, 4, 1), price=D("100.00")
    )
    done = [
        ((2026, 4, 1), 10, "100.00"),  # before the default range
        ((2026, 5, 27), 100, "100.00"),
        ((2026, 5, 27), 200, "101.00"),
        ((2026, 5, 27), 300, "102.50"),
        ((2026, 5, 29), 50, "99.95"),
        ((2026, 6, 1), 90, "100.40"),
    ]
    for serial, (day, quantity, price) in enumerate(done):
        trading.record_trade(
            session, exchange, kind=TradeKind.LISTED, seller_account=tenants.own_account,
            buyer_account=tenants.other_account, unit_kind="allowance", vintage=VINTAGE,
            quantity=quantity, price=D(price), traded_at=datetime(*day, 2, 0, tzinfo=UTC),
            external_ref=f"WEB-{serial}",
        )  # fmt: skip
    session.commit()


def _table_rows(page: str) -> list[list[str]]:
    """The market table's body rows, as the text of their cells."""
    table = page.split('<table class="numbers market">', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in body.split("</tr>")[:-1]]


def _as_shown(row: dict[str, object]) -> list[str]:
    """An API row as the page shows it: the decimal strings as they are, counts with
    thousands separators."""
    return [
        str(row["date"]), *(str(row[k]) for k in ("open", "high", "low", "close", "vwap")),
        f"{row['volume']:,}", str(row["turnover"]), f"{row['trades']:,}",
    ]  # fmt: skip


def test_the_table_is_the_api_s_figures_for_the_last_30_days_by_default(
    client, sign_in, trades, headers_for
):
    sign_in("alpha")

    page = client.get("/market")
    api = client.get(f"/api/v1/market/stats?{DEFAULT_QUERY}", headers=headers_for("enterprise_own"))

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'name="from" value="{THIRTY_DAYS_BACK}"' in html
    assert f'name="to" value="{TODAY}"' in html
    rows = api.get_json()
    assert [r["date"] for r in rows] == ["2026-05-27", "2026-05-29", "2026-06-01"]
    assert _table_rows(html) == [_as_shown(r) for r in rows]
    # the figures worked by hand, as decimal strings (never a float's 101.58333…)
    assert _table_rows(html)[0] == [
        "2026-05-27", "100.00", "102.50", "100.00", "101.58", "101.58", "600", "60950.00", "3",
    ]  # fmt: skip
    assert _table_rows(html)[2][6:] == ["90", "9036.00", "1"]


def test_the_form_chooses_the_unit_kind_and_range(client, sign_in, trades, headers_for):
    sign_in("verifier")  # every role reads market statistics
    query = "unit_kind=allowance&from=2026-04-01&to=2026-05-28"

    html = client.get(f"/market?{query}").get_data(as_text=True)
    api = client.get(f"/api/v1/market/stats?{query}", headers=headers_for("verifier")).get_json()

    assert [r["date"] for r in api] == ["2026-04-01", "2026-05-27"]
    assert _table_rows(html) == [_as_shown(r) for r in api]
    empty = client.get("/market?unit_kind=ccer").get_data(as_text=True)
    assert "No trades in this range." in empty
    assert "<svg" not in empty


def test_the_csv_link_downloads_the_api_s_bytes(client, sign_in, trades, headers_for):
    sign_in("alpha")
    html = client.get("/market").get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)" download>', html)
    assert link, "the page has no CSV link"

    web = client.get(link.group(1).replace("&amp;", "&"))
    api = client.get(
        f"/api/v1/market/stats?{DEFAULT_QUERY}&format=csv", headers=headers_for("enterprise_own")
    )

    assert web.status_code == api.status_code == 200
    assert web.mimetype == "text/csv"
    assert web.get_data() == api.get_data()
    assert web.headers["Content-Disposition"] == api.headers["Content-Disposition"]
    assert web.get_data(as_text=True).splitlines()[1].startswith("2026-05-27,100.00,102.50,")


def test_the_charts_are_inline_svg_and_nothing_is_fetched_from_elsewhere(client, sign_in, trades):
    sign_in("alpha")

    html = client.get("/market").get_data(as_text=True)

    assert html.count("<svg ") == html.count('class="pygal-chart"') == 2  # prices, volume
    assert "Close" in html
    assert "VWAP" in html
    assert "Volume" in html
    assert not EXTERNAL.findall(html)
    assert "<script src" not in html
    assert "kozea.github.io" not in html  # pygal's tooltip script on its CDN


def test_the_external_reference_check_would_catch_pygal_s_cdn_script():
    """The check above is worth something: pygal's default output links its script."""
    import pygal

    chart = pygal.Line(disable_xml_declaration=True)
    chart.add("close", [1.0, 2.0])

    assert EXTERNAL.findall(str(chart.render(is_unicode=True)))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-13-01", "Not a valid date."),
        ("from=yesterday&to=2026-06-01", "Not a valid date."),
        ("from=2026-06-01&to=2026-05-01", "the range must run forward"),
    ],
)
def test_a_bad_date_is_an_error_page_with_the_api_s_message(
    client, sign_in, tenants, headers_for, query, message
):
    sign_in("alpha")

    page = client.get(f"/market?unit_kind=allowance&{query}")
    api = client.get(f"/api/v1/market/stats?unit_kind=allowance&{query}",
                     headers=headers_for("enterprise_own"))  # fmt: skip

    assert page.status_code == api.status_code == 422
    assert page.mimetype == "text/html"
    assert message in page.get_data(as_text=True)
    assert message in str(api.get_json())
    assert client.get(f"/market.csv?{query}").status_code == 422


def test_an_unknown_unit_kind_is_refused_as_the_api_refuses_it(client, sign_in, tenants):
    sign_in("alpha")

    page = client.get("/market?unit_kind=gold")

    assert 400 <= page.status_code < 500
    assert "gold" in page.get_data(as_text=True)


def test_every_role_has_the_market_link(client, sign_in, tenants):
    sign_in("verifier")

    assert 'href="/market"' in client.get("/").get_data(as_text=True)


def test_without_a_sign_in_the_market_asks_for_one(client, tenants):
    response = client.get("/market?from=nonsense")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/signin?next=/market")
