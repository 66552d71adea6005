"""Auto-deleveraging (ADL): who is closed, in which order, and at what price.

The one home of the ADL internals that :mod:`perpsbook.liquidation` (the batch engine) and
:mod:`perpsbook.cascade` (the stage loop) share: the venues' rankings, the queue matching,
the minimal-quantity solver and a side-by-side comparison of ranking policies.

Units: prices in USD per coin, sizes in coins, PnL / margin / notional in USD; scores are
dimensionless. ``side`` +1 long, -1 short. Only positions in profit at the mark
(unrealised PnL > 0) are ever deleveraged, under every policy (every venue below says
"profitable" opposite positions); losing and flat positions score ``-inf``, never NaN.

Rankings (``ADL_POLICIES``), each as published
----------------------------------------------
``"binance"`` -- [B-ADL] Binance, "What Is Auto-Deleveraging (ADL) and How Does It Work"
    (FAQ 360033525471, https://www.binance.com/en/support/faq/360033525471, formula at the
    end of the page as quoted on Binance's developer forum,
    https://dev.binance.vision/t/how-to-caculating-leverage-pnl-quantile/17801, thread of
    2023; read 2026-12-05)::

        PnL%        = max(0, unrealised PnL) / max(1, wallet balance)
        margin ratio = maintenance margin / (wallet balance + unrealised PnL)
        LeveragePnL = PnL% x margin ratio

    With an isolated position the wallet balance is its margin, the maintenance margin is
    the venue's at the mark (``notional x MMR - maintenance amount``). This is NOT the same
    order as ``PnL% x notional / equity`` once the maintenance amount is non-zero (two
    positions in different brackets, or one bracket with ``cum > 0``): the test
    ``test_binance_leverage_pnl_differs_from_notional_over_equity`` shows two longs that the
    two scores rank in opposite orders. Binance publishes no numerical ADL worked example;
    the tests derive scores from the formula.
``"bybit"`` -- [Y-ADL] Bybit, "Auto-Deleveraging (ADL) Mechanism" (help centre, version of
    2024-09-06, https://www.bybit.com/en/help-center/article/Auto-Deleveraging-ADL) and the
    older "What is Auto-Deleveraging (ADL)?"
    (https://help.bybit.com/hc/en-us/articles/900000031623): "ranking is derived in order of
    highest profit and effective leverage"; opposite positions are closed at the bankruptcy
    price of the liquidated order. The score used here is the profit-ratio x
    effective-leverage form of that page's table::

        PnL ratio          = unrealised PnL / position value at entry
        effective leverage = position value at mark / (position value at mark
                                                       - position value at bankruptcy)
                           = notional at mark / equity            (isolated margin)
        score              = PnL ratio x effective leverage       (profitable positions)

    The table's header survived in the copy we could read but its numbers did not, so no
    Bybit example is reproduced; the tests derive from the formula.
``"hyperliquid"`` -- [H-ADL] Hyperliquid Docs, "Auto-deleveraging"
    (https://hyperliquid.gitbook.io/hyperliquid-docs/trading/auto-deleveraging, read
    2026-12-05): opposite users "ranked by unrealized pnl and leverage used", sorting index
    ``(mark_price / entry_price) * (notional_position / account_value)``. That index is
    written for a long; for a short in profit (mark below entry) it would rank the *least*
    profitable first, so the mirror ``(entry_price / mark_price)`` is used for shorts
    (our reading, stated here). ``account_value = margin + unrealised PnL`` (isolated).
    Hyperliquid closes at the previous oracle price (older page) / mark price (current
    page), not at the bankruptcy price -- see :func:`perpsbook.liquidation.liquidate`.
``"pro_rata"`` -- no venue uses it; proposed in the ADL literature (e.g. T. Chitra et al.,
    "Autodeleveraging: Impossibilities and Optimization", arXiv:2512.01112, 2025) as a
    fairness benchmark: every profitable opposite position gives up the same *fraction* of
    its size. Its "score" is the unrealised PnL (used only to say who is eligible; the
    allocation is proportional to size, not a queue).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from perpsbook.errors import (
    InvalidInputError,
    as_float_array,
    check_count,
    check_finite,
    check_positive,
    check_scalar,
    check_side,
)
from perpsbook.margin import BINANCE, Venue
from perpsbook.positions import Positions

__all__ = [
    "ADL_POLICIES",
    "AdlComparison",
    "adl_allocate",
    "adl_book_orders",
    "adl_ranking",
    "adl_scores",
    "compare_adl_policies",
    "min_adl_quantity",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

ADL_POLICIES = ("binance", "bybit", "hyperliquid", "pro_rata")
"""ADL ranking policies: three venues' published rankings and the pro-rata benchmark."""

