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

from perpsbook.book import QTY_RTOL, OrderBook
from perpsbook.cascade import HEDGE_RATIO_MAX
from perpsbook.errors import (
    BookError,
    InvalidInputError,
    check_finite,
    check_fraction,
    check_nonnegative,
    check_positive,
    check_side,
)
from perpsbook.positions import Positions

__all__ = [
    "DEFAULT_LEVERAGE",
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

_ONE_MINUS_EPS = 1.0 - QTY_RTOL


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
        object.__setattr__(self, "median", float(check_positive("median", self.median)))
        object.__setattr__(self, "sigma", float(check_nonnegative("sigma", self.sigma)))

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
        object.__setattr__(self, "minimum", float(check_positive("minimum", self.minimum)))
        object.__setattr__(self, "alpha", float(check_positive("alpha", self.alpha)))

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
    if np.ndim(dist) == 0:
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


def _check_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidInputError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


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
    n = _check_count("n", n)
    rng = _check_rng(rng)
    spot = float(check_positive("spot", spot))
    mix = float(check_fraction("side_mix", side_mix))
    rounds = _check_count("max_redraws", max_redraws)
    entry = LogNormal(spot, 0.05) if entry is None else entry
    size = Pareto(100.0 / spot, 1.5) if size is None else size
    leverage = DEFAULT_LEVERAGE if leverage is None else leverage

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


# =========================================================================== inputs


def _readonly(arr: npt.ArrayLike, dtype: Any = np.float64) -> np.ndarray:
    out = np.array(arr, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


def _positions_arrays(liq_prices: Any, sizes: Any) -> tuple[FloatArray, FloatArray]:
    prices = np.asarray(check_positive("liq_prices", liq_prices), dtype=np.float64)
    if prices.ndim != 1 or prices.size == 0:
        raise InvalidInputError(
            f"liq_prices must be a non-empty 1-D array (N >= 1 positions, USD per coin), got "
            f"shape {prices.shape}"
        )
    if sizes is None:
        raise InvalidInputError("sizes (coins, one per liquidation price) is required")
    qty = np.asarray(check_positive("sizes", sizes), dtype=np.float64)
    if qty.shape != prices.shape:
        raise InvalidInputError(
            f"sizes has shape {qty.shape} but liq_prices has {prices.shape}; give one size "
            f"(coins) per position"
        )
    return prices, qty


@dataclass(frozen=True, eq=False)
class LiquidationLadder:
    """Liquidation prices sorted once, with cumulative sizes: prepared population input.

    Parameters
    ----------
    prices : array_like, shape (N,)
        Liquidation prices, USD per coin, finite, > 0, sorted ascending (use
        :meth:`from_arrays` or :meth:`from_positions` to sort).
    sizes : array_like, shape (N,)
        Coins liquidated at each price, finite, > 0.
    order : array_like of int, shape (N,), optional
        Index of each entry in the caller's original arrays (default ``arange(N)``).
    position_side : int, optional
        -1 if these are shorts (fuel for a rocket, ``side=+1``), +1 if longs (a crash);
        ``None`` if unknown. :func:`population_cascade` refuses a mismatch.

    Attributes
    ----------
    cum_sizes : ndarray, shape (N + 1,)
        ``[0, s_0, s_0 + s_1, ...]``, coins.

    Raises
    ------
    InvalidInputError
        N = 0, NaN/inf/non-positive values, unequal lengths, or unsorted prices.
    """

    prices: FloatArray
    sizes: FloatArray
    order: IntArray | None = None
    position_side: int | None = None

    def __post_init__(self) -> None:
        prices, sizes = _positions_arrays(self.prices, self.sizes)
        if prices.size > 1 and np.any(prices[1:] < prices[:-1]):
            i = int(np.argmax(prices[1:] < prices[:-1])) + 1
            raise InvalidInputError(
                f"prices must be sorted ascending, but prices[{i}]={float(prices[i])!r} < "
                f"prices[{i - 1}]={float(prices[i - 1])!r}; use LiquidationLadder.from_arrays "
                f"to sort"
            )
        n = prices.size
        order = np.arange(n) if self.order is None else np.asarray(self.order)
        if order.shape != (n,) or order.dtype.kind not in "iu":
            raise InvalidInputError(f"order must be {n} integers, got {self.order!r}")
        side = None if self.position_side is None else check_side(self.position_side)
        self._fill(
            np.array(prices, copy=True), np.array(sizes, copy=True), order.astype(np.intp), side
        )

    def _fill(
        self, prices: FloatArray, sizes: FloatArray, order: IntArray, side: int | None
    ) -> None:
        # Arrays handed over here are owned by the ladder (fresh copies): frozen in place.
        cum = np.empty(prices.size + 1)
        cum[0] = 0.0
        np.cumsum(sizes, out=cum[1:])
        for name, arr in (("prices", prices), ("sizes", sizes), ("order", order)):
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        cum.setflags(write=False)
        object.__setattr__(self, "cum_sizes", cum)
        object.__setattr__(self, "position_side", side)

    @classmethod
    def _trusted(
        cls, prices: FloatArray, sizes: FloatArray, order: IntArray, side: int | None
    ) -> LiquidationLadder:
        ladder = object.__new__(cls)
        ladder._fill(prices, sizes, order, side)
        return ladder

    @classmethod
    def from_arrays(
        cls, liq_prices: Any, sizes: Any, *, position_side: int | None = None
    ) -> LiquidationLadder:
        """Sort ``(liq_prices, sizes)`` once (one argsort, one gather) into a ladder.

        Parameters
        ----------
        liq_prices : array_like, shape (N,)
            USD per coin, > 0, any order.
        sizes : array_like, shape (N,)
            Coins, > 0.
        position_side : int, optional
            -1 shorts, +1 longs (see the class).
        """
        prices, qty = _positions_arrays(liq_prices, sizes)
        side = None if position_side is None else check_side(position_side)
        # The one sort (introsort: deterministic; the order of equal prices is immaterial).
        order = np.argsort(prices)
        return cls._trusted(prices[order], qty[order], order, side)

    @classmethod
    def from_positions(
        cls, positions: Positions, venue: Any, *, which: str = "shorts"
    ) -> LiquidationLadder:
        """The ladder of one side's liquidation prices on ``venue``.

        Liquidation prices come from :func:`perpsbook.margin.liquidation_prices`
        (``venue.liquidation_price``, vectorised; the venue's formula and source are in its
        docstring). Longs whose liquidation price is <= 0 can never be liquidated and are
        left out (Binance shows "--" for them).

        Parameters
        ----------
        positions : perpsbook.positions.Positions
        venue : perpsbook.margin.Venue
        which : {"shorts", "longs"}
            Shorts fuel a rocket (``side=+1``), longs a crash (``side=-1``).

        Returns
        -------
        LiquidationLadder
            ``order`` indexes into ``positions``.
        """
        from perpsbook.margin import liquidation_prices

        if not isinstance(positions, Positions):
            raise InvalidInputError(
                f"positions must be a Positions, got {type(positions).__name__}"
            )
        if which not in ("shorts", "longs"):
            raise InvalidInputError(f"which must be 'shorts' or 'longs', got {which!r}")
        pside = -1 if which == "shorts" else 1
        idx = np.flatnonzero(positions.side == pside)
        if idx.size == 0:
            raise InvalidInputError(f"positions hold no {which} (N = 0 after selecting them)")
        sub = positions.take(idx)
        lp = np.atleast_1d(np.asarray(liquidation_prices(sub, venue), dtype=np.float64))
        keep = lp > 0
        if not keep.any():
            raise InvalidInputError(f"none of the {which} can ever be liquidated (all prices <= 0)")
        lp, qty, idx = lp[keep], sub.size[keep], idx[keep]
        order = np.argsort(lp)
        return cls._trusted(lp[order], qty[order], idx[order], pside)

    @property
    def n(self) -> int:
        """Number of positions N."""
        return int(self.prices.size)

    def __len__(self) -> int:
        return self.n

    @property
    def total_size(self) -> float:
        """Coins in all positions."""
        return float(self.cum_sizes[-1])  # type: ignore[attr-defined]

    def size_at_or_below(self, price: Any) -> Any:
        """Coins with liquidation price ``<= price`` (USD/coin; scalar or array)."""
        j = np.searchsorted(self.prices, np.asarray(check_finite("price", price)), "right")
        out = self.cum_sizes[j]  # type: ignore[attr-defined]
        return float(out) if np.ndim(out) == 0 else out

    def size_at_or_above(self, price: Any) -> Any:
        """Coins with liquidation price ``>= price`` (USD/coin; scalar or array)."""
        j = np.searchsorted(self.prices, np.asarray(check_finite("price", price)), "left")
        out = self.total_size - self.cum_sizes[j]  # type: ignore[attr-defined]
        return float(out) if np.ndim(out) == 0 else out

    def __repr__(self) -> str:
        return (
            f"LiquidationLadder({self.n} positions, {self.total_size:,.6g} coins, prices "
            f"{self.prices[0]:.6g}..{self.prices[-1]:.6g} USD)"
        )


# =========================================================================== geometry
# (shared with perpsbook.theory: one definition of "level", "trigger" and "reach")


@dataclass(frozen=True, eq=False)
class _Ladder:
    """One side of the book in trading order, plus the key ``side * price`` (ascending)."""

    book: OrderBook  # the book the side comes from (its walk() is the fill rule)
    side: int
    prices: FloatArray  # USD/coin, trading order
    key: FloatArray  # side * prices, strictly ascending
    sizes: FloatArray  # coins per level
    cum: FloatArray  # coins through each level
    cum_notional: FloatArray  # USD through each level

    @property
    def k(self) -> int:
        return int(self.prices.size)


def _book_ladder(book: Any, side: int) -> _Ladder:
    if not isinstance(book, OrderBook):
        raise InvalidInputError(f"book must be an OrderBook, got {type(book).__name__}")
    prices, cum, cum_notional = book.cumulative_depth(side)
    if prices.size == 0:
        label = "ask" if side == 1 else "bid"
        raise BookError(f"the {label} side of the book is empty: there is nothing to trade into")
    sizes = book.ask_sizes if side == 1 else book.bid_sizes
    key = prices if side == 1 else -prices
    return _Ladder(book, side, prices, key, sizes, cum, cum_notional)


@dataclass(frozen=True, eq=False)
class _Triggers:
    """The positions aggregated onto the levels that trigger them."""

    cum_size: FloatArray  # (K,) coins liquidated once level k has traded
    cum_count: IntArray  # (K,) positions liquidated once level k has traded
    cum_value: FloatArray  # (K,) sum of size * (price of the triggering level), USD
    total_size: float  # all positions, reachable or not
    total_count: int


_TABLE_MIN_VALUES = 8_000


def _locate(grid: FloatArray, values: FloatArray) -> IntArray:
    """``np.searchsorted(grid, values, "left")`` for unsorted ``values``, exactly.

    For many values, a binary search per value is dominated by branch mispredictions.
    Instead each value is dropped into one of ``~8K`` equal-width buckets by arithmetic,
    a precomputed table gives a lower bound of its index, and a few vectorised comparison
    steps walk it up to the exact answer (``grid[idx - 1] < value <= grid[idx]``). Falls
    back to ``np.searchsorted`` when the grid is too uneven for the buckets.
    """
    k = grid.size
    if values.size < _TABLE_MIN_VALUES or k < 2:
        return np.searchsorted(grid, values, side="left")
    lo, hi = float(grid[0]), float(grid[-1])
    n_buckets = int(min(max(8 * k, 1024), 1 << 22))
    width = (hi - lo) / n_buckets
    if not (np.isfinite(width) and width > 0):
        return np.searchsorted(grid, values, side="left")
    edges = lo + width * np.arange(n_buckets + 1, dtype=np.float64)
    table = np.searchsorted(grid, edges, side="left")
    crowd = int(np.diff(table).max())
    if crowd > 2:
        return np.searchsorted(grid, values, side="left")
    t = values - lo
    t *= 1.0 / width
    np.clip(t, 0.0, float(n_buckets), out=t)
    idx = t.astype(np.intp)
    del t
    # One bucket lower than the arithmetic says: a lower bound despite rounding.
    idx -= 1
    np.maximum(idx, 0, out=idx)
    idx = table[idx]
    ext = np.append(grid, np.inf)
    for _ in range(3 * crowd + 4):
        step = ext[idx] < values
        if not step.any():
            return idx
        idx += step
    return np.searchsorted(grid, values, side="left")  # pragma: no cover (bound above)


def _triggers(ladder: _Ladder, liq_prices: Any, sizes: Any) -> _Triggers:
    """Aggregate positions onto the levels whose trade first reaches them.

    A short (``side=+1``) with price ``L`` is triggered by the first level priced ``>= L``;
    a long (``side=-1``) by the first bid priced ``<= L``; never if no level is.
    """
    k = ladder.k
    if isinstance(liq_prices, LiquidationLadder):
        if sizes is not None:
            raise InvalidInputError(
                "pass sizes=None with a LiquidationLadder (it carries its own sizes)"
            )
        lad = liq_prices
        if lad.position_side is not None and lad.position_side != -ladder.side:
            want = "shorts" if ladder.side == 1 else "longs"
            raise InvalidInputError(
                f"side={ladder.side:+d} liquidates {want}, but the ladder holds "
                f"{'shorts' if lad.position_side == -1 else 'longs'}"
            )
        cum0 = lad.cum_sizes  # type: ignore[attr-defined]
        total = float(cum0[-1])
        if ladder.side == 1:
            j = np.searchsorted(lad.prices, ladder.prices, side="right")
            cum_size = cum0[j]
            cum_count = j
        else:
            j = np.searchsorted(lad.prices, ladder.prices, side="left")
            cum_size = total - cum0[j]
            cum_count = lad.n - j
        per_level = np.diff(cum_size, prepend=0.0)
        cum_value = np.cumsum(per_level * ladder.prices)
        return _Triggers(cum_size, cum_count.astype(np.intp), cum_value, total, lad.n)
    prices, qty = _positions_arrays(liq_prices, sizes)
    key = prices if ladder.side == 1 else -prices
    idx = _locate(ladder.key, key)
    per_level = np.bincount(idx, weights=qty, minlength=k + 1)
    counts = np.bincount(idx, minlength=k + 1)
    return _Triggers(
        cum_size=np.cumsum(per_level[:k]),
        cum_count=np.cumsum(counts[:k]).astype(np.intp),
        cum_value=np.cumsum(per_level[:k] * ladder.prices),
        total_size=float(per_level.sum()),
        total_count=int(prices.size),
    )


def _deficit(cum: FloatArray, cum_size: FloatArray, load: float, depth: float = 1.0) -> FloatArray:
    """``G_k``: ignition (coins) level ``k`` needs beyond what the cascade brings itself.

    ``cum`` is the cumulative depth (coins), scaled by ``depth``; ``load = (w + h) * short
    scale``. Level ``k`` trades iff ``Q > max(G_0..G_k)``.
    """
    g = np.empty(cum.size)
    g[0] = 0.0
    g[1:] = (cum[:-1] / _ONE_MINUS_EPS) * depth - load * cum_size[:-1]
    return g


def _walk_cost(
    ladder: _Ladder, qty: FloatArray
) -> tuple[FloatArray, FloatArray, IntArray, npt.NDArray[np.bool_]]:
    """USD and coins filled by market orders of ``qty`` coins: :meth:`OrderBook.walk`.

    Returns ``(notional, filled, last level index, beyond the whole side)``, each with the
    shape of ``qty``.
    """
    q = np.asarray(qty, dtype=np.float64)
    w = ladder.book.walk(ladder.side, q.ravel())
    return (
        w.notional.reshape(q.shape),
        w.qty.reshape(q.shape),
        w.k.reshape(q.shape),
        w.beyond.reshape(q.shape),
    )


def _coins_for_usd(ladder: _Ladder, usd: FloatArray) -> FloatArray:
    """Coins a market order spending ``usd`` USD fills (:meth:`OrderBook.walk` by notional).

    USD beyond the whole side's value converts at the deepest level's price: the order is
    a demand bigger than the ladder, which the result reports as ``unfilled`` coins.
    """
    u = np.asarray(usd, dtype=np.float64)
    w = ladder.book.walk(ladder.side, u.ravel(), by_notional=True)
    extra = np.where(w.beyond, (u.ravel() - ladder.cum_notional[-1]) / ladder.prices[-1], 0.0)
    return (w.qty + extra).reshape(u.shape)


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


def _check_rates(hedge_ratio: Any, perp_passthrough: Any) -> tuple[float, float]:
    if hedge_ratio is None:
        raise InvalidInputError(
            f"hedge_ratio is required: coins of spot the MM buys per liquidated coin, in "
            f"[0, {HEDGE_RATIO_MAX:g}] (1 = full delta hedge)"
        )
    h = check_fraction("hedge_ratio", hedge_ratio, upper=HEDGE_RATIO_MAX)
    w = check_fraction("perp_passthrough", perp_passthrough)
    if np.ndim(h) or np.ndim(w):
        raise InvalidInputError("hedge_ratio and perp_passthrough must be single numbers here")
    return float(w), float(h)


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
        return _readonly(arr, arr.dtype)
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
    from perpsbook.theory import _level_ratio, default_bandwidth

    s = check_side(side)
    w, h = _check_rates(hedge_ratio, perp_passthrough)
    unit = _check_unit(ignition_unit)
    q_in = _check_ignition(ignition)
    lad = _book_ladder(book, s)
    bw = default_bandwidth(book, side=s) if bandwidth is None else bandwidth
    bw = float(check_positive("bandwidth", bw))
    trig = _triggers(lad, liq_prices, sizes)

    q = np.atleast_1d(_coins_for_usd(lad, q_in) if unit == "usd" else q_in)
    load = w + h
    sol = _solve(_deficit(lad.cum, trig.cum_size, load), trig.cum_size, q, load)
    k = sol.level
    liq_qty = trig.cum_size[k]
    top = lad.cum[-1]

    ign_usd, _, k_ign, _ = _walk_cost(lad, q)
    tot_usd, tot_filled, _, _ = _walk_cost(lad, sol.demand)
    dry = (k == lad.k - 1) & (sol.demand * _ONE_MINUS_EPS > top)
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

    r_levels = _level_ratio(lad, trig.cum_size, load, bw)
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
        > 0.
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
    values = {
        "ignition": np.asarray(check_positive("ignitions", ignitions), dtype=np.float64),
        "hedge_ratio": np.asarray(
            check_fraction("hedge_ratios", hedge_ratios, upper=HEDGE_RATIO_MAX), dtype=np.float64
        ),
        "depth_scale": np.asarray(check_positive("depth_scales", depth_scales), dtype=np.float64),
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
    lad = _book_ladder(book, s)
    trig = _triggers(lad, liq_prices, sizes)
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
        rows=_readonly(rows),
        cols=_readonly(cols),
        fixed=fixed,
        amplification=_readonly(grid["amplification"]),
        final_price=_readonly(grid["final_price"]),
        liquidated_qty=_readonly(grid["liquidated_qty"]),
        n_liquidated=_readonly(grid["n_liquidated"], np.intp),
        book_ran_dry=_readonly(grid["book_ran_dry"], bool),
    )


def _grid_points(
    lad: _Ladder,
    trig: _Triggers,
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
    q = d * _coins_for_usd(lad, ign / d) if unit == "usd" else ign
    load = (w + h) * c
    if h.ndim == d.ndim == c.ndim == 0:
        # One G for every ignition: a single searchsorted.
        g = _deficit(lad.cum, trig.cum_size, float(load), float(d))
        level = np.searchsorted(np.maximum.accumulate(g), q, side="left") - 1
    else:
        m = np.broadcast(h, d, c, q).shape
        level = _levels_by_column(lad, trig, np.broadcast_to(load, m), np.broadcast_to(d, m), q)
    liq = trig.cum_size[level] * c
    demand = q + (w + h) * liq
    ign_usd = d * _walk_cost(lad, q / d)[0]
    tot_usd = d * _walk_cost(lad, demand / d)[0]
    forced = (tot_usd - ign_usd) + (1.0 - w) * c * trig.cum_value[level]
    amp = _amplification(forced, ign_usd)
    dry = (level == lad.k - 1) & (demand * _ONE_MINUS_EPS > lad.cum[-1] * d)
    return amp, lad.prices[level], liq, trig.cum_count[level], dry


def _levels_by_column(
    lad: _Ladder, trig: _Triggers, load: FloatArray, d: FloatArray, q: Any
) -> IntArray:
    """Final level for m columns with their own ``load`` and ``d``: blocks of (m, K) G."""
    m, k = load.size, lad.k
    qq = np.broadcast_to(q, (m,))
    out = np.empty(m, dtype=np.intp)
    block = max(1, _CHUNK_CELLS // max(k, 1))
    prev_depth = np.concatenate(([0.0], lad.cum[:-1])) / _ONE_MINUS_EPS
    prev_size = np.concatenate(([0.0], trig.cum_size[:-1]))
    for a in range(0, m, block):
        b = min(m, a + block)
        g = d[a:b, None] * prev_depth[None, :] - load[a:b, None] * prev_size[None, :]
        np.maximum.accumulate(g, axis=1, out=g)
        out[a:b] = np.count_nonzero(g < qq[a:b, None], axis=1) - 1
    return out
