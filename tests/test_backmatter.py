"""Back matter: the October 2025 figure ledger and the appendices' links into the package."""

from __future__ import annotations

import csv
import dataclasses
import importlib
import pathlib
import re

import numpy as np
import pytest

from perpsbook.data import FigureLedger, figure_ledger
from perpsbook.errors import InvalidInputError

ROOT = pathlib.Path(__file__).resolve().parent.parent
LEDGER_CSV = ROOT / "perpsbook" / "data" / "oct2025_figure_ledger.csv"
BIB = ROOT / "book" / "references.bib"

DATE = re.compile(r"^(n\.d\.|\d{4}-\d{2}(-\d{2})?)$")
WINDOW = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$")


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with LEDGER_CSV.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def bib_keys() -> set[str]:
    return set(re.findall(r"^@\w+\{([^,\s]+),", BIB.read_text(encoding="utf-8"), re.M))


# ---------------------------------------------------------------- the CSV itself


def test_every_row_has_source_url_date_and_window(rows):
    assert len(rows) >= 30
    for r in rows:
        where = r["id"]
        assert r["source"].strip(), where
        assert r["source_url"].startswith("https://") or r["source_url"].startswith("http://"), (
            where
        )
        assert DATE.match(r["published_date"]), (where, r["published_date"])
        assert r["method"].strip(), where
        if r["unit"] == "rule":  # a standing venue rule has no time window
            assert r["window_start_utc"] == r["window_end_utc"] == "n/a", where
        else:
            assert WINDOW.match(r["window_start_utc"]), (where, r["window_start_utc"])
            assert WINDOW.match(r["window_end_utc"]), (where, r["window_end_utc"])
            # ISO strings of the same shape compare in time order
            assert r["window_start_utc"][:10] <= r["window_end_utc"][:10], where


def test_ids_unique_and_values_are_numbers(rows):
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))
    for r in rows:
        assert np.isfinite(float(r["value"])), r["id"]
        if r["value_high"]:
            # a range: the high end is not below the low end
            assert float(r["value_high"]) >= float(r["value"]), r["id"]


def test_every_bibkey_is_in_the_bibliography(rows, bib_keys):
    cited = {r["bibkey"] for r in rows if r["bibkey"]}
    assert cited, "no row cites the bibliography"
    assert cited <= bib_keys, sorted(cited - bib_keys)
    # rows without a bib entry are the weak sources listed only for comparison
    uncited = [r["id"] for r in rows if not r["bibkey"]]
    assert len(uncited) <= 5, uncited


def test_the_issue_s_figures_are_present_with_their_sources(rows):
    by_id = {r["id"]: r for r in rows}
    # CoinGlass 24 h: about 19.1-19.3e9 USD, about 1.6 million traders
    assert 19.0e9 <= float(by_id["cg_24h_total"]["value"]) <= 19.4e9
    assert 19.0e9 <= float(by_id["cg_24h_total_peak"]["value"]) <= 19.4e9
    assert 1.6e6 <= float(by_id["cg_24h_traders"]["value"]) < 1.7e6
    # CoinGlass's own later estimate is a range well above its reported total
    est = by_id["cg_true_total_estimate"]
    assert float(est["value"]) > float(by_id["cg_24h_total"]["value"])
    assert float(est["value_high"]) > float(est["value"])
    # Amberdata's 14-hour window and its peak minute at 21:15 UTC
    amb = by_id["amb_14h_total"]
    assert amb["window_start_utc"] == "2025-10-10T13:00"
    assert amb["window_end_utc"] == "2025-10-11T03:00"
    assert by_id["amb_peak_minute"]["window_start_utc"] == "2025-10-10T21:15"
    # Binance's stream: one liquidation per symbol per 1000 ms, from its API docs
    rule = by_id["binance_forceorder_rule"]
    assert float(rule["value"]) == 1.0
    assert "developers.binance.com" in rule["source_url"]
    # Hyperliquid's ADL window from the reconstruction
    adl = by_id["hl_adl_events"]
    assert adl["window_start_utc"].startswith("2025-10-10T21:16")
    assert adl["window_end_utc"].startswith("2025-10-10T21:26")


def test_sources_that_disagree_keep_both_rows(rows):
    # the same quantity from different sources, windows or versions is kept, not merged
    chitra = [r for r in rows if r["bibkey"] == "chitra2025adl"]
    versions = {r["source_url"].rsplit("/", 1)[-1] for r in chitra}
    assert len(versions) >= 3  # v1, v2 (via RePEc), v3
    usde = [r for r in rows if r["quantity"] == "USDe low on Binance"]
    assert len(usde) == 2 and usde[0]["value"] != usde[1]["value"]
    totals_24h = [float(r["value"]) for r in rows if r["id"] in ("cg_24h_total", "amb_14h_total")]
    assert totals_24h[0] != totals_24h[1]


def test_derived_shares_match_their_parts(rows):
    # Amberdata: longs + shorts = the 14-hour total, and the stated 83.9 % long share
    by_id = {r["id"]: float(r["value"]) for r in rows}
    total = by_id["amb_long"] + by_id["amb_short"]
    assert total == pytest.approx(by_id["amb_14h_total"], rel=2e-3)
    assert by_id["amb_long"] / total == pytest.approx(0.839, abs=1e-3)
    # the 40-minute waterfall is 70 % of the 14-hour total, as the source says
    assert by_id["amb_40min"] / by_id["amb_14h_total"] == pytest.approx(0.70, abs=0.005)


# ---------------------------------------------------------------- the loader


