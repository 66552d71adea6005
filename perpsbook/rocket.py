"""Rerun the RocketCoin cascade from any stage with that stage's inputs changed.

Both cascade engines are pure functions of a snapshot: :func:`perpsbook.cascade.run_stage`
(one ladder) and :func:`perpsbook.twomarket.run_two_market_stage` (spot book, perp book,
index and mark). :func:`rerun_from` takes a finished run, the snapshot at the start of
stage ``k`` (``result.snapshots[k]``), applies the reader's changes to it and to the
parameters (:func:`restate`), and runs stage ``k`` and every later stage again until the
cascade settles. Stages ``0 .. k-1`` are kept as they were.

What a change does to the snapshot (everything else is carried over unchanged)
--------------------------------------------------------------------------------
``tranche_scale`` (in [1e-6, 1e6], dimensionless)
    Multiplies the size of every short not yet liquidated. One ladder: the tranches'
    coins. Two markets: each open short's coins; its margin is solved again
    (:func:`perpsbook.twomarket.positions_at_triggers`) so that its liquidation price
    stays where it was (the venue's tiers depend on size).
``hedge_ratio`` (coins per coin, [0, 2]), ``lag`` (stages)
    The market maker's from this stage on. Two markets: hedges already queued keep
    their due stage; with a shorter lag those due beyond it fall due at the new lag.
``spot_depth``, ``perp_depth`` (in [1e-6, 1e6], dimensionless)
    Multiply every resting size of the spot (perp) book, and of what refill restores
    towards. The one-ladder model has one book: ``spot_depth`` scales it and
    ``perp_depth`` is refused.
``spot_refill``, ``mm_repost``, ``withdrawal``, ``arbitrage_usd`` (two markets only)
    As in :class:`perpsbook.twomarket.TwoMarketParams` (fractions; USD per stage).
``venue`` (two markets only: ``"binance"``, ``"bybit"``, ``"hyperliquid"``)
    That venue's liquidation policy (``LiquidationConfig.for_venue``) and mark rule (as in
    :func:`perpsbook.scenarios.rocketcoin_two_market`). Open shorts keep their liquidation
    prices (their margins are solved again under the new venue's tiers); the new mark
    rule starts its averages afresh from the books at the snapshot
    (``MarkRule.initial_state``) -- a venue does not inherit another's moving averages.

With no changes, :func:`rerun_from` reproduces the original stages exactly (tested).

Units: prices USD per coin, sizes coins, notional USD.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from perpsbook.book import OrderBook
from perpsbook.cascade import (
    CascadeResult,
    StageSnapshot,
    Tranches,
    is_settled,
    run_stage,
)
from perpsbook.cascade import assemble_result as _one_ladder_result
from perpsbook.errors import InvalidInputError, check_count, check_positive, check_scalar
from perpsbook.liquidation import LiquidationConfig
from perpsbook.margin import venue_by_name
from perpsbook.markets import MarkRule
from perpsbook.tables import text_table
from perpsbook.twomarket import (
    TwoMarketParams,
    TwoMarketResult,
    TwoMarketSnapshot,
    is_two_market_settled,
    positions_at_triggers,
    run_two_market_stage,
)
from perpsbook.twomarket import assemble_two_market_result as _two_market_result

__all__ = [
    "ONE_LADDER_CHANGES",
    "STAGE_CHANGES",
    "VENUE_MARKS",
    "forced_parts",
    "ignition_threshold",
    "rerun_from",
    "restate",
    "short_triggers",
    "stage_table",
    "stage_view",
    "trades_table",
]

ONE_LADDER_CHANGES = ("tranche_scale", "hedge_ratio", "lag", "spot_depth")
"""Inputs :func:`rerun_from` can change on a one-ladder run."""

STAGE_CHANGES = (
    *ONE_LADDER_CHANGES,
    "perp_depth",
    "spot_refill",
    "mm_repost",
    "withdrawal",
    "arbitrage_usd",
    "venue",
)
"""Inputs :func:`rerun_from` can change on a two-market run."""

VENUE_MARKS = {"binance": "binance", "bybit": "binance", "hyperliquid": "hyperliquid"}
"""Mark rule per venue (Bybit's mark is not modelled separately; as the scenarios)."""


def _check_stage(result: Any, stage: Any) -> int:
    if not isinstance(result, (CascadeResult, TwoMarketResult)):
        raise InvalidInputError(
            f"result must be a CascadeResult or a TwoMarketResult, got {type(result).__name__}"
        )
    n = len(result.records)
    if isinstance(stage, bool) or not isinstance(stage, (int, np.integer)):
        raise InvalidInputError(f"stage must be an integer in [0, {n - 1}], got {stage!r}")
    if not 0 <= stage < n:
        raise InvalidInputError(f"stage must be an integer in [0, {n - 1}], got {stage!r}")
    return int(stage)


# A scale multiplies sizes and divides nothing by more than this: factors outside
# [1e-6, 1e6] turn a book or a ladder into one that overflows or holds dust.
_SCALE_RANGE = (1e-6, 1e6)


def _scale(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidInputError(f"{name} must be a number > 0, got {value!r}")
    x = check_scalar(name, value, check_positive)
    lo, hi = _SCALE_RANGE
    if not lo <= x <= hi:
        raise InvalidInputError(f"{name} must be in [{lo:g}, {hi:g}], got {value!r}")
    return x


def _scaled_book(book: OrderBook, factor: float) -> OrderBook:
    if factor == 1.0:
        return book
    return OrderBook(
        book.bid_prices, book.bid_sizes * factor, book.ask_prices, book.ask_sizes * factor
    )


def _resize_queue(pending: tuple[float, ...], lag: int) -> tuple[float, ...]:
    # slot j = due j stages from now; a shorter lag folds the later slots into the last
    if len(pending) <= lag + 1:
        return (*pending, *(0.0,) * (lag + 1 - len(pending)))
    return (*pending[:lag], float(np.sum(pending[lag:])))


def _venue_key(venue: Any) -> str:
    if not isinstance(venue, str) or venue.strip().lower() not in VENUE_MARKS:
        raise InvalidInputError(f"venue must be one of {tuple(VENUE_MARKS)}, got {venue!r}")
    return venue.strip().lower()


def _restate_one(
    snap: StageSnapshot, tranches: Tranches, params: Any, changes: dict[str, Any]
) -> tuple[StageSnapshot, Tranches, Any]:
    bad = sorted(set(changes) - set(ONE_LADDER_CHANGES))
    if bad:
        raise InvalidInputError(
            f"the one-ladder model cannot change {bad}: it has one book, no venue and no "
            f"arbitrageur; allowed: {ONE_LADDER_CHANGES}"
        )
    pchanges = {k: changes[k] for k in ("hedge_ratio", "lag") if k in changes}
    params = params.replace(**pchanges) if pchanges else params
    if "spot_depth" in changes:
        snap = replace(
            snap, book=_scaled_book(snap.book, _scale("spot_depth", changes["spot_depth"]))
        )
    if "tranche_scale" in changes:
        f = _scale("tranche_scale", changes["tranche_scale"])
        size = np.where(snap.remaining, tranches.size * f, tranches.size)
        tranches = replace(tranches, size=size)
    return snap, tranches, params


def _resolve_shorts(positions: Any, old: Any, new: Any, scale: float) -> Any:
    """Open shorts with ``scale`` times the coins, liquidated under ``new`` where they
    were under ``old`` (margins solved again)."""
    short = positions.side == -1
    if not short.any():
        return positions
    entry = np.unique(positions.entry_price[short])
    if entry.size != 1:
        raise InvalidInputError(
            "the shorts must share one entry price to be re-margined, got "
            f"{entry.size} different ones"
        )
    s = positions.take(np.flatnonzero(short))
    trig = np.asarray(old.liquidation_price(s.side, s.size, s.entry_price, s.margin))
    solved, _ = positions_at_triggers(
        trig, s.size * scale, new, side=-1, entry_price=float(entry[0])
    )
    size = positions.size.copy()
    margin = positions.margin.copy()
    size[short] = solved.size
    margin[short] = solved.margin
    return positions.replace(size=size, margin=margin)


def _restate_two(
    snap: TwoMarketSnapshot, params: TwoMarketParams, changes: dict[str, Any]
) -> tuple[TwoMarketSnapshot, TwoMarketParams]:
    bad = sorted(set(changes) - set(STAGE_CHANGES))
    if bad:
        raise InvalidInputError(f"cannot change {bad}; allowed: {STAGE_CHANGES}")
    keys = ("hedge_ratio", "lag", "spot_refill", "mm_repost", "withdrawal", "arbitrage_usd")
    pchanges = {k: changes[k] for k in keys if k in changes}
    old_venue = params.venue
    if "venue" in changes:
        key = _venue_key(changes["venue"])
        mark = MarkRule(
            VENUE_MARKS[key],
            basis_weight=params.mark.basis_weight,
            external_perp="index" if key == "hyperliquid" else None,
        )
        pchanges.update(liquidation=LiquidationConfig.for_venue(venue_by_name(key)), mark=mark)
    new = params.replace(**pchanges) if pchanges else params
    upd: dict[str, Any] = {}
    if new.lag != params.lag:
        upd["mm"] = replace(snap.mm, pending=_resize_queue(snap.mm.pending, new.lag))
    if "spot_depth" in changes:
        f = _scale("spot_depth", changes["spot_depth"])
        upd["spot_book"] = _scaled_book(snap.spot_book, f)
        upd["spot_reference"] = _scaled_book(snap.spot_reference, f)
    if "perp_depth" in changes:
        f = _scale("perp_depth", changes["perp_depth"])
        upd["perp_book"] = _scaled_book(snap.perp_book, f)
        upd["perp_reference"] = _scaled_book(snap.perp_reference, f)
    scale = _scale("tranche_scale", changes.get("tranche_scale", 1.0))
    if scale != 1.0 or new.venue is not old_venue:
        upd["positions"] = _resolve_shorts(snap.positions, old_venue, new.venue, scale)
    if "venue" in changes:
        perp_book = upd.get("perp_book", snap.perp_book)
        upd["mark_state"] = new.mark.initial_state(perp_book, snap.perp_price)
    return (replace(snap, **upd) if upd else snap), new


def restate(result: CascadeResult | TwoMarketResult, stage: int, **changes: Any) -> tuple:
    """The state stage ``stage`` starts from, after the changes (module docstring).

    Parameters
    ----------
    result : CascadeResult or TwoMarketResult
        A finished run (its ``snapshots`` are the states at the start of each stage).
    stage : int
        In ``[0, result.n_stages - 1]``.
    **changes
        Names of :data:`STAGE_CHANGES` (one ladder: :data:`ONE_LADDER_CHANGES`).

    Returns
    -------
    tuple
        One ladder: ``(snapshot, tranches, params)`` for
        :func:`perpsbook.cascade.run_stage`; two markets: ``(snapshot, params)`` for
        :func:`perpsbook.twomarket.run_two_market_stage`.

    Raises
    ------
    InvalidInputError
        Unknown change, a change the model does not have, or a bad value.
    """
    k = _check_stage(result, stage)
    if isinstance(result, CascadeResult):
        return _restate_one(result.snapshots[k], result.tranches, result.params, changes)
    return _restate_two(result.snapshots[k], result.params, changes)


def _unchanged(result: CascadeResult | TwoMarketResult, changes: dict[str, Any]) -> bool:
    """True when every change keeps its input as the run had it (checked changes)."""
    for key, value in changes.items():
        if key in ("tranche_scale", "spot_depth", "perp_depth"):
            if float(value) != 1.0:
                return False
        elif key == "venue" or getattr(result.params, key, None) != value:
            return False
    return True


def rerun_from(
    result: CascadeResult | TwoMarketResult, stage: int, **changes: Any
) -> CascadeResult | TwoMarketResult:
    """Run stage ``stage`` and all later stages again, from its snapshot, with changes.

    Parameters
    ----------
    result : CascadeResult or TwoMarketResult
    stage : int
        First stage to recompute, in ``[0, result.n_stages - 1]``.
    **changes
        See the module docstring (e.g. ``hedge_ratio=0.5, perp_depth=2.0``).

    Returns
    -------
    CascadeResult or TwoMarketResult
        Of the same kind: records ``0 .. stage-1`` as before, then the recomputed ones;
        its ``params`` (and ``tranches``) are the changed ones. One ladder: a record's
        prices are NaN where the stage has none (as in
        :class:`perpsbook.cascade.StageRecord`). ``result`` itself when every change
        keeps the run's own value (the rerun would repeat the same stages).

    Examples
    --------
    >>> from perpsbook.scenarios import rocketcoin_two_market
    >>> base = rocketcoin_two_market("bybit").run()
    >>> rerun_from(base, 1).records == base.records
    True
    """
    k = _check_stage(result, stage)
    restated = restate(result, k, **changes)  # checks every change first
    if _unchanged(result, changes):
        # the same inputs run the same stages again: the run itself is the answer
        # (a panel at its defaults, or moved back to them, skips the whole rerun)
        return result
    records = list(result.records[:k])
    snaps = list(result.snapshots[:k])
    if isinstance(result, CascadeResult):
        snap, tranches, params = restated
        snaps.append(snap)
        while True:
            rec, snap = run_stage(snap, tranches, params)
            records.append(rec)
            snaps.append(snap)
            settled = is_settled(snap, tranches)
            if settled or snap.stage > params.max_stages:
                break
        truncated = not settled
        book = result.snapshots[0].book
        return _one_ladder_result(book, tranches, params, tuple(records), tuple(snaps), truncated)
    snap2, params2 = restated
    snaps.append(snap2)
    while True:
        rec2, snap2 = run_two_market_stage(snap2, params2)
        records.append(rec2)
        snaps.append(snap2)
        settled = is_two_market_settled(snap2, params2)
        if settled or snap2.stage > params2.max_stages:
            break
    truncated = not settled
    return _two_market_result(params2, tuple(records), tuple(snaps), truncated)


# --------------------------------------------------------------------------- views


def stage_view(result: CascadeResult | TwoMarketResult) -> dict[str, np.ndarray]:
    """Per stage, what moved each price and who bought, for either model.

    Returns
    -------
    dict of name -> ndarray, one entry per stage
        ``stage``; ``trigger`` (the price liquidations were checked at: the mark at the
        start of the stage; the last price on one ladder); ``spot``, ``perp``,
        ``index``, ``mark`` after the stage (USD per coin; on one ladder all four are
        the one last traded price); ``liquidated_qty`` (coins); ``ignition_usd``,
        ``engine_usd`` (the liquidation engine's, and a fund's unwinding, perp buying),
        ``hedge_usd`` (market maker's spot hedge), ``arb_usd`` (arbitrageur's spot buy),
        USD. Plus ``start``: the four prices before the ignition (shape (4,)).
    """
    _check_stage(result, 0)
    if isinstance(result, CascadeResult):
        st = result.stages
        after = np.asarray(st.price_after, dtype=np.float64)
        trig = np.asarray(st.price_before, dtype=np.float64)
        out = {
            "spot": after,
            "perp": after,
            "index": after,
            "mark": after,
            "trigger": trig,
            "liquidated_qty": np.asarray(st.liquidated_qty, dtype=np.float64),
            "ignition_usd": np.asarray(st.ignition_notional, dtype=np.float64),
            "engine_usd": np.asarray(st.liquidated_notional, dtype=np.float64),
            "hedge_usd": np.asarray(st.hedge_notional, dtype=np.float64),
            "arb_usd": np.zeros(after.size),
            "start": np.full(4, result.initial_price),
        }
    else:
        c = result.column
        out = {
            "spot": c("spot_after"),
            "perp": c("perp_after"),
            "index": c("index_after"),
            "mark": c("mark_after"),
            "trigger": c("mark_before"),
            "liquidated_qty": c("liquidated_qty"),
            "ignition_usd": c("ignition_notional"),
            "engine_usd": c("forced_perp_notional"),
            "hedge_usd": c("spot_hedge_notional"),
            "arb_usd": c("spot_arbitrage_notional"),
            "start": np.array(
                [result.initial_spot, result.initial_perp, result.initial_spot, result.initial_mark]
            ),
        }
    out["stage"] = np.arange(out["spot"].size, dtype=np.int64)
    return out


def forced_parts(result: CascadeResult | TwoMarketResult) -> dict[str, float]:
    """The forced buying of a run split by the book it traded in, USD, and as multiples.

    Returns
    -------
    dict
        ``ignition`` (USD), ``perp`` (the liquidation engine's buying, and a fund's
        unwinding), ``spot`` (hedges and arbitrage: the buying that reaches the index),
        ``total`` = perp + spot, and ``amplification`` = total / ignition,
        ``perp_multiple``, ``spot_multiple`` (each part / ignition).
    """
    v = stage_view(result)
    ign = float(v["ignition_usd"].sum())
    perp = float(v["engine_usd"].sum())
    spot = float(v["hedge_usd"].sum() + v["arb_usd"].sum())
    return {
        "ignition": ign,
        "perp": perp,
        "spot": spot,
        "total": perp + spot,
        "amplification": (perp + spot) / ign,
        "perp_multiple": perp / ign,
        "spot_multiple": spot / ign,
    }


def short_triggers(result: CascadeResult | TwoMarketResult) -> tuple[np.ndarray, np.ndarray]:
    """Liquidation prices of the shorts at the start (USD per coin, rounded to the cent)
    and the coins at each, ascending."""
    _check_stage(result, 0)
    if isinstance(result, CascadeResult):
        return (np.asarray(result.tranches.trigger_price), np.asarray(result.tranches.size))
    pos = result.snapshots[0].positions
    s = pos.take(np.flatnonzero(pos.side == -1))
    venue = result.params.venue
    lp = np.round(np.asarray(venue.liquidation_price(s.side, s.size, s.entry_price, s.margin)), 2)
    prices, inv = np.unique(lp, return_inverse=True)
    return prices, np.bincount(inv, weights=s.size)


def stage_table(result: CascadeResult | TwoMarketResult, start: int = 0) -> str:
    """Text table of :func:`stage_view` (80 columns); stages from ``start`` on carry a
    ``*`` (recomputed by :func:`rerun_from`).

    Columns: trigger, spot, perp, index, mark (USD per coin), ``liq k`` (thousand coins
    liquidated), ``perp $M`` (forced perp buying, million USD), ``spot $M`` (spot buying:
    the ignition in stage 0, hedges and arbitrage after it, million USD)."""
    v = stage_view(result)
    n = int(v["stage"].size)
    start = check_count("start", start, 0)
    if start > n:
        raise InvalidInputError(f"start must be an integer in [0, {n}], got {start!r}")
    rows = []
    for k in v["stage"]:
        label = "ignition" if k == 0 else str(k)
        rows.append(
            [
                label + ("*" if start > 0 and k >= start else ""),
                v["trigger"][k],
                v["spot"][k],
                v["perp"][k],
                v["index"][k],
                v["mark"][k],
                v["liquidated_qty"][k] / 1e3,
                v["engine_usd"][k] / 1e6,
                (v["hedge_usd"][k] + v["arb_usd"][k] + v["ignition_usd"][k]) / 1e6,
            ]
        )
    cols = ["stage", "trigger", "spot", "perp", "index", "mark", "liq k", "perp $M", "spot $M"]
    fmts = ["", ".3f", ".3f", ".3f", ".3f", ".3f", ",.1f", ",.2f", ",.2f"]
    return text_table(rows, cols, fmts)


def trades_table(result: CascadeResult | TwoMarketResult, stage: int) -> str:
    """Who bought from whom in one stage: buyer, seller, book, coins, USD.

    On one ladder the ladder is every seller at once (spot sellers and the market
    maker's perp quotes in one book), so its rows name it "the ladder".
    """
    k = _check_stage(result, stage)
    rec = result.records[k]
    if isinstance(result, CascadeResult):
        rows = []
        if rec.ignition_qty > 0:
            rows.append(
                ["ignitor", "the ladder", "ladder", rec.ignition_qty, rec.ignition_notional]
            )
        if rec.liquidated_qty > 0:
            rows.append(
                [
                    "liquidated shorts",
                    "the ladder",
                    "ladder",
                    rec.liquidated_qty,
                    rec.liquidated_notional,
                ]
            )
        if rec.hedge_qty > 0:
            rows.append(["market_maker", "the ladder", "ladder", rec.hedge_qty, rec.hedge_notional])
    else:
        rows = [list(t) for t in rec.trades]
    if not rows:
        return f"stage {k}: no trades"
    return text_table(
        rows,
        ["buyer", "seller", "book", "coins", "USD"],
        ["", "", "", ",.0f", ",.0f"],
        align=["<", "<", "<", ">", ">"],
    )


def ignition_threshold(
    run: Any, lo: float, hi: float, *, tol: float = 1.0, max_iter: int = 80
) -> float:
    """Smallest ignition (USD) in ``(lo, hi]`` whose run liquidates anything, by bisection.

    Parameters
    ----------
    run : callable(ignition_usd) -> CascadeResult or TwoMarketResult
    lo, hi : float
        USD, ``0 < lo < hi``; ``run(lo)`` must liquidate nothing and ``run(hi)`` something.
    tol : float
        Width of the final bracket, USD, > 0.
    max_iter : int
        Most bisection steps, >= 1.

    Returns
    -------
    float
        The upper end of the final bracket, USD: an ignition that liquidates. Assumes
        "liquidates anything" switches once in ``(lo, hi]`` (true when the first trigger
        is reached by the ignition's own price move, as in RocketCoin).

    Raises
    ------
    InvalidInputError
        Bad bracket (the ends do not straddle the threshold) or bad numbers.
    """
    if not callable(run):
        raise InvalidInputError(
            f"run must be a function ignition_usd -> CascadeResult or TwoMarketResult, "
            f"got {type(run).__name__}"
        )
    lo = check_scalar("lo", lo, check_positive)
    hi = check_scalar("hi", hi, check_positive)
    tol = check_scalar("tol", tol, check_positive)
    max_iter = check_count("max_iter", max_iter, 1)
    if not lo < hi:
        raise InvalidInputError(f"lo must be below hi, got lo={lo!r}, hi={hi!r}")

    def fires(x: float) -> bool:
        r = run(x)
        if not isinstance(r, (CascadeResult, TwoMarketResult)):
            raise InvalidInputError(
                f"run must return a CascadeResult or a TwoMarketResult, got {type(r).__name__}"
            )
        qty = r.total_liquidated_qty if isinstance(r, CascadeResult) else r.liquidated_qty
        return qty > 0

    if fires(lo) or not fires(hi):
        raise InvalidInputError(
            f"the bracket [{lo:,.2f}, {hi:,.2f}] USD must have no liquidation at lo and one at hi"
        )
    for _ in range(max_iter):
        if hi - lo <= tol:
            break
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if fires(mid) else (mid, hi)
    return hi
