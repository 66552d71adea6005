"""Panels of the chapter "The rocket, stage by stage": rerun any stage of the RocketCoin
cascade with that stage's inputs changed, and the kernel-free stage player and twin."""

from __future__ import annotations

import functools
from typing import Any

import ipywidgets as widgets

from perpsbook import plots as _plots
from perpsbook.errors import InvalidInputError
from perpsbook.hedging import HEDGE_RATIO_MAX
from perpsbook.widgets.panel import WIDE, KeptFigure, Panel, View, check_choice
from perpsbook.widgets.twin import StaticTwin, stage_player, static_twin

__all__ = [
    "MODELS",
    "rocket_stage_explorer",
    "rocket_stage_explorer_twin",
    "rocket_stage_player",
    "rocket_stage_update",
]

MODELS = ("one ladder", "binance", "bybit", "hyperliquid")
"""The runs the panel offers: the article's one-ladder story and two markets per venue."""

_ONE = ("tranche_scale", "hedge_ratio", "lag", "spot_depth")


@functools.lru_cache(maxsize=8)
def _base(model: str) -> Any:
    """The unchanged run of a model (cached: every update starts from its snapshots)."""
    from perpsbook.scenarios import rocketcoin, rocketcoin_two_market

    if model == "one ladder":
        return rocketcoin().run()
    return rocketcoin_two_market(model).run()


def _changes(v: dict[str, Any], model: str) -> dict[str, Any]:
    """The controls' values as :func:`perpsbook.rocket.rerun_from` changes."""
    out = {
        "tranche_scale": float(v["tranche_scale"]),
        "hedge_ratio": float(v["hedge_ratio"]),
        "lag": int(v["lag"]),
        "spot_depth": float(v["spot_depth"]),
    }
    if model == "one ladder":
        return out
    out.update(
        perp_depth=float(v["perp_depth"]),
        spot_refill=float(v["refill"]),
        mm_repost=float(v["refill"]),
        arbitrage_usd=float(v["arbitrage_usd"]),
    )
    if v.get("venue", "same") != "same":
        out["venue"] = v["venue"]
    return out


def _rerun(v: dict[str, Any]) -> tuple[Any, Any, int, str]:
    """(rerun result, base result, stage, model) for the controls' values."""
    from perpsbook.rocket import rerun_from

    model = check_choice("model", v["model"], MODELS)
    base = _base(model)
    n = len(base.records)
    stage = v["stage"]
    if isinstance(stage, bool) or not isinstance(stage, int) or not 0 <= stage < n:
        raise InvalidInputError(
            f"stage must be an integer in [0, {n - 1}] for the {model} run, got {stage!r}"
        )
    return rerun_from(base, stage, **_changes(v, model)), base, stage, model


def _headline(result: Any) -> str:
    from perpsbook.rocket import forced_parts

    p = forced_parts(result)
    return (
        f"forced buying {p['total']:,.0f} USD = {p['amplification']:,.2f}x the ignition "
        f"(perp {p['perp_multiple']:,.2f}x, spot {p['spot_multiple']:,.2f}x)"
    )


def rocket_stage_update(v: dict[str, Any], kept: KeptFigure | None = None) -> View:
    """The panel's update, a pure function of the controls' values.

    ``v`` holds ``model`` (one of ``MODELS``), ``stage`` (int), ``tranche_scale``,
    ``hedge_ratio``, ``lag``, ``spot_depth``, ``perp_depth``, ``refill`` (spot refill and
    market-maker re-posting, fraction), ``arbitrage_usd`` (USD per stage) and ``venue``
    (``"same"`` or a venue name). It reruns the model's cascade from the snapshot before
    ``stage`` (:func:`perpsbook.rocket.rerun_from`) and returns
    :func:`perpsbook.plots.rocket_stages_figure` and a text: the stage table
    (:func:`perpsbook.rocket.stage_table`, recomputed stages starred), who traded with whom
    in the chosen stage and the headline. The one-ladder model ignores perp depth,
    refill, arbitrage and venue (it has none of them) and says so in the text.
    """
    from perpsbook.rocket import stage_table, trades_table

    result, base, stage, model = _rerun(v)
    figure = _plots.rocket_stages_figure
    if kept is None:
        fig = figure(result, rerun_from=stage, base=base)
    else:
        fig = kept(figure, result, rerun_from=stage, base=base)
    k = min(stage, len(result.records) - 1)
    lines = [
        stage_table(result, start=stage),
        "",
        f"stage {k}, who bought from whom:",
        trades_table(result, k),
        "",
        _headline(result),
    ]
    if model == "one ladder":
        lines.append("one ladder: perp depth, refill, arbitrage and venue do not apply")
    return fig, "\n".join(lines)


def _updater() -> Any:
    kept = KeptFigure()
    return lambda v: rocket_stage_update(v, kept)


