"""Panel of who paid whom (chapter "Zero-sum: who pays whom")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

from perpsbook import plots as _plots
from perpsbook.hedging import HEDGE_RATIO_MAX
from perpsbook.payoffs import POLICIES, ZeroSum, rocketcoin_zero_sum
from perpsbook.widgets.panel import WIDE, Panel, View, check_choice, check_range
from perpsbook.widgets.twin import StaticTwin, static_twin

__all__ = ["MODELS", "zero_sum_explorer", "zero_sum_explorer_twin"]

IGNITION_RANGE = (50_000.0, 500_000.0)
"""Ignitions the panel offers, USD of spot buying."""

MODELS: tuple[tuple[str, str | None], ...] = (
    ("one ladder", None),
    *((f"{p} (two markets)", p) for p in POLICIES),
)
"""The panel's model choices as (label, policy): the article's one-ladder cascade, then the
two-market model under each venue policy of :data:`perpsbook.payoffs.POLICIES`."""

_LABEL = {p: label for label, p in MODELS}


def _short(usd: float) -> str:
    return _plots.format_usd(round(usd, 2))


def ledger_text(zs: ZeroSum, result: Any) -> str:
    """Three lines: the marks, the winners, the losers and the total (all USD)."""
    win = ", ".join(f"{r} {_short(v)}" for r, v in zs.winners().items()) or "nobody"
    lose = ", ".join(f"{r} {_short(v)}" for r, v in zs.losers().items()) or "nobody"
    total = zs.totals()["value"]
    mark = f"marked at spot {zs.spot_price:,.2f}"
    if abs(zs.perp_price - zs.spot_price) > 1e-12:
        mark += f", perp {zs.perp_price:,.2f}"
    return (
        f"{mark} USD/coin after {result.n_stages} stages; the losers fund "
        f"{_short(zs.gross())}\nwinners: {win}\nlosers:  {lose}\n"
        f"sum of all P&L: {_short(total)}"
    )


def _update(stage_seconds: float | None) -> Any:
    cache: dict[tuple[Any, ...], tuple[ZeroSum, Any]] = {}

    def update(v: dict[str, Any]) -> View:
        policy = v["model"]
        check_choice("model", policy, [p for _, p in MODELS])
        key = (policy, float(v["ignition"]), float(v["hedge"]))
        if key not in cache:
            secs = None if policy is None else stage_seconds
            cache[key] = rocketcoin_zero_sum(
                policy, ignition=key[1], hedge_ratio=key[2], stage_seconds=secs
            )
        zs, result = cache[key]
        title = f"{_LABEL[policy]}: ignition {_short(key[1])}, hedge ratio {key[2]:g}"
        return _plots.zero_sum_waterfall(zs, title=title), ledger_text(zs, result)

    return update


def zero_sum_explorer(
    model: str | None = "market",
    hedge_ratio: float = 1.0,
    ignition: float = 200_000.0,
    *,
    stage_seconds: float | None = 3600.0,
) -> Panel:
    """Panel: RocketCoin's P&L by role -- who paid whom -- for a model, hedge and ignition.

    Controls: ``model`` (the one-ladder cascade, or the two-market model under a venue
    policy of :data:`perpsbook.payoffs.POLICIES`), ``hedge`` (hedge ratio, 0 to
    :data:`perpsbook.hedging.HEDGE_RATIO_MAX`) and ``ignition`` (USD, in
    ``IGNITION_RANGE``). Each change runs :func:`perpsbook.payoffs.rocketcoin_zero_sum`
    and shows :func:`perpsbook.plots.zero_sum_waterfall` with the winners, the losers and
    the sum of every P&L (zero) below it.

    Parameters
    ----------
    model : {None, "market", "binance", "bybit", "hyperliquid"}
        Initial model (None = one ladder).
    hedge_ratio : float
        Initial hedge ratio.
    ignition : float
        Initial ignition, USD.
    stage_seconds : float, optional
        Seconds per stage in the two-market model (funding accrues over them); default
        one hour.

    Returns
    -------
    Panel
    """
    check_choice("model", model, [p for _, p in MODELS])
    check_range("hedge_ratio", hedge_ratio, 0.0, HEDGE_RATIO_MAX)
    check_range("ignition", ignition, *IGNITION_RANGE, "USD")
    if stage_seconds is not None:
        check_range("stage_seconds", stage_seconds, 1e-3, 86_400.0, "seconds")
    controls = {
        "model": widgets.Dropdown(
            options=list(MODELS), value=model, description="model", style=WIDE
        ),
        "hedge": widgets.FloatSlider(
            value=hedge_ratio,
            min=0.0,
            max=HEDGE_RATIO_MAX,
            step=0.1,
            description="hedge ratio h",
            style=WIDE,
        ),
        "ignition": widgets.FloatSlider(
            value=ignition,
            min=IGNITION_RANGE[0],
            max=IGNITION_RANGE[1],
            step=10_000.0,
            description="ignition (USD)",
            readout_format=",.0f",
            style=WIDE,
        ),
    }
    return Panel(controls, _update(stage_seconds), rows=[["model"], ["hedge", "ignition"]])


TWIN_HEDGES = (0.0, 0.5, 1.0, 1.5, 2.0)
"""Hedge ratios on the twin's grid."""

TWIN_IGNITIONS = (100_000.0, 200_000.0, 300_000.0)
"""Ignitions on the twin's grid, USD."""


def zero_sum_explorer_twin(
    *, stage_seconds: float | None = 3600.0, models: Sequence[str | None] | None = None
) -> StaticTwin:
    """Kernel-free twin of :func:`zero_sum_explorer`.

    Grid (75 points with every model): model (one ladder; market, binance, bybit,
    hyperliquid on two markets) × hedge ratio (0, 0.5, 1, 1.5, 2) × ignition ($100k,
    $200k, $300k).

    Parameters
    ----------
    stage_seconds : float, optional
        As in :func:`zero_sum_explorer`.
    models : sequence of {None, "market", "binance", "bybit", "hyperliquid"}, optional
        The models on the grid (default all of ``MODELS``, in that order).
    """
    if stage_seconds is not None:
        check_range("stage_seconds", stage_seconds, 1e-3, 86_400.0, "seconds")
    chosen = [p for _, p in MODELS] if models is None else list(models)
    for m in chosen:
        check_choice("models", m, [p for _, p in MODELS])
    start = "market" if "market" in chosen else chosen[0]
    return static_twin(
        _update(stage_seconds),
        {
            "model": [(label, p) for label, p in MODELS if p in chosen],
            "hedge": list(TWIN_HEDGES),
            "ignition": [(_short(x), x) for x in TWIN_IGNITIONS],
        },
        start={"model": start, "hedge": 1.0, "ignition": 200_000.0},
        descriptions={"model": "model", "hedge": "hedge ratio h", "ignition": "ignition"},
        title="Who paid whom: RocketCoin's ledger by role",
    )
