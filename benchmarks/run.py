"""Benchmarks of perpsbook's cascade engines, measured on the machine that runs them.

Run by hand (not part of the test suite)::

    python benchmarks/run.py            # table, N = 1e4 .. 1e7
    python benchmarks/run.py --quick    # N up to 1e6, about a minute
    python benchmarks/run.py --json     # one JSON object on stdout

What is measured (best of a few repeats, ``time.perf_counter``):

* population mode (:func:`perpsbook.population.population_cascade`) on N positions from
  unsorted arrays, next to one ``np.sort`` of the same N float64 liquidation prices and
  one ``np.bincount(bins, weights=sizes)`` pass over them (the cost of touching each
  position once), and the ratios to both (target <= 1.5 x the sort); also with the
  positions first sorted into a
  :class:`~perpsbook.population.LiquidationLadder` (one argsort), the path to use when one
  population is re-run on many books;
* the two-market population mode (:func:`perpsbook.twomarket.two_market_population`:
  spot and perp books, trigger on the index) on the same N, with the same two ratios;
* the peak memory of one population run (``tracemalloc``: numpy's allocations beyond the
  inputs) and the process's peak resident set size;
* a 100 x 100 sweep (ignition x hedge ratio) at N = 1e5 (target <= 1 s), and a 100 x 100
  hedge ratio x short-interest sweep (no ignition axis);
* stage mode on the article's RocketCoin case (:func:`perpsbook.scenarios.rocketcoin`)
  and on two markets for each venue (:func:`perpsbook.scenarios.rocketcoin_two_market`);
* a naive per-position Python loop on the same inputs (N <= 1e5), as a baseline.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import platform
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from perpsbook.book import QTY_RTOL, OrderBook
from perpsbook.population import LiquidationLadder, population_cascade, sweep
from perpsbook.scenarios import TWO_MARKET_VENUES, rocketcoin, rocketcoin_two_market
from perpsbook.twomarket import two_market_population

FULL_NS = (10_000, 100_000, 1_000_000, 10_000_000)
QUICK_NS = (10_000, 100_000, 1_000_000)
NAIVE_MAX_N = 100_000
HEDGE_RATIO = 1.0
SEED = 20250807


def benchmark_book() -> OrderBook:
    """A $10 coin's book: 20,000 coins lift $10 -> $11, flat to $30 (2,001 ask levels)."""
    return OrderBook.calibrated(10.0, 11.0, 20_000.0, tick=0.01, extend_to=30.0)


