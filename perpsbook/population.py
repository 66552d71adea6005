"""Population mode: the liquidation cascade of N positions as one vectorised fixed point.

Stage mode (:mod:`perpsbook.cascade`) tells the story tranche by tranche. Population mode
answers the same question for a whole population of positions -- thousands to tens of
millions -- without a loop over positions or stages, and for a whole batch of ignitions at
once. With the same book, the same liquidation prices and sizes and ``lag = 0`` both modes
give the same final price, the same liquidated positions and the same forced buying
(``tests/test_equivalence.py``).

The model (shared with stage mode)
----------------------------------
One price ``p`` (spot = index = mark = last traded price) and one ask ladder, an
:class:`~perpsbook.book.OrderBook`, that every buy consumes: the ignition, the liquidation
engine's market orders and the market maker's (MM) hedges. A short with liquidation price
``L`` is liquidated as soon as the last traded price is ``>= L``. Each liquidated coin puts
``w + h`` coins of buying on the ladder: ``w`` (``perp_passthrough``, in [0, 1]) from the
engine's order and ``h`` (``hedge_ratio``) from the MM's spot hedge; the remaining
``1 - w`` of the engine's order is absorbed by the MM's quotes without moving the ladder.

The fixed point, exactly
------------------------
Let the ask levels in trading order have prices ``p_0 < p_1 < ... < p_{K-1}`` (USD/coin),
sizes ``s_k`` and cumulative depth ``S_k = s_0 + ... + s_k`` (coins). perpsbook.book's
convention for a market buy of ``Q`` coins: the last traded price is ``p_k`` for the first
``k`` with ``S_k >= Q (1 - eps)``, ``eps = QTY_RTOL = 1e-9`` (an order within ``1e-9`` of a
level's cumulative depth takes exactly that level). So a cumulative demand of ``Q`` coins
trades at level ``k`` or beyond iff ``Q (1 - eps) > S_{k-1}``.

A liquidation price ``L`` is first reached when level ``j(L) = searchsorted(p, L, "left")``
trades (the first level priced ``>= L``; ``L`` above the top ask is never reached). Let
``T_k`` be the size (coins) triggered by level ``k`` and ``C_k = T_0 + ... + T_k``. Once
level ``k - 1`` has traded, the demand is ``Q + (w + h) C_{k-1}``; level ``k`` trades iff
every level before it does and

    Q > G_k = S_{k-1} / (1 - eps) - (w + h) C_{k-1}        (G_0 = 0).

With ``M = np.maximum.accumulate(G)`` the cascade reaches levels ``0 .. k*`` where
``k* + 1 = np.searchsorted(M, Q, side="left")``: one ``searchsorted`` for a whole batch of
ignitions. The final (last traded) price is ``p_{k*}``; the liquidated positions are exactly
those with ``L <= p_{k*}``. Stage mode iterates ``Q -> Q_ign + (w + h) C(p(Q))`` from
``Q_ign``; the iteration is monotone and stops at the smallest fixed point, which is this
one (the order in which liquidations happen does not change where it stops).

The candidate prices are the ask levels (the last traded price is always one of them), so
the positions are aggregated onto the K levels once: ``searchsorted`` + ``bincount``, O(N
log K) and no sort of the N positions. A :class:`LiquidationLadder` (positions sorted ONCE,
cumulative sizes) does the same aggregation in O(K log N), for re-running one population
on many books. Sweeps over the hedge ratio, the depth scale or the short interest recompute
``G`` (O(K)) per parameter value.

USD amounts
-----------
The ladder's USD is the book's cost curve: the ignition costs ``cost(Q)``, the forced
buying on the ladder ``cost(Q*) - cost(Q)`` with ``Q* = Q + (w + h) C_{k*}``. It is split
between the engine and the MM in proportion ``w : h`` (each liquidated coin is filled at
the ladder prices of the block of demand it generated). The ``1 - w`` share absorbed by the
MM is valued at the price of the level that triggered the position (stage mode values it
at the opening price of the stage, which is that price or later: with ``w < 1`` the two
modes agree on prices and coins, not on that USD). Hence, for ``w = 1`` and a book that
does not run dry, the forced-buy notional equals stage mode's.

Crash by symmetry
-----------------
``side=-1`` runs a crash: long liquidations (``L`` below the price, triggered when the last
traded price is ``<= L``) on a sell ignition that hits the bids. Internally every price is
mirrored about 0 (``p -> -p``, exact in floating point), the rocket is run on the mirrored
bid ladder and the prices are mirrored back, so ``side=-1`` on a book equals ``side=+1`` on
``book.mirrored(P)`` reflected back (``tests/test_equivalence.py``).

Units: prices USD per coin, sizes coins, notional USD, ratios dimensionless.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from perpsbook.book import OrderBook
from perpsbook.errors import (
    InvalidInputError,
    check_count,
    check_finite,
    check_fraction,
    check_nonnegative,
    check_positive,
    check_scalar,
    check_side,
    readonly,
)
from perpsbook.hedging import HEDGE_RATIO_MAX
from perpsbook.ladder import (
    ONE_MINUS_EPS,
    Ladder,
    LiquidationLadder,
    Triggers,
    book_ladder,
    check_rates,
    coins_for_usd,
    default_bandwidth,
    deficit,
    level_ratio,
    triggers,
    walk_cost,
)
from perpsbook.margin import Venue
from perpsbook.positions import Positions

__all__ = [
    "DEFAULT_LEVERAGE",
    "MAX_POSITIONS",
    "MIN_DEPTH_SCALE",
    "Discrete",
    "LiquidationLadder",
    "LogNormal",
    "Pareto",
    "PopulationResult",
    "SweepResult",
    "population_cascade",
    "sample_population",
    "sweep",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

MAX_POSITIONS = 200_000_000
"""Most positions :func:`sample_population` draws (about 7 GB of draws and arrays)."""


# =========================================================================== sampling


@dataclass(frozen=True)
class LogNormal:
    """Lognormal distribution: ``median * exp(sigma * Z)``, ``Z`` standard normal.

    Parameters
    ----------
    median : float
        Median of the samples (their unit: USD/coin for entries, coins for sizes), > 0.
    sigma : float
        Standard deviation of the log, >= 0 (0 gives the constant ``median``).
    """

    median: float
    sigma: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "median", check_scalar("median", self.median, check_positive))
        object.__setattr__(self, "sigma", check_scalar("sigma", self.sigma, check_nonnegative))

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` draws (float64) from ``rng``."""
        return self.median * np.exp(self.sigma * rng.standard_normal(n))