_SNAP = 1e-12  # relative tolerance under which a remainder is floating-point dust


def check_policy(policy: Any) -> str:
    """Return ``policy`` if it is one of :data:`ADL_POLICIES`, else raise InvalidInputError."""
    if not isinstance(policy, str) or policy not in ADL_POLICIES:
        raise InvalidInputError(f"adl policy must be one of {ADL_POLICIES}, got {policy!r}")
    return policy


# --------------------------------------------------------------------------- rankings
def adl_scores(
    positions: Positions, mark_price: float, *, policy: str = "binance", venue: Any = None
) -> FloatArray:
    """ADL score of every position under ``policy``; ``-inf`` where not eligible.

    Parameters
    ----------
    positions : Positions
        N isolated positions.
    mark_price : float
        USD per coin, finite and > 0.
    policy : {"binance", "bybit", "hyperliquid", "pro_rata"}
        Which published ranking (module docstring; default Binance's LeveragePnL).
    venue : perpsbook.margin.Venue, optional
        Maintenance-margin rules for Binance's margin ratio (default
        :data:`perpsbook.margin.BINANCE`). Ignored by the other policies.

    Returns
    -------
    ndarray (N,)
        Dimensionless; higher = deleveraged first. ``-inf`` for positions not in profit
        (the one non-finite value, by design: never eligible). Finite for every position in
        profit, whatever the mark (a mark of 5e-324 included: Hyperliquid's short index
        ``(entry / mark) * notional`` is evaluated as ``entry * size``, which cannot
        overflow).

    Raises
    ------
    InvalidInputError
        ``positions`` not a Positions, a bad mark price, policy or venue.
    """
    pos = Positions.check(positions)
    mark = check_scalar("mark_price", mark_price, check_positive)
    policy = check_policy(policy)
    upnl = pos.upnl(mark)
    out = np.full(pos.n, -np.inf)
    ok = upnl > 0
    if not ok.any():
        return out
    margin, size, entry = pos.margin[ok], pos.size[ok], pos.entry_price[ok]
    equity = margin + upnl[ok]  # > 0: margin >= 0 and uPnL > 0
    notional = size * mark
    if policy == "binance":
        v = BINANCE if venue is None else venue
        if not isinstance(v, Venue):
            raise InvalidInputError(f"venue must be a perpsbook.margin.Venue, got {v!r}")
        mm = np.atleast_1d(v.maintenance_at(pos.side[ok], size, entry, mark))
        out[ok] = upnl[ok] / np.maximum(margin, 1.0) * (mm / equity)
    elif policy == "bybit":
        out[ok] = upnl[ok] / (size * entry) * (notional / equity)
    elif policy == "hyperliquid":
        # (mark / entry) * notional for a long; (entry / mark) * notional = entry * size for
        # a short, written without the division so a tiny mark cannot overflow it to inf.
        out[ok] = np.where(pos.side[ok] > 0, mark / entry * notional, entry * size) / equity
    else:  # pro_rata: eligibility only
        out[ok] = upnl[ok]
    return out