def make_population(n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """N short liquidation prices (USD/coin) and sizes (coins), unsorted.

    Prices lognormal around $12 (10-25 % above spot, some beyond the book's $30), sizes
    Pareto (alpha 1.5, at least 1 coin): a crowd of shorts with a few whales.
    """
    rng = np.random.default_rng(seed)
    prices = 10.0 * np.exp(rng.normal(0.18, 0.15, n))
    sizes = 1.0 + rng.pareto(1.5, n)
    # Scale the short interest so the crowd is comparable to the book at every N.
    sizes *= 400_000.0 / sizes.sum()
    return prices, sizes


def best_time(fn: Callable[[], Any], repeats: int) -> float:
    """Fastest of ``repeats`` runs, seconds."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def peak_mb(fn: Callable[[], Any]) -> float:
    """Peak memory allocated while ``fn`` runs (tracemalloc, numpy included), MB."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 1e6


def naive_cascade(
    book: OrderBook, prices: np.ndarray, sizes: np.ndarray, ignition: float, hedge_ratio: float
) -> tuple[float, int, float]:
    """The cascade position by position in plain Python (the baseline).

    Sort the shorts, then alternate: find the last traded price of the demand so far
    (bisect on the cumulative depth, the book's rule), liquidate every short at or below
    it one by one, add ``(1 + h)`` coins of demand each, until nothing new triggers.
    Returns (final price, positions liquidated, coins liquidated).
    """
    order = sorted(range(len(prices)), key=prices.__getitem__)
    lp = [float(prices[i]) for i in order]
    sz = [float(sizes[i]) for i in order]
    level_prices, cum, _ = book.cumulative_depth(1)
    cum_list = cum.tolist()
    top = len(cum_list) - 1
    demand, i, liquidated = float(ignition), 0, 0.0
    while True:
        k = min(bisect.bisect_left(cum_list, demand * (1.0 - QTY_RTOL)), top)
        price = float(level_prices[k])
        start = i
        while i < len(lp) and lp[i] <= price:
            demand += (1.0 + hedge_ratio) * sz[i]
            liquidated += sz[i]
            i += 1
        if i == start:
            return price, i, liquidated


def bench_population(n: int, repeats: int, book: OrderBook, ignition: float) -> dict[str, Any]:
    """Time, memory and sort ratio of one population run of N positions."""
    prices, sizes = make_population(n)

    def run() -> Any:
        return population_cascade(book, prices, sizes, ignition, hedge_ratio=HEDGE_RATIO)

    def run_ladder() -> Any:
        ladder = LiquidationLadder.from_arrays(prices, sizes)
        return population_cascade(book, ladder, None, ignition, hedge_ratio=HEDGE_RATIO)

    def run_two() -> Any:
        return two_market_population(
            book, book, prices, sizes, ignition_qty=ignition, hedge_ratio=HEDGE_RATIO
        )

    # one bincount pass: each position's weight added to its bin once (bins precomputed)
    bins = np.random.default_rng(SEED + 1).integers(0, book.ask_prices.size, n)

    def bincount() -> Any:
        return np.bincount(bins, weights=sizes, minlength=book.ask_prices.size)

    result = run()
    seconds = best_time(run, repeats)
    sort_seconds = best_time(lambda: np.sort(prices), repeats)
    bincount_seconds = best_time(bincount, repeats)
    ladder_seconds = best_time(run_ladder, max(1, repeats - 1))
    two = run_two()
    two_seconds = best_time(run_two, repeats)
    row: dict[str, Any] = {
        "n": n,
        "seconds": seconds,
        "sort_seconds": sort_seconds,
        "bincount_seconds": bincount_seconds,
        "ratio_to_sort": seconds / sort_seconds,
        "ratio_to_bincount": seconds / bincount_seconds,
        "two_market_seconds": two_seconds,
        "two_market_ratio_to_sort": two_seconds / sort_seconds,
        "two_market_ratio_to_bincount": two_seconds / bincount_seconds,
        "two_market_final_spot": two.final_spot,
        "two_market_n_liquidated": two.n_liquidated,
        "ladder_seconds": ladder_seconds,
        "ladder_ratio_to_sort": ladder_seconds / sort_seconds,
        "peak_mb": peak_mb(run),
        "inputs_mb": (prices.nbytes + sizes.nbytes) / 1e6,
        "final_price": result.final_price,
        "n_liquidated": result.n_liquidated,
    }
    if n <= NAIVE_MAX_N:
        naive_seconds = best_time(
            lambda: naive_cascade(book, prices, sizes, ignition, HEDGE_RATIO), 1
        )
        price, count, _ = naive_cascade(book, prices, sizes, ignition, HEDGE_RATIO)
        row["naive_seconds"] = naive_seconds
        row["naive_ratio"] = naive_seconds / seconds
        row["naive_agrees"] = bool(price == result.final_price and count == result.n_liquidated)
    return row


def bench_sweeps(n: int, shape: tuple[int, int], repeats: int, book: OrderBook) -> dict[str, float]:
    """Seconds for an ignition x hedge-ratio grid and a hedge-ratio x short-scale grid."""
    prices, sizes = make_population(n)
    ignitions = np.geomspace(100.0, 50_000.0, shape[0])
    hedges = np.linspace(0.0, 2.0, shape[1])
    scales = np.linspace(0.0, 2.0, shape[1])

    def ign_by_hedge() -> Any:
        return sweep(book, prices, sizes, ignitions=ignitions, hedge_ratios=hedges)

    def hedge_by_short() -> Any:
        return sweep(
            book,
            prices,
            sizes,
            ignitions=1_000.0,
            hedge_ratios=hedges[: shape[0]],
            short_scales=scales,
        )

    return {
        "ignition_x_hedge": best_time(ign_by_hedge, repeats),
        "hedge_x_short_scale": best_time(hedge_by_short, repeats),
    }


def bench_stage_mode(repeats: int) -> float:
    """Seconds for one stage-mode run of the default RocketCoin scenario."""
    scenario = rocketcoin()
    return best_time(scenario.run, repeats)


def bench_two_market_stage_mode(repeats: int) -> dict[str, float]:
    """Seconds for one two-market stage-mode RocketCoin run, per venue."""
    return {v: best_time(rocketcoin_two_market(v).run, repeats) for v in TWO_MARKET_VENUES}


def collect(
    ns: Sequence[int] = FULL_NS,
    *,
    repeats: int = 3,
    sweep_n: int = 100_000,
    sweep_shape: tuple[int, int] = (100, 100),
    stage_repeats: int = 20,
) -> dict[str, Any]:
    """Run every benchmark and return one JSON-able dict."""
    book = benchmark_book()
    ignition = 1_000.0
    population = [bench_population(int(n), repeats, book, ignition) for n in ns]
    sweeps = bench_sweeps(sweep_n, sweep_shape, repeats, book)
    naive = [row for row in population if "naive_ratio" in row]
    return {
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
        },
        "book_levels": int(book.ask_prices.size),
        "ignition_coins": ignition,
        "hedge_ratio": HEDGE_RATIO,
        "population": population,
        "sweep_shape": list(sweep_shape),
        "sweep_n": sweep_n,
        "sweep_100x100_seconds": sweeps["ignition_x_hedge"],
        "sweep_hedge_x_short_seconds": sweeps["hedge_x_short_scale"],
        "stage_mode_seconds": bench_stage_mode(stage_repeats),
        "two_market_stage_mode_seconds": bench_two_market_stage_mode(max(1, stage_repeats // 4)),
        "naive_loop_ratio": naive[-1]["naive_ratio"] if naive else None,
        "naive_loop_n": naive[-1]["n"] if naive else None,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3,
    }


def format_table(report: dict[str, Any]) -> str:
    """Plain-text rendering of :func:`collect`'s report."""
    head = (
        f"{'N':>10}  {'cascade s':>10}  {'np.sort s':>10}  {'ratio':>6}  "
        f"{'ladder s':>9}  {'ratio':>6}  {'peak MB':>8}  {'naive s':>8}  {'naive x':>8}"
    )
    head2 = (
        f"{'N':>10}  {'bincount s':>10}  {'one-ladder':>10}  {'/sort':>6}  {'/bincount':>9}  "
        f"{'two-market':>10}  {'/sort':>6}  {'/bincount':>9}"
    )
    lines = [
        f"book: {report['book_levels']} ask levels; ignition {report['ignition_coins']:g} "
        f"coins; hedge ratio {report['hedge_ratio']:g}",
        head,
        "-" * len(head),
    ]
    for r in report["population"]:
        naive_s = f"{r['naive_seconds']:.4f}" if "naive_seconds" in r else "-"
        naive_x = f"{r['naive_ratio']:.0f}" if "naive_ratio" in r else "-"
        lines.append(
            f"{r['n']:>10,}  {r['seconds']:>10.4f}  {r['sort_seconds']:>10.4f}  "
            f"{r['ratio_to_sort']:>6.2f}  {r['ladder_seconds']:>9.4f}  "
            f"{r['ladder_ratio_to_sort']:>6.2f}  {r['peak_mb']:>8.1f}  {naive_s:>8}  {naive_x:>8}"
        )
    lines += [
        "",
        "population mode, one ladder vs two markets (cascade time / np.sort and / one "
        "np.bincount pass over the same N):",
        head2,
        "-" * len(head2),
    ]
    for r in report["population"]:
        lines.append(
            f"{r['n']:>10,}  {r['bincount_seconds']:>10.4f}  {r['seconds']:>10.4f}  "
            f"{r['ratio_to_sort']:>6.2f}  {r['ratio_to_bincount']:>9.2f}  "
            f"{r['two_market_seconds']:>10.4f}  {r['two_market_ratio_to_sort']:>6.2f}  "
            f"{r['two_market_ratio_to_bincount']:>9.2f}"
        )
    shape = "x".join(str(s) for s in report["sweep_shape"])
    lines += [
        "",
        f"sweep {shape} ignition x hedge ratio, N={report['sweep_n']:,}: "
        f"{report['sweep_100x100_seconds']:.4f} s",
        f"sweep {shape} hedge ratio x short scale, N={report['sweep_n']:,}: "
        f"{report['sweep_hedge_x_short_seconds']:.4f} s",
        f"stage mode, RocketCoin default: {report['stage_mode_seconds'] * 1e3:.2f} ms per run",
        "stage mode, RocketCoin on two markets: "
        + ", ".join(
            f"{v} {t * 1e3:.1f} ms" for v, t in report["two_market_stage_mode_seconds"].items()
        ),
        f"naive Python loop / population mode at N={report['naive_loop_n']}: "
        f"{report['naive_loop_ratio']:.0f}x",
        f"peak RSS of this process: {report['peak_rss_mb']:.0f} MB",
        f"machine: {report['machine']['processor']}, {report['machine']['cpus']} CPUs, "
        f"numpy {report['machine']['numpy']}, Python {report['machine']['python']}",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="N up to 1e6 (about a minute)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats per timing (best of)")
    args = parser.parse_args(argv)
    ns = QUICK_NS if args.quick else FULL_NS
    report = collect(ns, repeats=max(1, args.repeats))
    print(json.dumps(report, indent=2) if args.json else format_table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