@dataclass(frozen=True)
class Pareto:
    """Pareto (type I) distribution: ``P(X > x) = (minimum / x)**alpha`` for ``x >= minimum``.

    Heavy-tailed position sizes: a few whales and many small traders. ``alpha <= 1`` has an
    infinite mean, ``alpha <= 2`` an infinite variance.

    Parameters
    ----------
    minimum : float
        Smallest value ``x_m`` (e.g. coins), > 0.
    alpha : float
        Tail index, > 0.
    """

    minimum: float
    alpha: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "minimum", check_scalar("minimum", self.minimum, check_positive))
        object.__setattr__(self, "alpha", check_scalar("alpha", self.alpha, check_positive))

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` draws; numpy's ``pareto`` is the Lomax law, ``x_m (1 + Lomax)`` is Pareto I."""
        return self.minimum * (1.0 + rng.pareto(self.alpha, n))


@dataclass(frozen=True)
class Discrete:
    """A finite distribution: ``values[i]`` with probability ``probs[i]``.

    Parameters
    ----------
    values : sequence of float
        The possible values (e.g. leverages 2x, 3x, ...), finite.
    probs : sequence of float
        Probabilities, >= 0, summing to 1 (within 1e-9), same length as ``values``.
    """

    values: tuple[float, ...]
    probs: tuple[float, ...]

    def __post_init__(self) -> None:
        v = np.atleast_1d(check_finite("values", self.values))
        p = np.atleast_1d(check_nonnegative("probs", self.probs))
        if v.ndim != 1 or v.size == 0 or p.shape != v.shape:
            raise InvalidInputError(
                f"values and probs must be non-empty 1-D sequences of the same length, got "
                f"shapes {v.shape} and {p.shape}"
            )
        if abs(float(p.sum()) - 1.0) > 1e-9:
            raise InvalidInputError(f"probs must sum to 1, got {self.probs!r} (sum {p.sum()!r})")
        object.__setattr__(self, "values", tuple(float(x) for x in v))
        object.__setattr__(self, "probs", tuple(float(x) for x in p))

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """``n`` draws (float64)."""
        idx = rng.choice(len(self.values), size=n, p=np.asarray(self.probs))
        return np.asarray(self.values, dtype=np.float64)[idx]


DEFAULT_LEVERAGE = Discrete(values=(2.0, 3.0, 5.0, 10.0, 20.0), probs=(0.1, 0.2, 0.3, 0.25, 0.15))
"""Default leverage mix: most retail positions at 3x-10x, a tail at 20x (illustrative)."""


def _draw(name: str, dist: Any, rng: np.random.Generator, n: int) -> FloatArray:
    if isinstance(dist, (LogNormal, Pareto, Discrete)):
        return dist.sample(rng, n)
    try:
        nd = np.ndim(dist)
    except ValueError:  # ragged nested sequences
        nd = -1
    if nd == 0:
        return np.full(n, float(check_finite(name, dist)))
    raise InvalidInputError(
        f"{name} must be a number or a LogNormal / Pareto / Discrete distribution, got {dist!r}"
    )


def _check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise InvalidInputError(
            f"rng must be a numpy.random.Generator (e.g. numpy.random.default_rng(seed)), got "
            f"{type(rng).__name__}; perpsbook never uses the global random state"
        )
    return rng


def sample_population(
    n: int,
    rng: np.random.Generator,
    *,
    spot: float,
    entry: Any = None,
    size: Any = None,
    leverage: Any = None,
    side_mix: float = 0.5,
    venue: Any = None,
    max_redraws: int = 100,
) -> Positions:
    """Draw ``n`` isolated-margin positions from explicit distributions.

    Draw order (so a seed fixes the result): sides, entries, sizes, leverages, then redraws.

    Parameters
    ----------
    n : int
        Number of positions, >= 1.
    rng : numpy.random.Generator
        The only source of randomness (no global RNG).
    spot : float
        Current price, USD per coin, > 0; the default entries are centred on it.
    entry : LogNormal, Pareto, Discrete or float, optional
        Entry prices, USD per coin. Default ``LogNormal(median=spot, sigma=0.05)``: entries
        within a few percent of spot.
    size : LogNormal, Pareto, Discrete or float, optional
        Position sizes, coins. Default ``Pareto(minimum=100 / spot, alpha=1.5)``: at least
        100 USD of notional at spot, heavy-tailed (a few whales).
    leverage : LogNormal, Pareto, Discrete or float, optional
        Entry notional / margin, >= 1. Default :data:`DEFAULT_LEVERAGE` (2x 10 %, 3x 20 %,
        5x 30 %, 10x 25 %, 20x 15 %).
    side_mix : float, default 0.5
        Probability that a position is short, in [0, 1] (1 = all shorts, a rocket's fuel).
    venue : perpsbook.margin.Venue, optional
        If given, (1) each leverage is lowered to the venue's maximum for the position's
        notional at entry (the venue would refuse more; reported by the changed
        ``Positions.leverage``, not silently kept), and (2) positions the venue would
        already liquidate at ``spot`` get fresh entries (all their other draws kept), in up
        to ``max_redraws`` vectorised rounds: the population is conditioned on being alive
        at spot.
    max_redraws : int, default 100
        Rounds of redrawing, >= 1.

    Returns
    -------
    perpsbook.positions.Positions
        ``n`` positions; margin = entry notional / leverage (USD).

    Raises
    ------
    InvalidInputError
        Bad arguments, a draw that is not a valid entry (<= 0), size (<= 0) or leverage
        (< 1), or positions still liquidatable at spot after ``max_redraws`` rounds.
    """
    n = check_count("n", n)
    if n > MAX_POSITIONS:
        raise InvalidInputError(
            f"n must be an integer in [1, {MAX_POSITIONS:,}] (positions to draw), got {n!r}"
        )
    rng = _check_rng(rng)
    spot = check_scalar("spot", spot, check_positive)
    mix = check_scalar("side_mix", side_mix, check_fraction)
    rounds = check_count("max_redraws", max_redraws)
    entry = LogNormal(spot, 0.05) if entry is None else entry
    size = Pareto(100.0 / spot, 1.5) if size is None else size
    leverage = DEFAULT_LEVERAGE if leverage is None else leverage
    if venue is not None and not isinstance(venue, Venue):
        raise InvalidInputError(
            f"venue must be a perpsbook.margin.Venue or None, got {type(venue).__name__}"
        )

    side = np.where(rng.random(n) < mix, -1, 1).astype(np.int8)
    px = check_positive("entry draws", _draw("entry", entry, rng, n))
    qty = check_positive("size draws", _draw("size", size, rng, n))
    lev = _draw("leverage", leverage, rng, n)
    if not np.all(lev >= 1.0):
        raise InvalidInputError(f"leverage draws must be >= 1, got a minimum of {lev.min()!r}")
    if venue is None:
        return Positions.from_leverage(side, qty, px, lev)

    # Lowering the leverage to the bracket's cap can move a position to a lower bracket, so
    # take the cap at the capped notional too (brackets shrink with notional: one pass).
    lev = np.minimum(lev, np.asarray(venue.schedule.max_leverage_for(qty * px)))
    dead = np.asarray(venue.is_liquidatable(side, qty, px, qty * px / lev, spot))
    for _ in range(rounds):
        if not dead.any():
            break
        fresh = np.atleast_1d(_draw("entry", entry, rng, int(dead.sum())))
        px[dead] = check_positive("entry draws", fresh)
        lev[dead] = np.minimum(
            lev[dead], np.asarray(venue.schedule.max_leverage_for(qty[dead] * px[dead]))
        )
        idx = np.flatnonzero(dead)
        still = np.asarray(
            venue.is_liquidatable(side[idx], qty[idx], px[idx], qty[idx] * px[idx] / lev[idx], spot)
        )
        dead[idx] = still
    if dead.any():
        raise InvalidInputError(
            f"{int(dead.sum())} of {n} positions would still be liquidated at spot={spot!r} "
            f"after max_redraws={rounds} rounds of fresh entries; use lower leverage or "
            f"entries closer to spot"
        )
    return Positions.from_leverage(side, qty, px, lev)


def _check_ignition(ignition: Any) -> FloatArray:
    q = np.asarray(check_positive("ignition", ignition), dtype=np.float64)
    if q.ndim > 1:
        raise InvalidInputError(
            f"ignition must be a number or a 1-D array (batch of ignitions), got shape {q.shape}"
        )
    return q


def _check_unit(unit: Any) -> str:
    if unit not in ("coins", "usd"):
        raise InvalidInputError(f"ignition_unit must be 'coins' or 'usd', got {unit!r}")
    return unit


# =========================================================================== solver


@dataclass(frozen=True, eq=False)
class _Solution:
    level: IntArray  # k*: index of the final (last traded) level
    demand: FloatArray  # Q*: coins of buying sent to the ladder


def _solve(g: FloatArray, cum_size: FloatArray, q: FloatArray, load: float) -> _Solution:
    reach = np.maximum.accumulate(g)
    level = np.searchsorted(reach, q, side="left") - 1
    # M_0 = 0 < Q, so at least level 0 trades: level >= 0.
    return _Solution(level, q + load * cum_size[level])


def _amplification(forced_usd: FloatArray, ignition_usd: FloatArray) -> FloatArray:
    """Forced USD / ignition USD; ``inf`` when a vanishing ignition (USD underflowing to 0
    or the ratio overflowing) forces something, 0 when nothing is forced. Never NaN."""
    forced = np.asarray(forced_usd, dtype=np.float64)
    ign = np.broadcast_to(np.asarray(ignition_usd, dtype=np.float64), forced.shape)
    with np.errstate(over="ignore"):
        amp = np.divide(forced, ign, out=np.zeros(forced.shape), where=ign > 0)
    return np.where((ign <= 0) & (forced > 0), np.inf, amp)


# =========================================================================== results


def _out(a: Any) -> Any:
    arr = np.asarray(a)
    if arr.ndim:
        return readonly(arr, arr.dtype)
    return arr.item()


@dataclass(frozen=True, eq=False)
class PopulationResult:
    """Outcome of :func:`population_cascade`, one value per ignition.

    Every numeric field is a Python scalar for a scalar ignition and a read-only array of
    shape (B,) for a batch of B ignitions. Never NaN.

    Attributes
    ----------
    side : int
        +1 rocket (short liquidations, forced buying), -1 crash (long liquidations, forced
        selling: read "buy" as "sell" below).
    hedge_ratio, perp_passthrough : float
        ``h`` and ``w``.
    initial_price : float
        The book's mid before the ignition, USD per coin.
    ignition_qty : float or ndarray
        Coins the ignition asked for (the demand; see ``unfilled``).
    ignition_notional : float or ndarray
        USD the ignition paid (the filled part).
    ignition_price : float or ndarray
        Last traded price after the ignition alone, USD per coin: the move without feedback.
    final_price : float or ndarray
        Last traded price when the cascade stops, USD per coin.
    n_liquidated : int or ndarray
        Positions liquidated: exactly those with liquidation price ``<= final_price``
        (``>=`` in a crash).
    liquidated_qty : float or ndarray
        Coins of those positions.
    liquidated_notional : float or ndarray
        USD the liquidated positions were closed for: the engine's share ``w/(w+h)`` of the
        ladder's forced-buy USD (each liquidated coin filled at the ladder prices of the
        demand it generated) plus the absorbed share ``1 - w`` at the price of the level
        that triggered each position.
    hedge_qty, hedge_notional : float or ndarray
        The MM's hedge: ``h * liquidated_qty`` coins, USD at ladder prices (share
        ``h/(w+h)``).
    forced_buy_qty : float or ndarray
        ``liquidated_qty + hedge_qty`` coins: everything the cascade forced to be bought.
    forced_buy_notional : float or ndarray
        ``liquidated_notional + hedge_notional``, USD.
    ladder_qty : float or ndarray
        Coins of forced buying sent into the ladder, ``(w + h) * liquidated_qty``.
    amplification : float or ndarray
        ``forced_buy_notional / ignition_notional`` (dimensionless; ``inf`` only for an
        ignition so small that its USD underflows, e.g. the critical ignition 5e-324 coins).
    book_ran_dry : bool or ndarray
        The buying exceeded the whole ask side (``Q*`` beyond the total depth).
    unfilled : float or ndarray
        Coins of demand (ignition first, then forced) the ladder could not fill; USD fields
        count filled coins only.
    initial_R : float
        Branching ratio at the best ask, where the path starts
        (:func:`perpsbook.theory.branching_ratio`, same bandwidth).
    max_R : float or ndarray
        Largest branching ratio over the levels traded, best ask to ``final_price``.
    bandwidth : float
        Price window used for R, USD per coin.
    ledger_imbalance : float or ndarray
        USD: what the ladder's makers received (summed level by level up to the final
        level the fixed point found) minus what the ignitor, the engine and the MM paid
        (from the cost curve); the absorbed share moves from the shorts to the MM and nets
        to zero. 0 up to rounding: the aggregate flows are zero-sum.
    """

    side: int
    hedge_ratio: float
    perp_passthrough: float
    initial_price: float
    ignition_qty: Any
    ignition_notional: Any
    ignition_price: Any
    final_price: Any
    n_liquidated: Any
    liquidated_qty: Any
    liquidated_notional: Any
    hedge_qty: Any
    hedge_notional: Any
    forced_buy_qty: Any
    forced_buy_notional: Any
    ladder_qty: Any
    amplification: Any
    book_ran_dry: Any
    unfilled: Any
    initial_R: float
    max_R: Any
    bandwidth: float
    ledger_imbalance: Any

    @property
    def batch(self) -> bool:
        """True if the fields are arrays (a batch of ignitions)."""
        return np.ndim(self.final_price) == 1

    def liquidated_mask(self, liq_prices: Any) -> npt.NDArray[np.bool_]:
        """Which of ``liq_prices`` (USD/coin, the positions' order) were liquidated.

        Only for a scalar ignition. ``L <= final_price`` for a rocket, ``>=`` for a crash.
        """
        if self.batch:
            raise InvalidInputError("liquidated_mask needs a result for a single ignition")
        if isinstance(liq_prices, LiquidationLadder):
            raise InvalidInputError(
                "pass the liquidation prices as an array (for a ladder: ladder.prices, whose "
                "mask is in the ladder's sorted order)"
            )
        lp = np.asarray(check_finite("liq_prices", liq_prices))
        return lp <= self.final_price if self.side == 1 else lp >= self.final_price

    def summary(self) -> dict[str, Any]:
        """JSON-able dict of every field (arrays as lists)."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            v = getattr(self, name)
            out[name] = v.tolist() if isinstance(v, np.ndarray) else v
        return out

    def __repr__(self) -> str:
        kind = "rocket" if self.side == 1 else "crash"
        if self.batch:
            return f"PopulationResult({kind}, batch of {np.size(self.final_price)} ignitions)"
        return (
            f"PopulationResult({kind}, price {self.initial_price:.6g} -> {self.final_price:.6g}, "
            f"{self.n_liquidated} liquidated ({self.liquidated_qty:,.6g} coins), amplification "
            f"{self.amplification:.4g}, max R {self.max_R:.3g})"
        )


def population_cascade(
    book: OrderBook,
    liq_prices: Any,
    sizes: Any,
    ignition: Any,
    *,
    hedge_ratio: float,
    perp_passthrough: float = 1.0,
    side: int = 1,
    ignition_unit: str = "coins",
    bandwidth: float | None = None,
) -> PopulationResult:
    """Run the cascade of a whole population as one vectorised fixed point.

    Cost: O(N log K) to put the N positions on the K levels (no sort; O(K log N) with a
    :class:`LiquidationLadder`), O(K) for the fixed point and O(B log K) for B ignitions.

    Parameters
    ----------
    book : OrderBook
        The market book (the shared ladder): asks are bought in a rocket, bids sold into in a
        crash.
    liq_prices : array_like, shape (N,), or LiquidationLadder
        Liquidation prices, USD per coin, > 0, any order: of shorts for ``side=+1``, longs
        for ``side=-1``.
    sizes : array_like, shape (N,), or None
        Coins of each position, > 0 (``None`` with a LiquidationLadder).
    ignition : float or array_like, shape (B,)
        Size of the ignition market order(s), > 0: coins, or USD with
        ``ignition_unit="usd"`` (converted to the coins that USD fills on the fresh book,
        as :meth:`~perpsbook.book.OrderBook.buy_notional` would; USD beyond the whole side
        converts at the deepest price and shows up as ``unfilled``).
    hedge_ratio : float
        ``h``, coins the MM buys per liquidated coin, in [0, HEDGE_RATIO_MAX] (=2).
    perp_passthrough : float, default 1.0
        ``w``, share of the engine's order that walks the ladder, in [0, 1].
    side : int, default +1
        +1 rocket (buy ignition, short liquidations), -1 crash (sell ignition, longs).
    ignition_unit : {"coins", "usd"}, default "coins"
    bandwidth : float, optional
        Price window for the branching ratio, USD per coin, > 0; default
        :func:`perpsbook.theory.default_bandwidth` (1 % of the best price).

    Returns
    -------
    PopulationResult

    Raises
    ------
    InvalidInputError
        N = 0, NaN/inf/non-positive prices, sizes or ignitions, unequal lengths, rates out
        of range, an unknown unit. A book running dry is a result (``book_ran_dry``).
    BookError
        The side of the book to trade into is empty.
    """
    s = check_side(side)
    w, h = check_rates(hedge_ratio, perp_passthrough)
    unit = _check_unit(ignition_unit)
    q_in = _check_ignition(ignition)
    lad = book_ladder(book, s)
    bw = default_bandwidth(book, side=s) if bandwidth is None else bandwidth
    bw = check_scalar("bandwidth", bw, check_positive)
    trig = triggers(lad, liq_prices, sizes)

    q = np.atleast_1d(coins_for_usd(lad, q_in) if unit == "usd" else q_in)
    load = w + h
    sol = _solve(deficit(lad.cum, trig.cum_size, load), trig.cum_size, q, load)
    k = sol.level
    liq_qty = trig.cum_size[k]
    top = lad.cum[-1]

    ign_usd, _, k_ign, _ = walk_cost(lad, q)
    tot_usd, tot_filled, _, _ = walk_cost(lad, sol.demand)
    dry = (k == lad.k - 1) & (sol.demand * ONE_MINUS_EPS > top)
    unfilled = np.where(dry, np.maximum(sol.demand - tot_filled, 0.0), 0.0)

    # Leg-by-leg USD: what the makers received, level by level from the solution's k, and
    # what the buyers paid, from the cost curve; their difference is the ledger residual.
    prev_usd = np.where(k > 0, lad.cum_notional[np.maximum(k - 1, 0)], 0.0)
    prev_qty = np.where(k > 0, lad.cum[np.maximum(k - 1, 0)], 0.0)
    makers_usd = np.where(
        dry, lad.cum_notional[-1], prev_usd + lad.prices[k] * (tot_filled - prev_qty)
    )
    ladder_usd = tot_usd - ign_usd
    if load > 0:
        engine_usd = ladder_usd * (w / load)
        hedge_usd = ladder_usd * (h / load)
    else:
        engine_usd = hedge_usd = np.zeros_like(ladder_usd)
    absorbed_usd = (1.0 - w) * trig.cum_value[k]
    liq_usd = engine_usd + absorbed_usd
    forced_usd = liq_usd + hedge_usd
    # Accounts: makers receive makers_usd; ignitor, engine (for the shorts) and MM hedge
    # pay on the ladder; the absorbed share is a shorts -> MM transfer that nets to zero.
    imbalance = np.abs(makers_usd - (ign_usd + engine_usd + hedge_usd))

    amp = _amplification(forced_usd, ign_usd)

    r_levels = level_ratio(lad, trig.cum_size, load, bw)
    max_r = np.maximum.accumulate(r_levels)[k]

    shape = np.shape(q_in)

    def o(a: Any) -> Any:
        return _out(np.reshape(a, shape))

    return PopulationResult(
        side=s,
        hedge_ratio=h,
        perp_passthrough=w,
        initial_price=float(book.mid)
        if book.bid_prices.size and book.ask_prices.size
        else float(lad.prices[0]),
        ignition_qty=o(q),
        ignition_notional=o(ign_usd),
        ignition_price=o(lad.prices[k_ign]),
        final_price=o(lad.prices[k]),
        n_liquidated=o(trig.cum_count[k]),
        liquidated_qty=o(liq_qty),
        liquidated_notional=o(liq_usd),
        hedge_qty=o(h * liq_qty),
        hedge_notional=o(hedge_usd),
        forced_buy_qty=o((1.0 + h) * liq_qty),
        forced_buy_notional=o(forced_usd),
        ladder_qty=o(load * liq_qty),
        amplification=o(amp),
        book_ran_dry=o(dry),
        unfilled=o(unfilled),
        initial_R=float(r_levels[0]),
        max_R=o(max_r),
        bandwidth=bw,
        ledger_imbalance=o(imbalance),
    )


# =========================================================================== sweeps


@dataclass(frozen=True, eq=False)
class SweepResult:
    """A 2-D grid of cascade outcomes over two swept parameters.

    Attributes
    ----------
    row_name, col_name : str
        Which parameters vary along rows and columns: ``"ignition"``, ``"hedge_ratio"``,
        ``"depth_scale"`` or ``"short_scale"``.
    rows, cols : ndarray
        Their values (ignition in ``ignition_unit``; scales are multipliers of the book's
        sizes and of the positions' sizes).
    fixed : dict
        The two parameters held fixed, plus ``perp_passthrough``, ``side`` and
        ``ignition_unit``.
    amplification : ndarray, shape (len(rows), len(cols))
        Forced-buy USD / ignition USD.
    final_price : ndarray, same shape
        USD per coin.
    liquidated_qty : ndarray, same shape
        Coins liquidated (on the scaled population).
    n_liquidated : ndarray of int, same shape
    book_ran_dry : ndarray of bool, same shape
    """

    row_name: str
    col_name: str
    rows: FloatArray
    cols: FloatArray
    fixed: dict[str, Any]
    amplification: FloatArray
    final_price: FloatArray
    liquidated_qty: FloatArray
    n_liquidated: IntArray
    book_ran_dry: npt.NDArray[np.bool_]

    def __repr__(self) -> str:
        return (
            f"SweepResult({self.row_name} x {self.col_name}: {self.rows.size} x {self.cols.size}, "
            f"amplification {np.min(self.amplification):.3g}..{np.max(self.amplification):.3g})"
        )


_SWEEP_AXES = ("ignition", "hedge_ratio", "depth_scale", "short_scale")

MIN_DEPTH_SCALE = 1e-12
"""Smallest ``depth_scales`` value :func:`sweep` accepts (a book 10^12 times thinner)."""
_CHUNK_CELLS = 4_000_000  # G values per block of columns (32 MB of float64)
_GRID_TYPES = (np.float64, np.float64, np.float64, np.intp, bool)


def sweep(
    book: OrderBook,
    liq_prices: Any,
    sizes: Any,
    *,
    ignitions: Any,
    hedge_ratios: Any = None,
    depth_scales: Any = 1.0,
    short_scales: Any = 1.0,
    perp_passthrough: float = 1.0,
    side: int = 1,
    ignition_unit: str = "coins",
) -> SweepResult:
    """Amplification and final price over a 2-D grid of two parameters.

    Each of ``ignitions``, ``hedge_ratios``, ``depth_scales``, ``short_scales`` is a number
    (held fixed) or a 1-D array (swept); exactly two must be arrays, and they become the
    rows and columns in that order (e.g. ``ignitions=a, hedge_ratios=b`` gives a grid
    ``a x b``; ``hedge_ratios=b, short_scales=c`` at a fixed ignition gives ``b x c``).

    A depth scale ``d`` multiplies every level of the book (``d`` times the coins at each
    price); a short scale ``c`` multiplies every position's size (the short interest). The
    positions are put on the book's levels once. With the ignition as an axis, each value
    of the other parameter costs one O(K) ``G`` and one ``searchsorted`` of all ignitions;
    otherwise each row is one (columns x K) block of numpy work.

    Parameters
    ----------
    book, liq_prices, sizes, perp_passthrough, side, ignition_unit
        As in :func:`population_cascade`.
    ignitions : float or 1-D array
        Coins (or USD with ``ignition_unit="usd"``, filled on the scaled book), > 0.
    hedge_ratios : float or 1-D array
        In [0, HEDGE_RATIO_MAX]; required.
    depth_scales : float or 1-D array, default 1.0
        >= :data:`MIN_DEPTH_SCALE` (1e-12): a USD ignition is filled on the scaled book as
        ``d * cost(q / d)``, and ``q / d`` overflows for subnormal ``d``.
    short_scales : float or 1-D array, default 1.0
        >= 0.

    Returns
    -------
    SweepResult
        At ``depth_scale = short_scale = 1`` each cell equals :func:`population_cascade`.

    Raises
    ------
    InvalidInputError
        Not exactly two swept parameters, empty or 2-D arrays, values out of range, and
        everything :func:`population_cascade` rejects.
    """
    s = check_side(side)
    unit = _check_unit(ignition_unit)
    w = float(check_fraction("perp_passthrough", perp_passthrough))
    if hedge_ratios is None:
        raise InvalidInputError(
            f"hedge_ratios is required: a number in [0, {HEDGE_RATIO_MAX:g}] or an array of them"
        )
    d_scales = np.asarray(check_positive("depth_scales", depth_scales), dtype=np.float64)
    if np.any(d_scales < MIN_DEPTH_SCALE):
        raise InvalidInputError(
            f"depth_scales must be >= {MIN_DEPTH_SCALE:g} (a book scaled by less overflows "
            f"the fill arithmetic), got a minimum of {float(np.min(d_scales))!r}"
        )
    values = {
        "ignition": np.asarray(check_positive("ignitions", ignitions), dtype=np.float64),
        "hedge_ratio": np.asarray(
            check_fraction("hedge_ratios", hedge_ratios, upper=HEDGE_RATIO_MAX), dtype=np.float64
        ),
        "depth_scale": d_scales,
        "short_scale": np.asarray(
            check_nonnegative("short_scales", short_scales), dtype=np.float64
        ),
    }
    for name, v in values.items():
        if v.ndim > 1 or (v.ndim == 1 and v.size == 0):
            raise InvalidInputError(f"{name} values must be a number or a non-empty 1-D array")
    swept = [name for name in _SWEEP_AXES if values[name].ndim == 1]
    if len(swept) != 2:
        raise InvalidInputError(
            f"exactly two of ignitions, hedge_ratios, depth_scales, short_scales must be 1-D "
            f"arrays (the grid's rows and columns), got {len(swept)}: {swept}"
        )
    row_name, col_name = swept
    lad = book_ladder(book, s)
    trig = triggers(lad, liq_prices, sizes)
    rows, cols = values[row_name], values[col_name]
    fields = ("amplification", "final_price", "liquidated_qty", "n_liquidated", "book_ran_dry")
    grid = {
        f: np.empty((rows.size, cols.size), dtype=t)
        for f, t in zip(fields, _GRID_TYPES, strict=True)
    }
    if row_name == "ignition":
        # One G per column value, one searchsorted for the whole ignition axis.
        for j in range(cols.size):
            p = {**values, "ignition": rows, col_name: cols[j]}
            for f, v in zip(fields, _grid_points(lad, trig, w, unit, **p), strict=True):
                grid[f][:, j] = v
    else:
        for i in range(rows.size):
            p = {**values, row_name: rows[i]}
            for f, v in zip(fields, _grid_points(lad, trig, w, unit, **p), strict=True):
                grid[f][i, :] = v
    fixed: dict[str, Any] = {n: float(values[n]) for n in _SWEEP_AXES if values[n].ndim == 0}
    fixed.update(perp_passthrough=w, side=s, ignition_unit=unit)
    return SweepResult(
        row_name=row_name,
        col_name=col_name,
        rows=readonly(rows),
        cols=readonly(cols),
        fixed=fixed,
        amplification=readonly(grid["amplification"]),
        final_price=readonly(grid["final_price"]),
        liquidated_qty=readonly(grid["liquidated_qty"]),
        n_liquidated=readonly(grid["n_liquidated"], np.intp),
        book_ran_dry=readonly(grid["book_ran_dry"], bool),
    )


def _grid_points(
    lad: Ladder,
    trig: Triggers,
    w: float,
    unit: str,
    *,
    ignition: Any,
    hedge_ratio: Any,
    depth_scale: Any,
    short_scale: Any,
) -> tuple[np.ndarray, ...]:
    """Cascade outcomes for m points; each parameter a scalar or an (m,) array.

    On a book scaled by ``d`` a buy of ``q`` coins costs ``d * cost(q / d)`` on the
    original book; positions scaled by ``c`` carry ``c`` times the coins at each level.
    """
    h = np.asarray(hedge_ratio, dtype=np.float64)
    d = np.asarray(depth_scale, dtype=np.float64)
    c = np.asarray(short_scale, dtype=np.float64)
    ign = np.asarray(ignition, dtype=np.float64)
    q = d * coins_for_usd(lad, ign / d) if unit == "usd" else ign
    load = (w + h) * c
    if h.ndim == d.ndim == c.ndim == 0:
        # One G for every ignition: a single searchsorted.
        g = deficit(lad.cum, trig.cum_size, float(load), float(d))
        level = np.searchsorted(np.maximum.accumulate(g), q, side="left") - 1
    else:
        m = np.broadcast(h, d, c, q).shape
        level = _levels_by_column(lad, trig, np.broadcast_to(load, m), np.broadcast_to(d, m), q)
    liq = trig.cum_size[level] * c
    demand = q + (w + h) * liq
    ign_usd = d * walk_cost(lad, q / d)[0]
    tot_usd = d * walk_cost(lad, demand / d)[0]
    forced = (tot_usd - ign_usd) + (1.0 - w) * c * trig.cum_value[level]
    amp = _amplification(forced, ign_usd)
    dry = (level == lad.k - 1) & (demand * ONE_MINUS_EPS > lad.cum[-1] * d)
    return amp, lad.prices[level], liq, trig.cum_count[level], dry


def _levels_by_column(
    lad: Ladder, trig: Triggers, load: FloatArray, d: FloatArray, q: Any
) -> IntArray:
    """Final level for m columns with their own ``load`` and ``d``: blocks of (m, K) G."""
    m, k = load.size, lad.k
    qq = np.broadcast_to(q, (m,))
    out = np.empty(m, dtype=np.intp)
    block = max(1, _CHUNK_CELLS // max(k, 1))
    prev_depth = np.concatenate(([0.0], lad.cum[:-1])) / ONE_MINUS_EPS
    prev_size = np.concatenate(([0.0], trig.cum_size[:-1]))
    for a in range(0, m, block):
        b = min(m, a + block)
        g = d[a:b, None] * prev_depth[None, :] - load[a:b, None] * prev_size[None, :]
        np.maximum.accumulate(g, axis=1, out=g)
        out[a:b] = np.count_nonzero(g < qq[a:b, None], axis=1) - 1
    return out
