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
