"""The ladder arithmetic shared by population mode and cascade theory.

One side of an :class:`~perpsbook.book.OrderBook` seen as a *ladder* of price levels in
trading order, the positions aggregated onto the levels that trigger them, and the
quantities both :mod:`perpsbook.population` (the fixed point) and :mod:`perpsbook.theory`
(branching ratio, critical ignition) are built from: one definition of "level", "trigger"
and "reach". It used to live in ``population`` with ``theory`` importing six private names
from it while ``population`` imported ``theory`` back (an import cycle); both now import
this module, which imports neither of them.

The rules (exact; see :mod:`perpsbook.population` for the derivation):

* a short with liquidation price ``L`` is triggered by the first ask level priced ``>= L``
  (a long, ``side=-1``, by the first bid ``<= L``), never if no level is (:func:`triggers`);
* with cumulative depth ``S_k`` (coins) and triggered size ``C_k`` (coins), level ``k``
  trades iff the ignition exceeds every ``G_j = S_{j-1} / (1 - eps) - (w + h) C_{j-1}``,
  ``j <= k`` (:func:`deficit`, ``eps = QTY_RTOL``);
* the branching ratio at a level is ``(w + h)`` times the liquidated coins over the ask
  coins in a window of width ``b`` around it (:func:`level_ratio`, :func:`window_sums`;
  ``b`` defaults to 1 % of the best price, :func:`default_bandwidth`).

Everything here is public to the package but not re-exported from :mod:`perpsbook`:
these are building blocks, the reader-facing API is ``population`` and ``theory``.
:class:`LiquidationLadder` is re-exported by :mod:`perpsbook.population`.

Units: prices USD per coin, sizes coins, notional USD, ratios dimensionless.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from perpsbook.book import QTY_RTOL, OrderBook
from perpsbook.errors import (
    BookError,
    InvalidInputError,
    check_finite,
    check_fraction,
    check_positive,
    check_side,
)
from perpsbook.hedging import HEDGE_RATIO_MAX
from perpsbook.margin import Venue, liquidation_prices
from perpsbook.positions import Positions

__all__ = [
    "DEFAULT_BANDWIDTH_FRACTION",
    "ONE_MINUS_EPS",
    "Ladder",
    "LiquidationLadder",
    "Triggers",
    "book_ladder",
    "branching_ratios",
    "check_rates",
    "coins_for_usd",
    "default_bandwidth",
    "deficit",
    "level_ratio",
    "locate",
    "positions_arrays",
    "triggers",
    "walk_cost",
    "window_sums",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

ONE_MINUS_EPS = 1.0 - QTY_RTOL
"""``1 - QTY_RTOL``: an order within ``QTY_RTOL`` of a level's cumulative depth takes it."""


# =========================================================================== positions


