"""The command line: ``python -m perpsbook rocket|crash|variants``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from perpsbook.cli import main
from perpsbook.scenarios import VARIANTS

REPO = Path(__file__).resolve().parents[1]

STAGE_KEYS = {"stage", "price_before", "price_after", "liquidated_notional", "hedge_notional"}
TOP_KEYS = {
    "ignition_notional",
    "amplification",
    "final_price",
    "ledger_imbalance",
    "book_ran_dry",
    "stages",
}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "perpsbook", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        check=False,
    )


def test_rocket_text_table(capsys):
    assert main(["rocket"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("rocketcoin [default]:")
    assert "p_before" in out and "ignition" in out
    assert "amplification" in out


def test_rocket_json_schema(capsys):
    assert main(["rocket", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= TOP_KEYS
    assert data["ignition_notional"] == pytest.approx(200_000.0)
    assert data["final_price"] == pytest.approx(16.22)
    assert data["amplification"] > 50
    assert data["book_ran_dry"] is False
    assert abs(data["ledger_imbalance"]) < 1e-6
    assert len(data["stages"]) == data["n_stages"] == 6
    for stage in data["stages"]:
        assert set(stage) >= STAGE_KEYS
    assert data["stages"][1]["price_after"] == pytest.approx(12.0)


def test_options_change_the_run(capsys):
    assert main(["rocket", "--json", "--lag", "1", "--hedge-ratio", "0.5"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["params"]["lag"] == 1 and data["params"]["hedge_ratio"] == 0.5
    assert main(["rocket", "--json", "--ignition", "400000", "--variant", "coins"]) == 0
    big = json.loads(capsys.readouterr().out)
    assert big["variant"] == "coins" and big["ignition_notional"] == pytest.approx(400_000.0)
    assert main(["rocket", "--json", "--variant", "flat_book", "--insurance-fund", "0"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["book_ran_dry"] is True and dry["params"]["insurance_fund"] == 0.0


def test_crash_json(capsys):
    assert main(["crash", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["scenario"] == "rocketcoin_crash" and data["side"] == -1
    assert data["final_price"] == pytest.approx(20.0 - 16.22)


def test_variants_lists_every_variant(capsys):
    assert main(["variants"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(VARIANTS)


@pytest.mark.parametrize(
    "argv",
    [
        ["rocket", "--ignition", "nan"],
        ["rocket", "--ignition", "-5"],
        ["rocket", "--ignition", "0"],
        ["rocket", "--ignition", "lots"],
        ["rocket", "--hedge-ratio", "3"],
        ["rocket", "--hedge-ratio", "-0.1"],
        ["rocket", "--lag", "-1"],
        ["rocket", "--lag", "1.5"],
        ["rocket", "--variant", "nope"],
        ["rocket", "--passthrough", "2"],
        ["crash", "--insurance-fund", "-1"],
        ["rocket", "--bogus"],
        ["launch"],
        [],
    ],
)
def test_bad_values_exit_2_with_one_line(argv, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("perpsbook: error: ")
    assert "Traceback" not in captured.err


def test_help_explains_every_option(capsys):
    assert main(["rocket", "--help"]) == 0
    text = capsys.readouterr().out
    for option in ("--ignition", "--hedge-ratio", "--lag", "--variant", "--json", "--passthrough"):
        assert option in text
    assert "USD" in text and "[0, 2]" in text and ">= 0" in text
    assert main(["--help"]) == 0
    assert "rocket" in capsys.readouterr().out


def test_subprocess_json():
    proc = run_cli("rocket", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) >= TOP_KEYS
    assert all(set(s) >= STAGE_KEYS for s in data["stages"])


def test_subprocess_bad_value():
    proc = run_cli("rocket", "--hedge-ratio", "nan")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "hedge_ratio" in proc.stderr and "Traceback" not in proc.stderr


def test_subprocess_help_and_crash_text():
    proc = run_cli("--help")
    assert proc.returncode == 0 and "crash" in proc.stdout
    proc = run_cli("crash")
    assert proc.returncode == 0 and "forced selling" in proc.stdout


# --------------------------------------------------------------------------- two markets

TWO_TOP_KEYS = {"final_spot", "final_perp", "final_mark", "amplification", "ledger_imbalance"}
TWO_STAGE_KEYS = {"spot_after", "perp_after", "index_after", "mark_after"}


@pytest.mark.parametrize("venue", ["binance", "bybit", "hyperliquid"])
def test_two_markets_json_per_venue(venue, capsys):
    assert main(["rocket", "--markets", "two", "--venue", venue, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["markets"] == "two" and data["venue"] == venue
    assert set(data) >= TWO_TOP_KEYS
    assert all(set(s) >= TWO_STAGE_KEYS for s in data["stages"])
    assert abs(data["ledger_imbalance"]) < 1e-6
    assert data["final_spot"] > 11.0  # hedges carried the squeeze into spot (ignition: 11)


def test_two_markets_without_hedges_or_arbitrage_spot_stays(capsys):
    argv = ["rocket", "--markets", "two", "--hedge-ratio", "0", "--arbitrage", "0", "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    spots = [s["spot_after"] for s in data["stages"]]
    assert all(p == spots[0] for p in spots)
    assert data["final_perp"] > data["final_spot"]
    assert main([*argv[:-1], "--arbitrage", "300000", "--json"]) == 0
    arb = json.loads(capsys.readouterr().out)
    assert arb["final_spot"] > data["final_spot"]


def test_two_markets_text_and_max_stages(capsys):
    assert main(["rocket", "--markets", "two", "--max-stages", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("rocketcoin_two_market [binance]")
    assert "mark" in out and "stopped after max_stages=2" in out


def test_markets_one_is_the_default(capsys):
    assert main(["rocket", "--json"]) == 0
    default = capsys.readouterr().out
    assert main(["rocket", "--markets", "one", "--json"]) == 0
    assert capsys.readouterr().out == default


@pytest.mark.parametrize(
    "argv",
    [
        ["rocket", "--markets", "three"],
        ["rocket", "--markets", "two", "--venue", "ftx"],
        ["rocket", "--markets", "two", "--arbitrage", "nan"],
        ["rocket", "--markets", "two", "--arbitrage", "-1"],
        ["rocket", "--markets", "two", "--lag", "99999999999999999999"],
        ["rocket", "--lag", "1000000000"],
        ["rocket", "--max-stages", "0"],
        ["rocket", "--markets", "two", "--max-stages", "inf"],
        ["rocket", "--markets", "two", "--ignition", "inf"],
        ["rocket", "--markets", "two", "--hedge-ratio", "nan"],
        ["rocket", "--markets", "two", "--variant", "coins"],
        ["rocket", "--venue", "bybit"],
        ["crash", "--markets", "two", "--variant", "coins"],
        ["crash", "--markets", "two", "--ignition", "nan"],
        ["crash", "--markets", "two", "--venue", "ftx"],
    ],
)
def test_two_markets_bad_values_exit_2_with_one_line(argv, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("perpsbook: error: ")


def test_subprocess_two_markets_huge_lag_is_one_line():
    proc = run_cli("rocket", "--markets", "two", "--lag", "99999999999999999999")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "--lag" in proc.stderr


@pytest.mark.parametrize("venue", ["binance", "bybit", "hyperliquid"])
def test_crash_two_markets_json_per_venue(venue, capsys):
    assert main(["crash", "--markets", "two", "--venue", venue, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["scenario"] == "rocketcoin_crash_two_market" and data["venue"] == venue
    assert set(data) >= TWO_TOP_KEYS
    assert all(set(s) >= TWO_STAGE_KEYS for s in data["stages"])
    assert data["params"]["side"] == -1
    assert abs(data["ledger_imbalance"]) < 1e-6
    # the sale reaches $9 and the hedges carry the crash below it in spot
    assert data["stages"][0]["spot_after"] == pytest.approx(9.0)
    assert data["final_spot"] < 9.0 and data["final_mark"] < 9.0


def test_crash_two_markets_text_says_selling(capsys):
    assert main(["crash", "--markets", "two", "--ignition", "150000"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("rocketcoin_crash_two_market [binance]")
    assert "forced selling" in out and "forced buying" not in out


def test_crash_two_markets_without_hedges_spot_stays(capsys):
    argv = ["crash", "--markets", "two", "--hedge-ratio", "0", "--arbitrage", "0", "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    spots = [s["spot_after"] for s in data["stages"]]
    assert all(p == spots[0] for p in spots)
    assert data["final_perp"] < data["final_spot"]


@pytest.mark.parametrize("command", ["rocket", "crash"])
@pytest.mark.parametrize("ignition", ["5e-324", "1e-310", "1e-300"])
def test_tiny_ignition_runs_on_one_market(command, ignition, capsys):
    assert main([command, "--ignition", ignition, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total_liquidated_qty"] == 0 and abs(data["ledger_imbalance"]) < 1e-9


@pytest.mark.parametrize("command", ["rocket", "crash"])
def test_subnormal_ignition_on_two_markets_names_the_option(command, capsys):
    assert main([command, "--markets", "two", "--ignition", "5e-324"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--ignition" in err[0] and "1e-300" in err[0]
