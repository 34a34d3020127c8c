"""``carbon-market trades import FILE.csv --as USER``: all or nothing, and idempotent."""

from __future__ import annotations

from pathlib import Path

from tests.trading.conftest import ALPHA_ALLOCATION, Market

HEADER = "external_ref,kind,seller_account,buyer_account,unit_kind,vintage,quantity,price,traded_at"


def test_trades_import_records_once_and_a_reimport_changes_nothing(
    run_cli, market: Market, tmp_path: Path
) -> None:
    lines = [
        f"C{n},listed,{market.alpha},{market.beta},allowance,2025,{n * 10},100.00,"
        "2026-06-01T10:00:00+08:00"
        for n in range(1, 4)
    ]
    path = tmp_path / "trades.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    first = run_cli("trades", "import", str(path), "--as", "exchange")
    assert first.exit_code == 0, first.stderr
    assert "3 trades: 3 recorded" in first.stdout
    assert market.held(market.alpha) == ALPHA_ALLOCATION - 60
    again = run_cli("trades", "import", str(path), "--as", "exchange")
    assert again.exit_code == 0, again.stderr
    assert "0 recorded, 3 already recorded" in again.stdout
    assert market.held(market.alpha) == ALPHA_ALLOCATION - 60


def test_a_bad_file_is_one_error_per_row_and_exit_1(
    run_cli, market: Market, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(f"{HEADER}\nX1,listed,{market.alpha},{market.beta},allowance,2025,0,"
                    "100.00,2026-06-01T10:00:00+08:00\n", encoding="utf-8")  # fmt: skip
    result = run_cli("trades", "import", str(path), "--as", "exchange")
    assert result.exit_code == 1
    assert "trades row 2, quantity" in result.stderr
    assert market.held(market.alpha) == ALPHA_ALLOCATION
