"""Time every interactive panel of the book as a reader would use it.

Each panel of :mod:`perpsbook.widgets` is built once, then each of its controls is moved
through its range (a few values from one end to the other, then back to the start), one
change at a time; every change runs the panel's update synchronously (recompute + redraw +
PNG), so the wall time of ``control.value = x`` is what the reader waits for. The table
gives the median and the 90th percentile per control, in milliseconds.

Run by hand, not by the test suite (times depend on the machine and its load)::

    python benchmarks/panels.py            # 8 moves per control
    python benchmarks/panels.py --moves 20
    python benchmarks/panels.py --panel rocket_explorer

The target of the book is a median <= 100 ms for every control of every panel. The wall
time is what a reader waits for on an idle machine; on a busy one (see the load average
printed first) it grows with the other processes, and the median CPU time of this
process (``cpu ms``) is the better estimate of the idle wall time.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time

import matplotlib

matplotlib.use("Agg")

import numpy as np


def _controls(root):
    """Every value widget with a description under ``root`` (depth first)."""
    import ipywidgets as w

    found = []

    def walk(node):
        if isinstance(node, w.Box):
            for child in node.children:
                walk(child)
        elif (
            isinstance(node, w.ValueWidget)
            and getattr(node, "description", "")
            and not isinstance(node, (w.HTML, w.Label, w.Image))
        ):
            found.append(node)

    walk(root)
    return found


def _values(ctrl, moves: int) -> list:
    """``moves`` values a reader would visit: across the range and back to the start."""
    import ipywidgets as w

    start = ctrl.value
    if isinstance(ctrl, w.SelectionRangeSlider):
        n = len(ctrl.options)
        lo, hi = ctrl.index
        seq = [(int(a), max(int(a) + 1, hi)) for a in np.linspace(0, max(hi - 1, 0), moves)]
        return [("index", s) for s in seq] + [("index", (lo, hi))] if n > 1 else []
    if hasattr(ctrl, "options") and not isinstance(ctrl, w.SelectionRangeSlider):
        opts = [o[1] if isinstance(o, tuple) else o for o in ctrl.options]
        seq = (opts * moves)[: max(moves, len(opts))]
        seq = [v for v in seq if True]
        return [("value", v) for v in seq] + [("value", start)]
    if isinstance(ctrl, w.FloatLogSlider):
        exps = np.linspace(ctrl.min, ctrl.max, moves)
        return [("value", float(ctrl.base**e)) for e in exps] + [("value", start)]
    if isinstance(ctrl, (w.BoundedFloatText, w.FloatText)):
        return [("value", start * f) for f in np.linspace(0.5, 2.0, moves)] + [("value", start)]
    if hasattr(ctrl, "min") and hasattr(ctrl, "max"):
        vals = np.linspace(ctrl.min, ctrl.max, moves)
        if isinstance(ctrl.value, int):
            vals = np.unique(np.round(vals).astype(int))
        return [("value", v.item()) for v in vals] + [("value", start)]
    return []


def measure(build, moves: int) -> list[tuple[str, float, float, float, int]]:
    """Per control of the panel built by ``build()``: (name, median ms, p90 ms, median CPU ms,
    changes)."""
    with contextlib.redirect_stdout(io.StringIO()):
        panel = build()
    rows = []
    for ctrl in _controls(panel):
        times, cpu = [], []
        for attr, v in _values(ctrl, moves):
            if getattr(ctrl, attr) == v:
                continue
            t0, c0 = time.perf_counter(), time.process_time()
            with contextlib.redirect_stdout(io.StringIO()):
                setattr(ctrl, attr, v)
            times.append((time.perf_counter() - t0) * 1e3)
            cpu.append((time.process_time() - c0) * 1e3)
        if times:
            rows.append(
                (
                    ctrl.description,
                    float(np.median(times)),
                    float(np.percentile(times, 90)),
                    float(np.median(cpu)),
                    len(times),
                )
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=8, help="values per control")
    parser.add_argument("--panel", action="append", help="only this panel (repeatable)")
    args = parser.parse_args(argv)

    from perpsbook import plots, widgets

    plots.use_style()
    panels = {
        "funding_explorer": lambda: widgets.funding_explorer(start="2024-01", end="2026-01"),
        "event_explorer": lambda: widgets.event_explorer("2025-10-10", days=3),
        "hedge_explorer": lambda: widgets.hedge_explorer(),
        "order_book_explorer": lambda: widgets.order_book_explorer(),
        "liquidation_calculator": lambda: widgets.liquidation_calculator(),
        "rocket_explorer": lambda: widgets.rocket_explorer(),
        "rocket_stage_explorer": lambda: widgets.rocket_stage_explorer(),
        "branching_explorer": lambda: widgets.branching_explorer(),
        "lever_explorer": lambda: widgets.lever_explorer(),
        "infrastructure_explorer": lambda: widgets.infrastructure_explorer(),
        "sniper_explorer": lambda: widgets.sniper_explorer(),
        "zero_sum_explorer": lambda: widgets.zero_sum_explorer(),
        "adl_explorer": lambda: widgets.adl_explorer(),
        "crash_explorer": lambda: widgets.crash_explorer(),
    }
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"{'panel':<24}{'control':<22}{'median ms':>10}{'p90 ms':>9}{'cpu ms':>8}{'n':>4}")
    print("-" * 77)
    worst = worst_cpu = 0.0
    for name, build in panels.items():
        if args.panel and name not in args.panel:
            continue
        for control, med, p90, cpu, n in measure(build, args.moves):
            worst, worst_cpu = max(worst, med), max(worst_cpu, cpu)
            print(f"{name:<24}{control[:21]:<22}{med:>10.1f}{p90:>9.1f}{cpu:>8.1f}{n:>4}")
    print("-" * 77)
    print(f"worst median {worst:.1f} ms wall, {worst_cpu:.1f} ms CPU (target <= 100 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