def test_loader_matches_the_csv(rows):
    led = figure_ledger()
    assert isinstance(led, FigureLedger)
    assert len(led) == len(rows)
    assert led.value.dtype == np.float64 and led.value_high.dtype == np.float64
    np.testing.assert_array_equal(led.id, [r["id"] for r in rows])
    np.testing.assert_array_equal(led.value, [float(r["value"]) for r in rows])
    empty = np.array([r["value_high"] == "" for r in rows])
    assert np.isnan(led.value_high[empty]).all()
    assert np.isfinite(led.value_high[~empty]).all()
    assert figure_ledger() is led  # cached


def test_loader_arrays_are_read_only():
    led = figure_ledger()
    with pytest.raises(ValueError):
        led.value[0] = 0.0
    with pytest.raises(ValueError):
        led.id[0] = "x"


def test_row_and_select():
    led = figure_ledger()
    row = led.row("amb_peak_minute")
    assert row["value"] == 3.21e9 and row["unit"] == "USD"
    assert row["bibkey"] == "amberdata2025oct"
    oct10 = led.select("2025-10-10")
    assert 0 < len(oct10) < len(led)
    assert set(oct10.event) == {"2025-10-10"}
    assert len(led.select("1999-01-01")) == 0


@pytest.mark.parametrize("bad", ["no_such_row", "", None, 3])
def test_row_rejects_unknown_ids(bad):
    with pytest.raises(InvalidInputError, match="row_id"):
        figure_ledger().row(bad)


# ---------------------------------------------------------------- the appendices


def _py_targets(text: str) -> list[tuple[str, str]]:
    return re.findall(r"\{py:(func|meth|attr|class|data|mod)\}`([\w.]+)`", text)


@pytest.mark.parametrize("page", ["formulas.md", "extending.md", "references.md", "api.md"])
def test_every_python_target_named_in_the_appendices_exists(page):
    # the -n build checks the same thing; this finds it in a second, naming the target
    text = (ROOT / "book" / page).read_text(encoding="utf-8")
    for _role, target in _py_targets(text):
        parts = target.strip().split(".")
        for cut in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            for attr in parts[cut:]:
                if dataclasses.is_dataclass(obj) and attr in {
                    f.name for f in dataclasses.fields(obj)
                }:
                    break  # a dataclass field (no class attribute without a default)
                obj = getattr(obj, attr)
            break
        else:  # pragma: no cover - the loop always finds the package
            pytest.fail(f"{page}: cannot import {target}")


def test_formulas_page_links_the_core_functions():
    text = (ROOT / "book" / "formulas.md").read_text(encoding="utf-8")
    named = {t for _r, t in _py_targets(text)}
    for fn in [
        "perpsbook.margin.liquidation_price",
        "perpsbook.margin.bankruptcy_price",
        "perpsbook.margin.maintenance_amounts",
        "perpsbook.funding.premium_index",
        "perpsbook.funding.funding_rate",
        "perpsbook.funding.funding_payment",
        "perpsbook.funding.basis_trade_pnl",
        "perpsbook.liquidation.adl_scores",
        "perpsbook.theory.branching_ratio",
        "perpsbook.theory.small_shock_multiplier",
        "perpsbook.theory.critical_ignition",
    ]:
        assert fn in named, fn


def test_margin_block_of_the_api_page_lists_every_public_name():
    # perpsbook.margin is documented name by name (its module docstring does not parse as
    # reST yet), so a name added to margin.__all__ must be added to book/api.md too
    import perpsbook.margin as margin

    text = (ROOT / "book" / "api.md").read_text(encoding="utf-8")
    if ".. py:module:: perpsbook.margin" not in text:
        assert ".. automodule:: perpsbook.margin" in text
        return  # back to the standard block: autodoc lists margin.__all__ itself
    block = text[text.index(".. py:module:: perpsbook.margin") :]
    block = block[: block.index("```")]
    documented = set(
        re.findall(r"(?:py:data|autoclass|autofunction)::\s+(?:perpsbook\.margin\.)?(\w+)", block)
    )
    assert set(margin.__all__) <= documented, sorted(set(margin.__all__) - documented)


def test_every_package_module_is_on_the_api_page():
    text = (ROOT / "book" / "api.md").read_text(encoding="utf-8")
    on_page = set(re.findall(r"(?:automodule|py:module)::\s+(perpsbook[\w.]*)", text))
    modules = {
        "perpsbook." + p.stem
        for p in (ROOT / "perpsbook").glob("*.py")
        if not p.stem.startswith("_")
    }
    modules |= {"perpsbook." + p.parent.name for p in (ROOT / "perpsbook").glob("*/__init__.py")}
    assert modules <= on_page, sorted(modules - on_page)


def test_glossary_has_the_issue_s_terms():
    text = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8").lower()
    body = text[text.index("```{glossary}") :]
    terms = set(re.findall(r"^([^\s:`][^\n]*)$", body, re.M))
    for term in [
        "mark price", "index price", "last price", "premium index", "funding rate", "basis",
        "bankruptcy price", "liquidation price", "mmr", "imr", "maintenance amount", "tier",
        "bracket", "isolated margin", "cross margin", "ioc", "insurance fund", "adl",
        "leveragepnl", "backstop liquidator", "clearance fee", "open interest", "fdv",
        "float", "circulating supply", "market maker", "delta hedge", "hedge ratio",
        "amplification", "branching ratio", "criticality", "tranche", "ignition", "cascade",
        "squeeze", "cash-and-carry", "liquidation sniping",
    ]:  # fmt: skip
        assert term in terms, term