def positions_arrays(liq_prices: Any, sizes: Any) -> tuple[FloatArray, FloatArray]:
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
        ``None`` if unknown. :func:`perpsbook.population.population_cascade` refuses a
        mismatch.

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
        prices, sizes = positions_arrays(self.prices, self.sizes)
        if prices.size > 1 and np.any(prices[1:] < prices[:-1]):
            i = int(np.argmax(prices[1:] < prices[:-1])) + 1
            raise InvalidInputError(
                f"prices must be sorted ascending, but prices[{i}]={float(prices[i])!r} < "
                f"prices[{i - 1}]={float(prices[i - 1])!r}; use LiquidationLadder.from_arrays "
                f"to sort"
            )
        n = prices.size
        try:
            order = np.arange(n) if self.order is None else np.asarray(self.order)
        except (TypeError, ValueError):  # ragged nested lists: numpy's own error
            raise InvalidInputError(f"order must be {n} integers, got {self.order!r}") from None
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
        prices, qty = positions_arrays(liq_prices, sizes)
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
        if not isinstance(positions, Positions):
            raise InvalidInputError(
                f"positions must be a Positions, got {type(positions).__name__}"
            )
        if not isinstance(venue, Venue):
            raise InvalidInputError(
                f"venue must be a perpsbook.margin.Venue (e.g. ALTCOIN, BINANCE), got "
                f"{type(venue).__name__}"
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


# =========================================================================== levels


@dataclass(frozen=True, eq=False)
class Ladder:
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


def book_ladder(book: Any, side: int) -> Ladder:
    if not isinstance(book, OrderBook):
        raise InvalidInputError(f"book must be an OrderBook, got {type(book).__name__}")
    prices, cum, cum_notional = book.cumulative_depth(side)
    if prices.size == 0:
        label = "ask" if side == 1 else "bid"
        raise BookError(f"the {label} side of the book is empty: there is nothing to trade into")
    sizes = book.ask_sizes if side == 1 else book.bid_sizes
    key = prices if side == 1 else -prices
    return Ladder(book, side, prices, key, sizes, cum, cum_notional)


@dataclass(frozen=True, eq=False)
class Triggers:
    """The positions aggregated onto the levels that trigger them."""

    cum_size: FloatArray  # (K,) coins liquidated once level k has traded
    cum_count: IntArray  # (K,) positions liquidated once level k has traded
    cum_value: FloatArray  # (K,) sum of size * (price of the triggering level), USD
    total_size: float  # all positions, reachable or not
    total_count: int


_TABLE_MIN_VALUES = 8_000


def locate(grid: FloatArray, values: FloatArray) -> IntArray:
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


def triggers(ladder: Ladder, liq_prices: Any, sizes: Any) -> Triggers:
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
        return Triggers(cum_size, cum_count.astype(np.intp), cum_value, total, lad.n)
    prices, qty = positions_arrays(liq_prices, sizes)
    key = prices if ladder.side == 1 else -prices
    idx = locate(ladder.key, key)
    per_level = np.bincount(idx, weights=qty, minlength=k + 1)
    counts = np.bincount(idx, minlength=k + 1)
    return Triggers(
        cum_size=np.cumsum(per_level[:k]),
        cum_count=np.cumsum(counts[:k]).astype(np.intp),
        cum_value=np.cumsum(per_level[:k] * ladder.prices),
        total_size=float(per_level.sum()),
        total_count=int(prices.size),
    )


def deficit(cum: FloatArray, cum_size: FloatArray, load: float, depth: float = 1.0) -> FloatArray:
    """``G_k``: ignition (coins) level ``k`` needs beyond what the cascade brings itself.

    ``cum`` is the cumulative depth (coins), scaled by ``depth``; ``load = (w + h) * short
    scale``. Level ``k`` trades iff ``Q > max(G_0..G_k)``.
    """
    g = np.empty(cum.size)
    g[0] = 0.0
    g[1:] = (cum[:-1] / ONE_MINUS_EPS) * depth - load * cum_size[:-1]
    return g


def walk_cost(
    ladder: Ladder, qty: FloatArray
) -> tuple[FloatArray, FloatArray, IntArray, npt.NDArray[np.bool_]]:
    """USD and coins filled by market orders of ``qty`` coins (a vectorised book walk).

    The walk of :meth:`perpsbook.book.OrderBook.walk`, for many orders at once. Returns
    ``(notional, filled, last level index, beyond the whole side)``, each with the shape of
    ``qty``.
    """
    q = np.asarray(qty, dtype=np.float64)
    w = ladder.book.walk(ladder.side, q.ravel())
    return (
        w.notional.reshape(q.shape),
        w.qty.reshape(q.shape),
        w.k.reshape(q.shape),
        w.beyond.reshape(q.shape),
    )


def coins_for_usd(ladder: Ladder, usd: FloatArray) -> FloatArray:
    """Coins a market order spending ``usd`` USD fills (a book walk by notional).

    The walk of :meth:`perpsbook.book.OrderBook.walk` by notional, for many orders at once.
    USD beyond the whole side's value converts at the deepest level's price: the order is
    a demand bigger than the ladder, which the result reports as ``unfilled`` coins.
    """
    u = np.asarray(usd, dtype=np.float64)
    w = ladder.book.walk(ladder.side, u.ravel(), by_notional=True)
    extra = np.where(w.beyond, (u.ravel() - ladder.cum_notional[-1]) / ladder.prices[-1], 0.0)
    return (w.qty + extra).reshape(u.shape)


def check_rates(hedge_ratio: Any, perp_passthrough: Any) -> tuple[float, float]:
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


# =========================================================================== windows

DEFAULT_BANDWIDTH_FRACTION = 0.01
"""Default kernel window, as a fraction of the best price (1 %: 100 ticks of $0.01 at $100)."""


def default_bandwidth(book: OrderBook, *, side: int = 1) -> float:
    """Default window width for R: 1 % of the best price on the side traded into.

    Parameters
    ----------
    book : OrderBook
    side : int, default +1
        +1 the best ask (rocket), -1 the best bid (crash).

    Returns
    -------
    float
        USD per coin.
    """
    lad = book_ladder(book, check_side(side))
    return DEFAULT_BANDWIDTH_FRACTION * float(lad.prices[0])


def window_sums(
    lad: Ladder, cum_size: FloatArray, centres_key: FloatArray, bandwidth: float
) -> tuple[FloatArray, FloatArray]:
    """(liquidated coins, ask coins) over the levels whose key lies in (c - b/2, c + b/2]."""
    half = 0.5 * bandwidth
    lo = np.searchsorted(lad.key, centres_key - half, side="right")
    hi = np.searchsorted(lad.key, centres_key + half, side="right")
    c0 = np.concatenate(([0.0], cum_size))
    s0 = np.concatenate(([0.0], lad.cum))
    return c0[hi] - c0[lo], s0[hi] - s0[lo]


def branching_ratios(d_liq: FloatArray, d_depth: FloatArray, load: float) -> FloatArray:
    num = load * d_liq
    out = np.divide(num, d_depth, out=np.zeros_like(num), where=d_depth > 0)
    return np.where((d_depth <= 0) & (num > 0), np.inf, out)


def level_ratio(lad: Ladder, cum_size: FloatArray, load: float, bandwidth: float) -> FloatArray:
    """R at every level of the ladder (trading order); used by population mode."""
    d_liq, d_depth = window_sums(lad, cum_size, lad.key, bandwidth)
    return branching_ratios(d_liq, d_depth, load)
