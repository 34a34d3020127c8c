"""Charts of the web UI: pygal, drawn on the server as inline SVG.

Nothing is fetched when a page is shown: pygal's tooltip script (pygal.js, which it links
from a CDN by default) is left out (``js=[]``), and the font is the page's own, so no web
font is linked either. The SVG carries its own styles inline (a ``<style>`` with the
response's CSP nonce); pygal's inline script is removed too, so the chart is a still
picture, which is all a daily chart needs, and the pages run no script at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pygal.style import Style

# pygal is imported when a chart is drawn, not with the app: importing it puts an import
# finder of its own on sys.meta_path (Kozea/pygal#532), which no other page, command or
# worker needs to carry.


def _style(*colors: str) -> Style:
    """The stylesheet's font and colours (web.css)."""
    from pygal.style import Style

    return Style(
        font_family='system-ui, "PingFang SC", "Microsoft YaHei", sans-serif',
        background="transparent",
        plot_background="#ffffff",
        foreground="#1d2a24",
        foreground_strong="#1d2a24",
        foreground_subtle="#d8e0dc",
        colors=colors,
    )


def _options(title: str, labels: Sequence[str], style: Style) -> dict[str, Any]:
    return {
        "title": title,
        "js": [],  # no pygal.js from its CDN: nothing is fetched at run time
        "style": style,
        "height": 280,
        "disable_xml_declaration": True,  # inline in the page, not a file of its own
        "x_labels": list(labels),
        "x_label_rotation": 30,
        "show_minor_x_labels": False,
        "x_labels_major_count": 8,
        "legend_at_bottom": True,
        "show_dots": len(labels) <= 60,
        "truncate_label": -1,
    }


def _svg(chart: Any, nonce: str) -> str:
    """The chart as inline SVG under the pages' Content-Security-Policy: its ``<style>``
    carries the response's ``nonce``, and pygal's inline ``<script>`` (its tooltips'
    configuration, of no use without pygal.js) and the one ``style`` attribute (an empty
    tooltip's opacity) are left out, so the policy needs neither 'unsafe-inline'."""

    def fit(root: Any) -> Any:
        for parent in list(root.iter()):
            parent.attrib.pop("style", None)
            for child in list(parent):
                name = str(child.tag).rpartition("}")[2]
                if name == "script":
                    parent.remove(child)
                elif name == "style":
                    child.set("nonce", nonce)
        return root

    chart.add_xml_filter(fit)
    return str(chart.render(is_unicode=True))


def _drawn(price: Decimal | None) -> float | None:
    # Float for drawing only: a chart's pixels have no use for exact fen. Tables and CSV
    # files show the Decimal figures themselves.
    return None if price is None else float(price)


def market_charts(rows: Sequence[dict[str, Any]], nonce: str) -> dict[str, str]:
    """The market page's two charts from ``market_stats`` rows (one per trading day):
    ``prices`` (close and VWAP, CNY per tonne) and ``volume`` (units traded); ``nonce``:
    the response's for inline styles (``views.csp_nonce``)."""
    import pygal

    labels = [row["date"].isoformat() for row in rows]
    prices = pygal.Line(
        **_options("Close and VWAP (CNY/t) 收盘价与成交均价", labels, _style("#1f7a4d", "#2f5fa7"))
    )
    prices.add("Close 收盘价", [_drawn(row["close"]) for row in rows])
    prices.add("VWAP 成交均价", [_drawn(row["vwap"]) for row in rows])
    volume = pygal.Bar(**_options("Volume (t) 成交量", labels, _style("#8a9a92")))
    volume.add("Volume 成交量", [int(row["volume"]) for row in rows])
    return {"prices": _svg(prices, nonce), "volume": _svg(volume, nonce)}