def adl_ranking(
    positions: Positions,
    mark_price: float,
    *,
    side: Any = None,
    exclude: Any = None,
    policy: str = "binance",
    venue: Any = None,
) -> tuple[IntArray, FloatArray]:
    """Profitable positions in ADL order (first deleveraged first) and their scores.

    Parameters
    ----------
    positions : Positions
    mark_price : float
        USD per coin, > 0.
    side : {+1, -1}, optional
        Rank only longs (+1) or only shorts (-1); default both.
    exclude : bool array (N,), optional
        Positions not eligible (e.g. the ones being liquidated).
    policy : str
        One of :data:`perpsbook.adl.ADL_POLICIES` (default ``"binance"``, LeveragePnL [B-ADL]). For
        ``"pro_rata"`` the order is the input order (the allocation is proportional, see
        :func:`perpsbook.adl.adl_allocate`).
    venue : perpsbook.margin.Venue, optional
        For the Binance margin ratio (default BINANCE).

    Returns
    -------
    indices : ndarray of int64
        Positions with unrealised PnL > 0, highest score first; ties keep the input order.
    scores : ndarray
        Their scores, same order.
    """
    pos = Positions.check(positions)
    score = adl_scores(pos, mark_price, policy=policy, venue=venue)
    ok = np.isfinite(score)
    if side is not None:
        ok &= pos.side == check_side(side)
    ok &= ~pos.selection("exclude", exclude, default=False)
    idx = np.flatnonzero(ok).astype(np.int64)
    if policy == "pro_rata":
        return idx, score[idx]
    order = idx[np.lexsort((idx, -score[idx]))]
    return order, score[order]


def queue_capacity(positions: Positions, queue: IntArray, demand: float, policy: str) -> FloatArray:
    """Coins each queued counterparty gives to an ADL demand of ``demand`` coins.

    Queue policies take each position whole before the next; ``"pro_rata"`` takes the same
    fraction ``min(1, demand / total)`` of every one.
    """
    size = positions.size[queue]
    if policy == "pro_rata":
        total = float(size.sum())
        return size * (min(1.0, demand / total) if total > 0 else 0.0)
    cum = np.minimum(np.cumsum(size), max(demand, 0.0))
    return np.minimum(np.diff(cum, prepend=0.0), size)


def adl_allocate(
    positions: Positions,
    mark_price: float,
    qty: float,
    *,
    side: Any,
    policy: str = "binance",
    exclude: Any = None,
    venue: Any = None,
) -> tuple[IntArray, FloatArray]:
    """Who gives how many coins to an ADL of ``qty`` coins against ``side`` positions.

    Parameters
    ----------
    positions : Positions
    mark_price : float
        USD per coin, > 0.
    qty : float
        Coins to deleverage, finite and >= 0.
    side : {+1, -1}
        Side of the counterparties (opposite of the bankrupt position).
    policy, exclude, venue
        As :func:`adl_ranking`.

    Returns
    -------
    counterparty : ndarray of int64
        Position indices that give coins (> 0), in queue order.
    coins : ndarray
        Coins each gives; they sum to ``min(qty, eligible size)``.
    """
    q = check_scalar("qty", qty, check_finite)
    if q < 0:
        raise InvalidInputError(f"qty must be >= 0 coins, got {qty!r}")
    queue, _ = adl_ranking(
        positions, mark_price, side=side, exclude=exclude, policy=policy, venue=venue
    )
    coins = queue_capacity(positions, queue, q, policy)
    keep = coins > 0
    return queue[keep], coins[keep]


# --------------------------------------------------------------------------- matching
def match_queues(demand: FloatArray, supply: FloatArray) -> tuple[IntArray, IntArray, FloatArray]:
    """Match two queues of quantities in order (vectorised interval intersection).

    Returns (demand row, supply row, coins) of each overlap of the cumulative intervals.
    """
    if demand.size == 0 or supply.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    d_end, s_end = np.cumsum(demand), np.cumsum(supply)
    total = min(float(d_end[-1]), float(s_end[-1]))
    if total <= 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    cuts = np.concatenate([[0.0], d_end[d_end < total], s_end[s_end < total], [total]])
    cuts = np.unique(cuts)
    lo, hi = cuts[:-1], cuts[1:]
    qty = hi - lo
    mid = 0.5 * (lo + hi)
    d_row = np.searchsorted(d_end, mid, side="right").astype(np.int64)
    s_row = np.searchsorted(s_end, mid, side="right").astype(np.int64)
    keep = qty > _SNAP * total
    return d_row[keep], s_row[keep], qty[keep]