def rocket_stage_explorer(model: str = "binance", stage: int = 1) -> Panel:
    """Panel: rerun one stage of the RocketCoin cascade, and all after it, with changes.

    Controls: ``model`` (``MODELS``), ``stage`` (the stage to rerun from; its
    description says "stage"), ``tranche_scale`` (x the coins of the shorts still open),
    ``hedge_ratio``, ``lag`` (stages), ``spot_depth`` and ``perp_depth`` (x the resting
    size of each book), ``refill`` (fraction of consumed depth restored between stages),
    ``arbitrage_usd`` (basis arbitrage capacity, USD per stage) and ``venue`` (liquidation
    policy and mark rule from the stage on). See ``rocket_stage_update``.

    Parameters
    ----------
    model : str
        One of ``MODELS``.
    stage : int
        Stage to start from, within the model's run (the slider's maximum follows
        the model's number of stages).

    Returns
    -------
    Panel
    """
    check_choice("model", model, MODELS)
    n = len(_base(model).records)
    if isinstance(stage, bool) or not isinstance(stage, int) or not 0 <= stage < n:
        raise InvalidInputError(
            f"stage must be an integer in [0, {n - 1}] for the {model} run, got {stage!r}"
        )

    def slider(value: float, lo: float, hi: float, step: float, desc: str, fmt: str = ".2f"):
        return widgets.FloatSlider(
            value=value, min=lo, max=hi, step=step, description=desc,
            readout_format=fmt, style=WIDE,
        )  # fmt: skip

    controls = {
        "model": widgets.Dropdown(options=MODELS, value=model, description="model"),
        "stage": widgets.IntSlider(
            value=stage, min=0, max=n - 1, description="rerun from stage", style=WIDE
        ),
        "tranche_scale": slider(1.0, 0.25, 3.0, 0.05, "tranche size ×"),
        "hedge_ratio": slider(1.0, 0.0, HEDGE_RATIO_MAX, 0.05, "hedge ratio"),
        "lag": widgets.IntSlider(value=0, min=0, max=4, description="hedge lag", style=WIDE),
        "spot_depth": slider(1.0, 0.25, 4.0, 0.05, "spot depth ×"),
        "perp_depth": slider(1.0, 0.25, 4.0, 0.05, "perp depth ×"),
        "refill": slider(0.0, 0.0, 1.0, 0.05, "book refill"),
        "arbitrage_usd": slider(0.0, 0.0, 2e6, 5e4, "arbitrage USD/stage", ",.0f"),
        "venue": widgets.Dropdown(
            options=("same", "binance", "bybit", "hyperliquid"),
            value="same",
            description="venue from stage",
            style=WIDE,
        ),
    }

    def fit_stage(change: dict[str, Any]) -> None:
        # each model's run has its own number of stages: the slider follows it
        controls["stage"].max = len(_base(change["new"]).records) - 1

    controls["model"].observe(fit_stage, names="value")
    rows = [
        ["model", "stage", "venue"],
        ["tranche_scale", "hedge_ratio", "lag"],
        ["spot_depth", "perp_depth", "refill", "arbitrage_usd"],
    ]
    return Panel(controls, _updater(), rows=rows)


def _defaults(model: str, **values: Any) -> dict[str, Any]:
    v = {
        "model": model, "stage": 1, "tranche_scale": 1.0, "hedge_ratio": 1.0, "lag": 0,
        "spot_depth": 1.0, "perp_depth": 1.0, "refill": 0.0, "arbitrage_usd": 0.0,
        "venue": "same",
    }  # fmt: skip
    v.update(values)
    return v


def rocket_stage_player(model: str = "binance", dpi: float = 60.0) -> StaticTwin:
    """Kernel-free stage player of a model's run (``MODELS``): one frame per stage,
    :func:`perpsbook.plots.rocket_stages_figure` drawn up to that stage."""
    from perpsbook.rocket import trades_table

    check_choice("model", model, MODELS)
    result = _base(model)
    n = len(result.records)

    def draw(k: int) -> View:
        return _plots.rocket_stages_figure(result, upto=k), trades_table(result, k)

    labels = ["ignition", *(str(k) for k in range(1, n))]
    title = f"RocketCoin, {model}: step through the stages"
    return stage_player(draw, n, title=title, labels=labels, dpi=dpi)


def rocket_stage_explorer_twin() -> StaticTwin:
    """Kernel-free twin of :func:`rocket_stage_explorer`: the whole run from stage 1 on,
    over model (``MODELS``) × hedge ratio (0, 0.5, 1, 1.5) × perp depth (1, 2)
    (16 ... 32 frames)."""

    def update(v: dict[str, Any]) -> View:
        result, base, stage, _ = _rerun(_defaults(**v))
        fig = _plots.rocket_stages_figure(result, rerun_from=stage, base=base)
        return fig, _headline(result)

    return static_twin(
        update,
        {
            "model": list(MODELS),
            "hedge_ratio": [0.0, 0.5, 1.0, 1.5],
            "perp_depth": [1.0, 2.0],
        },
        start={"model": "binance", "hedge_ratio": 1.0, "perp_depth": 1.0},
        descriptions={
            "model": "model",
            "hedge_ratio": "hedge ratio (from stage 1)",
            "perp_depth": "perp depth × (two markets)",
        },
        title="RocketCoin rerun from stage 1",
    )