def adl_book_orders(f1: Any, cap: Any, xs: Any) -> FloatArray:
    """What still goes to the book per event after ADL takes ``x`` coins (rows: ``xs``).

    ``x`` coins are taken from the queue ``cap`` (coins each event may give to ADL) in event
    order: each event gives up to its capacity before the next one gives anything. ``f1`` is
    each event's order before ADL, coins. Returns an array of shape ``(len(xs), len(f1))``.

    Raises
    ------
    InvalidInputError
        NaN/inf or negative entries, or ``f1`` and ``cap`` of different shapes.
    """
    f1 = np.atleast_1d(check_finite("f1", f1))
    cap = np.atleast_1d(check_finite("cap", cap))
    xs = np.atleast_1d(check_finite("xs", xs))
    if f1.ndim != 1 or cap.shape != f1.shape or xs.ndim != 1:
        raise InvalidInputError(
            f"f1 and cap must be 1-D of one length and xs 1-D, got shapes {f1.shape}, "
            f"{cap.shape}, {xs.shape}"
        )
    for name, arr in (("f1", f1), ("cap", cap), ("xs", xs)):
        if np.any(arr < 0):
            raise InvalidInputError(
                f"{name} must be >= 0 coins, got {arr[arr < 0][0]!r} among {arr.size} entries"
            )
    start = np.cumsum(cap) - cap
    taken = np.clip(xs[:, None] - start, 0.0, cap)
    return np.maximum(f1 - taken, 0.0)


_ADL_GRID = 32  # candidate ADL quantities of the first, bracketing grid
_ADL_RTOL = 1e-10  # final bracket width as a fraction of the ADL capacity, coins
_ADL_CELLS = 1_000_000  # cap on grid points x events held at once


def min_adl_quantity(fund_at: Any, x_max: float, n_events: int) -> float:
    """Smallest ADL quantity x in [0, x_max] (coins) with ``fund_at(x) >= 0``.

    ``fund_at`` maps an array of candidate quantities to the fund (USD) each leaves after
    the book walk, costing about ``n_events`` cells per candidate. If ``fund_at(0) >= 0`` the
    answer is 0; if ``fund_at(x_max) < 0`` nothing is enough and ``x_max`` is returned (the
    rest is bad debt). Otherwise the first sign change on a grid of up to ``_ADL_GRID``
    points brackets the answer, and each further round evaluates the bracket's midpoint
    and two points ``tol / 2`` either side of the secant root (one vectorised call), so the
    bracket at least halves and collapses to ``tol = _ADL_RTOL * x_max`` at once where
    ``fund_at`` is linear. The secant root of the last bracket, moved up by a few ulps if
    rounding leaves the fund a hair below 0 there, is returned (the bracket's top if not).

    Raises
    ------
    InvalidInputError
        ``x_max`` NaN/inf/negative, ``n_events`` not a non-negative integer, ``fund_at`` not
        callable, or ``fund_at`` returning NaN (a silent NaN would end as a NaN quantity).
    """
    if not callable(fund_at):
        raise InvalidInputError(f"fund_at must be callable, got {type(fund_at).__name__}")
    x_max = check_scalar("x_max", x_max, check_finite)
    if x_max < 0:
        raise InvalidInputError(f"x_max must be >= 0 coins, got {x_max!r}")
    n_events = check_count("n_events", n_events, 0)

    def f(xs: FloatArray) -> FloatArray:
        out = as_float_array("fund_at(x)", fund_at(xs))
        if out.shape != xs.shape:
            raise InvalidInputError(
                f"fund_at must return one fund (USD) per candidate quantity, shape {xs.shape}, "
                f"got shape {out.shape}"
            )
        if np.isnan(out).any():
            raise InvalidInputError(
                f"fund_at returned NaN at x = {xs[np.isnan(out)][0]!r} coins; it must map "
                f"quantities to a fund in USD"
            )
        return out

    if x_max == 0:
        return 0.0
    f_lo, f_hi = (float(v) for v in f(np.array([0.0, x_max])))
    if f_lo >= 0.0:
        return 0.0
    if f_hi < 0.0:
        return x_max
    tol = _ADL_RTOL * x_max
    lo, hi = 0.0, x_max
    m = int(np.clip(_ADL_CELLS // max(int(n_events), 1), 4, _ADL_GRID))
    xs = np.linspace(lo, hi, m + 1)[1:-1]
    x = hi
    for _ in range(80):  # the bracket at least halves a round: 34 rounds reach 1e-10
        fs = f(xs)
        ok = np.flatnonzero(fs >= 0.0)
        i = int(ok[0]) if ok.size else xs.size
        if i < xs.size:
            hi, f_hi = float(xs[i]), float(fs[i])
        if i > 0:
            lo, f_lo = float(xs[i - 1]), float(fs[i - 1])
        x = lo - f_lo * (hi - lo) / (f_hi - f_lo) if f_hi != f_lo else hi
        if hi - lo <= tol:
            break
        xs = np.array([0.5 * (lo + hi), x - 0.5 * tol, x + 0.5 * tol])
        xs = np.unique(xs[(xs > lo) & (xs < hi)])
        if xs.size == 0:
            break
    xs = np.minimum(x + np.spacing(x) * np.array([0.0, 1.0, 4.0, 16.0, 64.0, 256.0]), hi)
    fs = f(xs)
    ok = np.flatnonzero((fs >= 0.0) & (xs > lo))
    return float(xs[ok[0]]) if ok.size else hi


# --------------------------------------------------------------------------- comparison
@dataclass(frozen=True, eq=False)
class AdlComparison:
    """The same ADL demand served by each policy; struct of arrays, one row per ADL trade.

    Attributes
    ----------
    policy : tuple of str
        Policy of each row.
    counterparty : int64
        Index of the deleveraged position.
    qty : float64
        Coins closed, > 0.
    price : float64
        Execution price, USD per coin (bankruptcy price; Hyperliquid: the oracle price).
    usd : float64
        ``qty x price``, USD.
    haircut : float64
        Profit the counterparty gives up against closing at the mark,
        ``side x qty x (mark - price)``, USD (>= 0 at the bankruptcy price).
    upnl_share : float64
        ``haircut`` as a fraction of the counterparty's whole unrealised PnL.
    needed_usd : float
        USD the deficit needs covered: ``deficit_qty x |mark - bankruptcy price|``.
    policies : tuple of str
        The policies compared, in order.
    """

    policy: tuple[str, ...]
    counterparty: IntArray
    qty: FloatArray
    price: FloatArray
    usd: FloatArray
    haircut: FloatArray
    upnl_share: FloatArray
    needed_usd: float
    policies: tuple[str, ...]

    def __post_init__(self) -> None:
        for value in vars(self).values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    def totals(self) -> dict[str, dict[str, float]]:
        """Per policy: positions hit, coins, USD, haircut, excess haircut, max share.

        ``excess_usd = haircut - needed_usd``: what counterparties give up beyond what the
        deficit needed (negative = the ADL left that much uncovered, e.g. Hyperliquid closing
        at the oracle price covers no deficit by itself).
        """
        pol = np.asarray(self.policy, dtype=object)
        out: dict[str, dict[str, float]] = {}
        for p in self.policies:
            sel = pol == p
            haircut = float(self.haircut[sel].sum())
            out[p] = {
                "n_deleveraged": float(np.unique(self.counterparty[sel]).size),
                "qty": float(self.qty[sel].sum()),
                "usd": float(self.usd[sel].sum()),
                "haircut_usd": haircut,
                "needed_usd": self.needed_usd,
                "excess_usd": haircut - self.needed_usd,
                "max_upnl_share": float(self.upnl_share[sel].max()) if sel.any() else 0.0,
            }
        return out

    def table(self) -> str:
        """The totals as a fixed-width text table (USD and coins)."""
        head = f"{'policy':<12}{'hit':>5}{'coins':>12}{'USD':>14}{'haircut':>12}{'excess':>12}"
        lines = [head]
        for p, t in self.totals().items():
            lines.append(
                f"{p:<12}{int(t['n_deleveraged']):>5}{t['qty']:>12.4f}{t['usd']:>14,.2f}"
                f"{t['haircut_usd']:>12,.2f}{t['excess_usd']:>12,.2f}"
            )
        return "\n".join(lines)


def compare_adl_policies(
    positions: Positions,
    mark_price: float,
    bankruptcy_price: float,
    *,
    side: Any,
    deficit_qty: float | None = None,
    deficit_usd: float | None = None,
    position_qty: float | None = None,
    oracle_price: float | None = None,
    policies: tuple[str, ...] = ADL_POLICIES,
    exclude: Any = None,
    venue: Any = None,
) -> AdlComparison:
    """Serve one bankrupt position's ADL demand under each policy and compare.

    A bankrupt position of side ``side`` and bankruptcy price ``bankruptcy_price`` leaves
    ``deficit_qty`` coins that neither the book nor the fund takes (or a shortfall of
    ``deficit_usd``, converted at ``|mark - bankruptcy price|`` USD per coin). Binance,
    Bybit and pro-rata close exactly those coins against opposite profitable positions at
    the bankruptcy price [B-ADL][Y-ADL]; Hyperliquid closes the underwater position whole
    (``position_qty``, default ``deficit_qty``) at the oracle price [H-ADL].

    Parameters
    ----------
    positions : Positions
        Everyone who could be deleveraged.
    mark_price, bankruptcy_price : float
        USD per coin, > 0.
    side : {+1, -1}
        Side of the bankrupt position (counterparties are the other side).
    deficit_qty, deficit_usd : float
        Exactly one, >= 0 (coins / USD).
    position_qty : float, optional
        Coins of the whole underwater position (Hyperliquid), >= deficit_qty.
    oracle_price : float, optional
        USD per coin; default the mark.
    policies : tuple of str
        Subset of :data:`ADL_POLICIES`.
    exclude, venue
        As :func:`adl_ranking`.

    Returns
    -------
    AdlComparison
        Rows per ADL trade; ``.totals()`` and ``.table()`` per policy.
    """
    pos = Positions.check(positions)
    mark = check_scalar("mark_price", mark_price, check_positive)
    bk = check_scalar("bankruptcy_price", bankruptcy_price, check_positive)
    liq_side = check_side(side)
    oracle = (
        mark if oracle_price is None else check_scalar("oracle_price", oracle_price, check_positive)
    )
    if (deficit_qty is None) == (deficit_usd is None):
        raise InvalidInputError("give exactly one of deficit_qty (coins) and deficit_usd (USD)")
    gap = abs(mark - bk)
    if deficit_qty is not None:
        q = check_scalar("deficit_qty", deficit_qty, check_finite)
        if q < 0:
            raise InvalidInputError(f"deficit_qty must be >= 0 coins, got {deficit_qty!r}")
    else:
        usd = check_scalar("deficit_usd", deficit_usd, check_finite)
        if usd < 0:
            raise InvalidInputError(f"deficit_usd must be >= 0 USD, got {deficit_usd!r}")
        if gap == 0 and usd > 0:
            raise InvalidInputError(
                "deficit_usd > 0 needs mark_price != bankruptcy_price (the USD per coin "
                "an ADL at the bankruptcy price recovers is |mark - bankruptcy price|)"
            )
        q = usd / gap if gap > 0 else 0.0
    whole = q if position_qty is None else check_scalar("position_qty", position_qty, check_finite)
    if whole < q:
        raise InvalidInputError(
            f"position_qty must be >= deficit_qty ({q!r} coins), got {position_qty!r}"
        )
    if not isinstance(policies, (tuple, list)) or not policies:
        raise InvalidInputError(f"policies must be a non-empty tuple, got {policies!r}")
    pols = tuple(check_policy(p) for p in policies)
    upnl = pos.upnl(mark)
    rows: dict[str, list[Any]] = {k: [] for k in ("pol", "cp", "qty", "price")}
    for p in pols:
        want, price = (whole, oracle) if p == "hyperliquid" else (q, bk)
        cp, coins = adl_allocate(
            pos, mark, want, side=-liq_side, policy=p, exclude=exclude, venue=venue
        )
        rows["pol"].extend([p] * cp.size)
        rows["cp"].append(cp)
        rows["qty"].append(coins)
        rows["price"].append(np.full(cp.size, price))
    cp = np.concatenate(rows["cp"]).astype(np.int64)
    qty = np.concatenate(rows["qty"])
    price = np.concatenate(rows["price"])
    haircut = pos.side[cp] * qty * (mark - price)
    share = haircut / upnl[cp]  # counterparties are in profit: upnl > 0
    return AdlComparison(
        policy=tuple(rows["pol"]),
        counterparty=cp,
        qty=qty,
        price=price,
        usd=qty * price,
        haircut=haircut,
        upnl_share=share,
        needed_usd=q * gap,
        policies=pols,
    )
