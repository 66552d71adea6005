"""Limit order book: price levels, market orders, depth and price-impact curves.

An :class:`OrderBook` holds resting limit orders as four float64 arrays (struct of arrays):
``bid_prices`` (strictly descending, best bid first), ``bid_sizes``, ``ask_prices``
(strictly ascending, best ask first) and ``ask_sizes``. Prices are in USD per coin, sizes
in coins, notionals in USD. Books are immutable: a market order returns a :class:`Fill`
whose ``book_after`` is the book with the consumed liquidity removed, and the original book
is left untouched, so the same order on the same book always gives the same fill.

Conventions used throughout
---------------------------
* A buy (side +1) lifts the asks from the best ask upwards; a sell (side -1) hits the bids
  from the best bid downwards.
* ``first_price`` is the price of the first level touched and ``last_price`` the price of
  the last level touched, which is the *last traded price*. After a fill the best ask (for
  a buy) is ``last_price`` if that level was only partly consumed, otherwise the next
  level up.
* Quantities are compared with a relative tolerance :data:`QTY_RTOL`: an order within
  ``QTY_RTOL * qty`` of the cumulative depth at a level consumes that level exactly, so
  buying "exactly" the whole side (up to floating rounding) fills completely and leaves an
  empty side rather than a dust level of 1e-12 coins.
* Asking for more than a side holds raises :class:`~perpsbook.errors.InsufficientLiquidityError`
  (its message says how much was available) unless ``partial=True``, in which case the whole
  side is taken and ``Fill.unfilled`` reports the remainder. Nothing is ever silently capped.

The article's ignition example
------------------------------
The source article (danny / @agintender, WuBlockchain 2025) has a whale buy "20,000 RKT for
$200,000" to push spot from $10 to $11. Those two numbers do not fit one book: if buying
20,000 coins walks the asks from $10.00 to $11.00, only the coins resting at $10.00 cost
$10 and every other one costs more, so the bill is above $200,000. With
:meth:`OrderBook.calibrated` (tick $0.01, first traded price $10.00, last traded price
$11.00):

=========  ====================================  ===========  ============
shape      coins per level                       cost (USD)   VWAP (USD)
=========  ====================================  ===========  ============
flat       equal (198.02 coins at each of 101)   210,000.00   10.5000
sqrt       grows like sqrt(level number)          211,983.56   10.5992
linear     grows linearly (square-root impact)    213,333.33   10.6667
=========  ====================================  ===========  ============

$200,000 for 20,000 coins is a VWAP of exactly $10.00: that would need the whole 20,000
coins resting at $10.00, in which case the price would not move at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from perpsbook.errors import (
    BookError,
    InsufficientLiquidityError,
    InvalidInputError,
    as_float_array,
    check_count,
    check_fraction,
    check_nonnegative,
    check_positive,
    check_scalar,
    check_side,
    readonly,
)

__all__ = ["BOOK_SHAPES", "MAX_LEVELS", "QTY_RTOL", "Fill", "OrderBook", "Walk"]

FloatArray = npt.NDArray[np.float64]

QTY_RTOL = 1e-9
"""Relative tolerance (fraction of the order) within which an order consumes a level exactly."""

BOOK_SHAPES = ("flat", "sqrt", "linear")
"""Depth shapes accepted by :meth:`OrderBook.calibrated`."""

_VERB = {1: "buy", -1: "sell"}
_LABEL = {1: "ask", -1: "bid"}


def _fmt(x: float) -> str:
    return f"{x:.8g}"


def _level_array(name: str, value: Any) -> FloatArray:
    try:
        arr = np.array(as_float_array(name, value), dtype=np.float64, copy=True)
    except InvalidInputError as exc:
        raise BookError(f"{name} must be an array of numbers: {exc}") from exc
    arr.setflags(write=False)
    return arr


def _cum0(values: FloatArray) -> FloatArray:
    out = np.empty(values.size + 1)
    out[0] = 0.0
    np.cumsum(values, out=out[1:])
    return readonly(out, copy=False)


def _validate_side(label: str, prices: FloatArray, sizes: FloatArray, descending: bool) -> None:
    if prices.ndim != 1 or sizes.ndim != 1:
        raise BookError(
            f"{label}_prices and {label}_sizes must be 1-D arrays, got shapes "
            f"{prices.shape} and {sizes.shape}"
        )
    if prices.shape != sizes.shape:
        raise BookError(
            f"{label}_prices has {prices.size} levels but {label}_sizes has {sizes.size}; "
            f"every level needs one price and one size"
        )
    for name, arr, unit in (
        (f"{label}_prices", prices, "USD per coin"),
        (f"{label}_sizes", sizes, "coins"),
    ):
        bad = ~(np.isfinite(arr) & (arr > 0))
        if bad.any():
            i = int(np.argmax(bad))
            raise BookError(
                f"{name} must be finite and > 0 ({unit}); level {i} is {float(arr[i])!r}"
            )
    steps = np.diff(prices)
    bad = steps >= 0 if descending else steps <= 0
    if bad.any():
        i = int(np.argmax(bad))
        order = "descending (best bid first)" if descending else "ascending (best ask first)"
        raise BookError(
            f"{label}_prices must be strictly {order}; level {i + 1} ({float(prices[i + 1])!r}) "
            f"follows level {i} ({float(prices[i])!r})"
        )


def _split_levels(name: str, levels: Any) -> tuple[FloatArray, FloatArray]:
    try:
        arr = as_float_array(name, levels)
    except InvalidInputError as exc:
        raise BookError(f"{name} must be a sequence of (price, qty) pairs: {exc}") from exc
    if arr.size == 0:
        raise BookError(
            f"empty book: {name} has no levels; a book needs at least one bid and one ask"
        )
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise BookError(
            f"{name} must be a sequence of (price USD/coin, qty coins) pairs, got an array "
            f"of shape {arr.shape}"
        )
    return arr[:, 0], arr[:, 1]


def _check_amount(name: str, value: Any, unit: str) -> float:
    many = isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim > 0)
    if many:
        raise InvalidInputError(
            f"{name} must be a single number ({unit}), got a {type(value).__name__} of "
            f"{len(value)}; use impact_curve / cost_curve for many quantities at once"
        )
    return check_scalar(name, value, check_positive)


MAX_LEVELS = 10_000_000
"""Most levels per side a constructor builds (two float64 arrays of 80 MB each)."""


def _check_levels(name: str, value: Any) -> int:
    n = check_count(name, value)
    if n > MAX_LEVELS:
        raise InvalidInputError(
            f"{name} must be an integer in [1, {MAX_LEVELS:,}] (levels per side), got {value!r}"
        )
    return n


class Walk(NamedTuple):
    """Where market orders of given sizes stop on one side of the book (arrays of orders).

    Returned by :meth:`OrderBook.walk`; every field has the shape of the orders.
    """

    k: npt.NDArray[np.intp]  # index of the last level touched
    full: npt.NDArray[np.bool_]  # level k consumed entirely
    beyond: npt.NDArray[np.bool_]  # order larger than the whole side
    take: FloatArray  # coins taken at level k
    qty: FloatArray  # coins filled
    notional: FloatArray  # USD


def _stop_index(key0: FloatArray, amount: FloatArray) -> npt.NDArray[np.intp]:
    """Index of the last level an order of ``amount`` touches; ``== m`` if beyond the side.

    ``key0`` is a cumulative depth with a leading 0 (coins or USD). The first level whose
    cumulative depth reaches ``amount * (1 - QTY_RTOL)`` is the last one touched, so an order
    within the tolerance of a level's cumulative depth stops at that level, not the next.
    """
    return np.searchsorted(key0[1:], amount * (1.0 - QTY_RTOL), side="left")


def _walk(
    prices: FloatArray,
    sizes: FloatArray,
    cum_qty0: FloatArray,
    cum_notional0: FloatArray,
    amount: FloatArray,
    by_notional: bool,
) -> Walk:
    # The one place where orders meet levels: buy(), cost_curve() and impact_curve() all use
    # it (or _stop_index), so a curve value is bit-for-bit the fill of the same order.
    key0 = cum_notional0 if by_notional else cum_qty0
    m = prices.size
    # Orders beyond the side (partial=True) near the float64 limit may overflow in the
    # discarded branch of the arithmetic below; those entries are replaced by the full side.
    with np.errstate(over="ignore"):
        return _walk_arith(prices, sizes, cum_qty0, cum_notional0, amount, by_notional, key0, m)


def _walk_arith(
    prices: FloatArray,
    sizes: FloatArray,
    cum_qty0: FloatArray,
    cum_notional0: FloatArray,
    amount: FloatArray,
    by_notional: bool,
    key0: FloatArray,
    m: int,
) -> Walk:
    k = _stop_index(key0, amount)
    beyond = k == m
    np.minimum(k, m - 1, out=k)
    full = key0[k + 1] - amount <= QTY_RTOL * amount
    full |= beyond
    if by_notional:
        take = (amount - cum_notional0[k]) / prices[k]
        qty = cum_qty0[k] + take
        notional = amount.copy()
    else:
        take = amount - cum_qty0[k]
        qty = amount.copy()
        notional = cum_notional0[k] + prices[k] * take
    if full.any():
        kf = k[full]
        take[full] = sizes[kf]
        qty[full] = cum_qty0[kf + 1]
        notional[full] = cum_notional0[kf + 1]
    return Walk(k, full, beyond, take, qty, notional)


@dataclass(frozen=True, eq=False)
class Fill:
    """Result of one market order against an :class:`OrderBook`.

    Attributes
    ----------
    side : int
        +1 for a buy (lifts the asks), -1 for a sell (hits the bids).
    qty : float
        Coins filled.
    notional : float
        USD paid (buy) or received (sell), ``sum(level_prices * level_qtys)``.
    vwap : float
        Volume-weighted average price, ``notional / qty`` (USD per coin). For an order by
        notional so small that its coins underflow to ``0.0`` (a few subnormal USD, e.g.
        ``buy_notional(5e-324)``) ``qty`` is 0 and ``vwap`` is the price of the level hit.
    first_price : float
        Price of the first level touched (the best ask or bid before the order), USD per coin.
    last_price : float
        Price of the last level touched: the last traded price, USD per coin.
    level_prices : ndarray
        Prices of the levels touched, in the order they were touched (USD per coin).
    level_qtys : ndarray
        Coins taken at each of those levels.
    unfilled : float
        What was not filled: coins for orders by quantity, USD for orders by notional.
        Non-zero only for ``partial=True`` orders larger than the side.
    book_after : OrderBook
        The book with the consumed liquidity removed (a partly consumed level keeps its
        remainder).
    """

    side: int
    qty: float
    notional: float
    vwap: float
    first_price: float
    last_price: float
    level_prices: FloatArray
    level_qtys: FloatArray
    unfilled: float
    book_after: OrderBook

    @property
    def n_levels(self) -> int:
        """Number of price levels the order touched."""
        return int(self.level_prices.size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fill):
            return NotImplemented
        scalars = ("side", "qty", "notional", "vwap", "first_price", "last_price", "unfilled")
        return (
            all(getattr(self, f) == getattr(other, f) for f in scalars)
            and np.array_equal(self.level_prices, other.level_prices)
            and np.array_equal(self.level_qtys, other.level_qtys)
            and self.book_after == other.book_after
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Fill({_VERB[self.side]} {_fmt(self.qty)} coins for {_fmt(self.notional)} USD, "
            f"vwap {_fmt(self.vwap)}, price {_fmt(self.first_price)} -> "
            f"{_fmt(self.last_price)} over {self.n_levels} levels, unfilled {_fmt(self.unfilled)})"
        )


@dataclass(frozen=True, eq=False)
class OrderBook:
    """An immutable limit order book, one float64 array per column (struct of arrays).

    Parameters
    ----------
    bid_prices : array_like
        Bid prices, USD per coin, finite, > 0, strictly descending (best bid first).
    bid_sizes : array_like
        Coins resting at each bid price, finite and > 0.
    ask_prices : array_like
        Ask prices, USD per coin, finite, > 0, strictly ascending (best ask first).
    ask_sizes : array_like
        Coins resting at each ask price, finite and > 0.

    Raises
    ------
    BookError
        If a price or size is NaN, infinite or <= 0, a side is unsorted, the two arrays of a
        side differ in length, or the book is crossed (best bid >= best ask).

    Notes
    -----
    The arrays are copied and made read-only. A side may be empty here, because that is how
    a market order that takes a whole side leaves the book; every named constructor
    (:meth:`from_levels`, :meth:`flat_ladder`, ...) requires both sides to be non-empty.
    Trading against an empty side raises ``InsufficientLiquidityError`` (0 available).
    """

    bid_prices: FloatArray
    bid_sizes: FloatArray
    ask_prices: FloatArray
    ask_sizes: FloatArray

    def __post_init__(self) -> None:
        for name in ("bid_prices", "bid_sizes", "ask_prices", "ask_sizes"):
            object.__setattr__(self, name, _level_array(name, getattr(self, name)))
        _validate_side("bid", self.bid_prices, self.bid_sizes, descending=True)
        _validate_side("ask", self.ask_prices, self.ask_sizes, descending=False)
        two_sided = self.bid_prices.size and self.ask_prices.size
        if two_sided and self.bid_prices[0] >= self.ask_prices[0]:
            raise BookError(
                f"crossed book: best bid {float(self.bid_prices[0])!r} >= best ask "
                f"{float(self.ask_prices[0])!r}; every bid must be strictly below every ask"
            )

    @classmethod
    def _trusted(
        cls,
        bid_prices: FloatArray,
        bid_sizes: FloatArray,
        ask_prices: FloatArray,
        ask_sizes: FloatArray,
    ) -> OrderBook:
        # Books derived from a valid book by removing liquidity are valid by construction;
        # skipping the O(levels) re-validation keeps a fill O(levels touched) + one slice copy.
        book = object.__new__(cls)
        for name, arr in (
            ("bid_prices", bid_prices),
            ("bid_sizes", bid_sizes),
            ("ask_prices", ask_prices),
            ("ask_sizes", ask_sizes),
        ):
            object.__setattr__(book, name, readonly(arr, copy=False))
        return book

    @classmethod
    def _two_sided(
        cls, bid_prices: Any, bid_sizes: Any, ask_prices: Any, ask_sizes: Any
    ) -> OrderBook:
        book = cls(bid_prices, bid_sizes, ask_prices, ask_sizes)
        for label, prices in (("bids", book.bid_prices), ("asks", book.ask_prices)):
            if prices.size == 0:
                raise BookError(
                    f"empty book: {label} has no levels; a book needs at least one bid and one ask"
                )
        return book

    # ------------------------------------------------------------------ constructors

    @classmethod
    def from_levels(
        cls, bids: Sequence[tuple[float, float]], asks: Sequence[tuple[float, float]]
    ) -> OrderBook:
        """Build a book from ``(price, qty)`` pairs.

        Parameters
        ----------
        bids : sequence of (float, float) or array of shape (n, 2)
            Bid levels as (price USD per coin, size coins), strictly descending in price.
        asks : sequence of (float, float) or array of shape (m, 2)
            Ask levels as (price USD per coin, size coins), strictly ascending in price.

        Returns
        -------
        OrderBook

        Raises
        ------
        BookError
            If either side is empty, a level is not a pair, or the book is invalid (see
            :class:`OrderBook`). Levels are not re-sorted: unsorted input is an error.
        """
        bid_prices, bid_sizes = _split_levels("bids", bids)
        ask_prices, ask_sizes = _split_levels("asks", asks)
        return cls._two_sided(bid_prices, bid_sizes, ask_prices, ask_sizes)

    @classmethod
    def from_depth_profile(
        cls,
        mid: float,
        tick: float,
        n_levels: int,
        density: Callable[[FloatArray], Any] | npt.ArrayLike,
        *,
        spread: float | None = None,
    ) -> OrderBook:
        """Build a symmetric ladder whose level sizes follow a depth profile.

        Level ``i`` (``i = 0 .. n_levels-1``) sits at distance ``d_i = spread/2 + i*tick``
        from ``mid``: asks at ``mid + d_i``, bids at ``mid - d_i``, both with size
        ``density(d_i)``.

        Parameters
        ----------
        mid : float
            Mid price, USD per coin, > 0.
        tick : float
            Distance between adjacent levels, USD per coin, > 0.
        n_levels : int
            Levels per side, >= 1.
        density : callable or array_like
            Either a function of the distance from mid (ndarray, USD per coin) returning coins
            per level (an array of the same length, or a scalar), or an array of
            ``n_levels`` sizes (coins), best level first. Every size must be finite and > 0.
        spread : float, optional
            Best ask minus best bid, USD per coin, > 0. Default two ticks, so that with
            ``mid`` on the tick grid every level is on the grid too.

        Returns
        -------
        OrderBook

        Raises
        ------
        InvalidInputError
            If ``mid``, ``tick``, ``spread`` or ``n_levels`` is invalid.
        BookError
            If a size is not finite and > 0, or the deepest bid would be at a price <= 0.
        """
        mid = check_scalar("mid", mid, check_positive)
        tick = check_scalar("tick", tick, check_positive)
        n = _check_levels("n_levels", n_levels)
        spread = 2.0 * tick if spread is None else check_scalar("spread", spread, check_positive)
        distance = spread / 2.0 + tick * np.arange(n, dtype=np.float64)
        raw = density(distance.copy()) if callable(density) else density
        try:
            sizes = np.broadcast_to(as_float_array("density", raw), (n,)).copy()
        except (InvalidInputError, ValueError) as exc:
            raise BookError(
                f"density must give coins per level for {n} levels, got {raw!r}"
            ) from exc
        bad = ~(np.isfinite(sizes) & (sizes > 0))
        if bad.any():
            i = int(np.argmax(bad))
            raise BookError(
                f"density must give finite coins > 0 at every level; level {i} "
                f"(distance {distance[i]:.8g} USD from mid) got {float(sizes[i])!r}"
            )
        bid_prices = mid - distance
        if bid_prices[-1] <= 0:
            raise BookError(
                f"n_levels={n} with tick={tick!r} and spread={spread!r} puts the deepest bid at "
                f"{bid_prices[-1]:.8g} USD <= 0; use fewer levels or a smaller tick"
            )
        return cls._two_sided(bid_prices, sizes, mid + distance, sizes)

    @classmethod
    def flat_ladder(
        cls,
        mid: float,
        tick: float,
        size_per_level: float,
        n_levels: int,
        spread: float | None = None,
    ) -> OrderBook:
        """Build a symmetric ladder with the same size at every level.

        Parameters
        ----------
        mid : float
            Mid price, USD per coin, > 0.
        tick : float
            Distance between adjacent levels, USD per coin, > 0.
        size_per_level : float
            Coins at every level, > 0.
        n_levels : int
            Levels per side, >= 1.
        spread : float, optional
            Best ask minus best bid, USD per coin. Default two ticks (best bid
            ``mid - tick``, best ask ``mid + tick``).

        Returns
        -------
        OrderBook

        Examples
        --------
        >>> OrderBook.flat_ladder(10.0, 0.01, 100.0, 3)
        OrderBook(bids=3 levels 9.99..9.97 (300 coins), asks=3 levels 10.01..10.03 (300 coins))
        """
        size = check_scalar("size_per_level", size_per_level, check_positive)
        n = _check_levels("n_levels", n_levels)
        return cls.from_depth_profile(mid, tick, n, np.full(n, size), spread=spread)

    @classmethod
    def calibrated(
        cls,
        p0: float,
        p1: float,
        qty: float,
        *,
        tick: float = 0.01,
        extend_to: float | None = None,
        shape: str = "flat",
        bid_depth: float | npt.ArrayLike | None = None,
    ) -> OrderBook:
        """Build a book in which buying ``qty`` coins walks the price from ``p0`` to ``p1``.

        The asks sit on the grid ``p0, p0 + tick, ..., p1`` (``m = (p1 - p0)/tick + 1``
        levels holding exactly ``qty`` coins together) and continue with the same density up
        to ``extend_to``. Convention: a market buy of exactly ``qty`` coins on the fresh book
        has ``first_price == p0`` and ``last_price == p1`` (last traded price, exact: the
        grid's end points are set to ``p0`` and ``p1``), it consumes the ``p1`` level
        entirely, and the best ask afterwards is the next level above ``p1``. Any smaller buy
        has a last traded price ``<= p1``; any larger one trades above ``p1``.

        Level ``i`` (``i = 0`` at ``p0``) holds ``qty * w_i / sum(w_0..w_{m-1})`` coins with

        * ``"flat"``: ``w_i = 1``: equal coins per tick, price rises linearly in coins bought;
        * ``"sqrt"``: ``w_i = sqrt(i + 1)``: the price move grows like ``Q**(2/3)``;
        * ``"linear"``: ``w_i = i + 1``: cumulative depth grows like distance squared, i.e.
          square-root impact (price move proportional to ``sqrt(Q)``).

        Cost of the article's case (20,000 coins, $10 -> $11, tick $0.01): flat $210,000,
        sqrt $211,983.56, linear $213,333.33, all above the article's $200,000 (see the
        module docstring).

        Parameters
        ----------
        p0 : float
            Best ask and first traded price, USD per coin, > 0.
        p1 : float
            Last traded price after buying ``qty`` coins, USD per coin, > ``p0``, and
            ``p1 - p0`` a whole number of ticks.
        qty : float
            Coins that walk the book from ``p0`` to ``p1``, > 0.
        tick : float, default 0.01
            Price step between levels, USD per coin, > 0.
        extend_to : float, optional
            Highest ask price, USD per coin, >= ``p1`` (rounded down to the grid). Default
            ``p0 + 10 * (p1 - p0)``: ten times the calibrated move.
        shape : {"flat", "sqrt", "linear"}, default "flat"
            How the coins per level grow away from ``p0``.
        bid_depth : float or array_like, optional
            Bids start one tick below ``p0`` and step down by ``tick``. ``None`` mirrors the
            ask side (same number of levels and the same sizes level for level), keeping only
            levels priced above zero; a float puts that many coins on each of those levels;
            an array gives the size of each bid level (coins), best first, and so their count.

        Returns
        -------
        OrderBook

        Raises
        ------
        InvalidInputError
            For non-positive or non-finite arguments, ``p1 <= p0``, ``p1 - p0`` not a whole
            number of ticks, ``extend_to < p1`` or an unknown ``shape``.
        BookError
            If ``bid_depth`` gives invalid sizes or more bid levels than fit above zero.
        """
        p0 = check_scalar("p0", p0, check_positive)
        p1 = check_scalar("p1", p1, check_positive)
        qty = check_scalar("qty", qty, check_positive)
        tick = check_scalar("tick", tick, check_positive)
        if p1 <= p0:
            raise InvalidInputError(
                f"p1 must be above p0 (a buy lifts the price), got {p0=}, {p1=}"
            )
        with np.errstate(over="ignore"):
            steps = (p1 - p0) / tick
        if not steps <= MAX_LEVELS:
            raise InvalidInputError(
                f"(p1 - p0) / tick = {steps:.6g} levels: at most {MAX_LEVELS:,} levels fit; "
                f"use a larger tick, got {p0=}, {p1=}, {tick=}"
            )
        n_move = round(steps)
        if abs(steps - n_move) > 1e-6 * max(1.0, steps):
            raise InvalidInputError(
                f"p1 - p0 must be a whole number of ticks, got ({p1!r} - {p0!r}) / {tick!r} = "
                f"{steps:.10g}"
            )
        if shape not in BOOK_SHAPES:
            raise InvalidInputError(f"shape must be one of {BOOK_SHAPES}, got {shape!r}")
        top = (
            p0 + 10.0 * (p1 - p0)
            if extend_to is None
            else check_scalar("extend_to", extend_to, check_positive)
        )
        if top < p1 * (1.0 - 1e-12):
            raise InvalidInputError(f"extend_to must be >= p1 = {p1!r}, got {extend_to!r}")
        m = n_move + 1
        n_top = (top - p0) / tick
        if not n_top <= MAX_LEVELS:
            raise InvalidInputError(
                f"extend_to={extend_to!r} needs {n_top:.6g} levels of tick {tick!r}; at most "
                f"{MAX_LEVELS:,} fit"
            )
        n_ask = max(m, int(np.floor(n_top + 1e-6)) + 1)
        i = np.arange(n_ask, dtype=np.float64)
        weight = {"flat": np.ones_like(i), "sqrt": np.sqrt(i + 1.0), "linear": i + 1.0}[shape]
        ask_sizes = weight * (qty / weight[:m].sum())
        ask_prices = p0 + tick * i
        ask_prices[0] = p0
        ask_prices[m - 1] = p1
        grid = p0 - tick * np.arange(1, n_ask + 1, dtype=np.float64)
        if bid_depth is None:
            keep = grid > tick / 2.0
            bid_prices, bid_sizes = grid[keep], ask_sizes[keep]
        elif not isinstance(bid_depth, (list, tuple, np.ndarray)):
            size = check_scalar("bid_depth", bid_depth, check_positive)
            bid_prices = grid[grid > tick / 2.0]
            bid_sizes = np.full(bid_prices.size, size)
        else:
            bid_sizes = as_float_array("bid_depth", bid_depth)
            n_bid = bid_sizes.size
            bid_prices = p0 - tick * np.arange(1, n_bid + 1, dtype=np.float64)
            if n_bid and bid_prices[-1] <= 0:
                raise BookError(
                    f"bid_depth has {n_bid} levels but only those above zero fit below "
                    f"p0={p0!r} with tick={tick!r}; the deepest would be at {bid_prices[-1]:.8g}"
                )
        return cls._two_sided(bid_prices, bid_sizes, ask_prices, ask_sizes)

    @classmethod
    def sqrt_impact(
        cls, mid: float, k: float, *, tick: float = 0.01, n_levels: int | None = None
    ) -> OrderBook:
        """Build a book with square-root price impact on both sides.

        A market buy of ``Q`` coins moves the last traded price to about
        ``mid * (1 + k * sqrt(Q))``; a sell of ``Q`` coins to about ``mid * (1 - k * sqrt(Q))``.
        In closed form, the cumulative ask depth needed to reach price ``p`` is
        ``Q(p) = ((p / mid - 1) / k)**2`` coins. Discretised on the tick grid, ask level
        ``i = 1 .. n_levels`` sits at ``mid + i*tick`` and holds
        ``Q(mid + i*tick) - Q(mid + (i-1)*tick) = (tick / (mid*k))**2 * (2*i - 1)`` coins,
        so buying exactly ``Q(mid + i*tick)`` coins ends at that level; in between, the last
        traded price is the formula's price rounded up to the grid (at most one tick above
        it). Bids mirror the asks at ``mid - i*tick``.

        Source: the square-root impact law, e.g. J.-P. Bouchaud, J. Bonart, J. Donier,
        M. Gould, *Trades, Quotes and Prices* (Cambridge University Press, 2018), ch. 12;
        B. Tóth et al., "Anomalous price impact and the critical nature of liquidity in
        financial markets", Phys. Rev. X 1, 021006 (2011).

        Parameters
        ----------
        mid : float
            Mid price, USD per coin, > 0 (best bid ``mid - tick``, best ask ``mid + tick``).
        k : float
            Impact coefficient, fraction of mid per sqrt(coin), > 0. To make ``Q`` coins move
            the price by a fraction ``x``, use ``k = x / sqrt(Q)``.
        tick : float, default 0.01
            Level spacing, USD per coin, > 0.
        n_levels : int, optional
            Levels per side. Default: as many as span half the mid price
            (``floor(0.5 * mid / tick)``), i.e. the book covers ``mid * (1 +/- 0.5)``.

        Returns
        -------
        OrderBook

        Raises
        ------
        InvalidInputError
            For invalid arguments.
        BookError
            If the deepest bid would be at a price <= 0, or the default ``n_levels`` is 0.
        """
        mid = check_scalar("mid", mid, check_positive)
        k = check_scalar("k", k, check_positive)
        tick = check_scalar("tick", tick, check_positive)
        if n_levels is None:
            with np.errstate(over="ignore"):
                half = 0.5 * mid / tick
            if not half <= MAX_LEVELS:
                raise InvalidInputError(
                    f"mid={mid!r} / tick={tick!r} spans {half:.6g} levels; at most {MAX_LEVELS:,} "
                    f"fit: pass n_levels or a larger tick"
                )
            n = int(np.floor(half))
            if n < 1:
                raise BookError(
                    f"tick={tick!r} is more than half of mid={mid!r}; use a smaller tick"
                )
        else:
            n = _check_levels("n_levels", n_levels)
        i = np.arange(1, n + 1, dtype=np.float64)
        scale = mid * k
        if not scale > 0 or not math.isfinite((tick / scale) ** 2):
            raise InvalidInputError(
                f"mid * k = {scale!r} is too small for tick={tick!r}: the level sizes "
                f"(tick / (mid * k))**2 overflow; use a larger mid or k"
            )
        with np.errstate(over="ignore"):
            sizes = (tick / scale) ** 2 * (2.0 * i - 1.0)
        bid_prices = mid - tick * i
        if bid_prices[-1] <= 0:
            raise BookError(
                f"n_levels={n} with tick={tick!r} puts the deepest bid at {bid_prices[-1]:.8g} "
                f"USD <= 0; use at most {int(np.ceil(mid / tick)) - 1} levels"
            )
        return cls._two_sided(bid_prices, sizes, mid + tick * i, sizes)

    # ------------------------------------------------------------------ properties

    @property
    def best_bid(self) -> float:
        """Highest bid, USD per coin. Raises BookError if the bid side is empty."""
        return float(self._nonempty(-1)[0])

    @property
    def best_ask(self) -> float:
        """Lowest ask, USD per coin. Raises BookError if the ask side is empty."""
        return float(self._nonempty(1)[0])

    @property
    def mid(self) -> float:
        """``(best_bid + best_ask) / 2``, USD per coin. Raises BookError if a side is empty."""
        return 0.5 * (self.best_bid + self.best_ask)

    @property
    def spread(self) -> float:
        """``best_ask - best_bid``, USD per coin (> 0). Raises BookError if a side is empty."""
        return self.best_ask - self.best_bid

    @property
    def total_ask_qty(self) -> float:
        """Coins resting on the ask side (what a buy can take)."""
        return float(self._ask_cum0[-1])

    @property
    def total_bid_qty(self) -> float:
        """Coins resting on the bid side (what a sell can take)."""
        return float(self._bid_cum0[-1])

    @property
    def total_ask_notional(self) -> float:
        """USD it costs to buy the whole ask side."""
        return float(self._ask_cum_notional0[-1])

    @property
    def total_bid_notional(self) -> float:
        """USD received for selling into the whole bid side."""
        return float(self._bid_cum_notional0[-1])

    # Cumulative depths with a leading 0, computed once per book: entry j is what the first
    # j levels hold, so "everything before level k" is a plain gather with no edge case.

    @cached_property
    def _ask_cum0(self) -> FloatArray:
        return _cum0(self.ask_sizes)

    @cached_property
    def _bid_cum0(self) -> FloatArray:
        return _cum0(self.bid_sizes)

    @cached_property
    def _ask_cum_notional0(self) -> FloatArray:
        return _cum0(self.ask_prices * self.ask_sizes)

    @cached_property
    def _bid_cum_notional0(self) -> FloatArray:
        return _cum0(self.bid_prices * self.bid_sizes)

    @cached_property
    def _bid_neg_prices(self) -> FloatArray:
        return readonly(-self.bid_prices)

    def _levels(self, side: int) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        if side == 1:
            return self.ask_prices, self.ask_sizes, self._ask_cum0, self._ask_cum_notional0
        return self.bid_prices, self.bid_sizes, self._bid_cum0, self._bid_cum_notional0

    def _nonempty(self, side: int) -> FloatArray:
        prices = self.ask_prices if side == 1 else self.bid_prices
        if prices.size == 0:
            raise BookError(f"the {_LABEL[side]} side of the book is empty")
        return prices

    def _empty_side_error(
        self, side: int, requested: float, unit: str
    ) -> InsufficientLiquidityError:
        err = InsufficientLiquidityError(_VERB[side], requested, 0.0, unit)
        err.args = (
            f"cannot {_VERB[side]} {requested:,.6g} {unit}: the {_LABEL[side]} side of the "
            f"book is empty (0 {unit} available), so not even a partial fill is possible",
        )
        return err

    # ------------------------------------------------------------------ market orders

    def market_order(self, side: Any, qty: float, *, partial: bool = False) -> Fill:
        """Execute a market order for ``qty`` coins; the book itself is not changed.

        Parameters
        ----------
        side : int or str
            +1 / "buy" (lift the asks) or -1 / "sell" (hit the bids).
        qty : float
            Coins to trade, finite and > 0.
        partial : bool, default False
            If the side holds fewer than ``qty`` coins: False raises, True takes the whole
            side and reports the rest in ``Fill.unfilled`` (coins).

        Returns
        -------
        Fill

        Raises
        ------
        InvalidInputError
            If ``qty`` is not a finite number > 0 (or ``side`` is invalid).
        InsufficientLiquidityError
            If ``qty`` exceeds the side's depth (by more than ``QTY_RTOL``) and ``partial``
            is False, or the side is empty; the message says how many coins were available.
        """
        return self._fill(check_side(side), _check_amount("qty", qty, "coins"), False, partial)

    def buy(self, qty: float, *, partial: bool = False) -> Fill:
        """Market buy of ``qty`` coins (lifts the asks). See :meth:`market_order`."""
        return self._fill(1, _check_amount("qty", qty, "coins"), False, partial)

    def sell(self, qty: float, *, partial: bool = False) -> Fill:
        """Market sell of ``qty`` coins (hits the bids). See :meth:`market_order`."""
        return self._fill(-1, _check_amount("qty", qty, "coins"), False, partial)

    def buy_notional(self, usd: float, *, partial: bool = False) -> Fill:
        """Market buy spending ``usd`` USD (finite, > 0).

        Like :meth:`buy`, but the order is sized in USD: it fills until ``notional == usd``.
        With ``partial=True`` an order larger than the ask side's total notional takes the
        whole side and ``Fill.unfilled`` is in USD. Any positive ``usd`` is valid: a
        subnormal amount (``5e-324``) gives a vanishing fill of ``qty == 0.0`` coins (see
        :class:`Fill`), never an error.
        """
        return self._fill(1, _check_amount("usd", usd, "USD"), True, partial)

    def sell_notional(self, usd: float, *, partial: bool = False) -> Fill:
        """Market sell until ``usd`` USD have been received. See :meth:`buy_notional`."""
        return self._fill(-1, _check_amount("usd", usd, "USD"), True, partial)

    def _fill(self, side: int, amount: float, by_notional: bool, partial: bool) -> Fill:
        prices, sizes, cum_qty0, cum_notional0 = self._levels(side)
        unit = "USD" if by_notional else "coins"
        if prices.size == 0:
            raise self._empty_side_error(side, amount, unit)
        w = _walk(prices, sizes, cum_qty0, cum_notional0, np.array([amount]), by_notional)
        k, full, beyond = int(w.k[0]), bool(w.full[0]), bool(w.beyond[0])
        qty, notional, take = float(w.qty[0]), float(w.notional[0]), float(w.take[0])
        if beyond and not partial:
            available = cum_notional0[-1] if by_notional else cum_qty0[-1]
            raise InsufficientLiquidityError(_VERB[side], amount, available, unit)
        level_qtys = sizes[: k + 1].copy()
        level_qtys[-1] = take
        rest = sizes[k] - take
        if full or rest <= 0:
            rest_prices, rest_sizes = prices[k + 1 :], sizes[k + 1 :]
        else:
            rest_prices, rest_sizes = prices[k:], sizes[k:].copy()
            rest_sizes[0] = rest
        if side == 1:
            after = OrderBook._trusted(self.bid_prices, self.bid_sizes, rest_prices, rest_sizes)
        else:
            after = OrderBook._trusted(rest_prices, rest_sizes, self.ask_prices, self.ask_sizes)
        unfilled = amount - (notional if by_notional else qty) if beyond else 0.0
        # An order of a few subnormal USD buys coins that underflow to 0.0 (5e-324 USD at
        # $10): a valid, vanishing fill; its VWAP is the price of the level it traded at.
        vwap = notional / qty if qty > 0 else float(prices[k])
        return Fill(
            side=side,
            qty=qty,
            notional=notional,
            vwap=vwap,
            first_price=float(prices[0]),
            last_price=float(prices[k]),
            level_prices=prices[: k + 1],
            level_qtys=readonly(level_qtys, copy=False),
            unfilled=unfilled,
            book_after=after,
        )

    # ------------------------------------------------------------------ vectorised curves

    def _check_reach(self, side: int, qtys: FloatArray, beyond: npt.NDArray[np.bool_]) -> None:
        if beyond.any():
            raise InsufficientLiquidityError(
                _VERB[side], qtys[beyond].max(), self._levels(side)[2][-1]
            )

    def _nonempty_for(self, side: int, qtys: FloatArray) -> None:
        if self._levels(side)[0].size == 0:
            raise self._empty_side_error(side, float(qtys.max(initial=0.0)), "coins")

    def impact_curve(self, side: Any, qtys: npt.ArrayLike, *, partial: bool = False) -> FloatArray:
        """Last traded price after a market order of each quantity (vectorised).

        ``impact_curve(side, qtys)[j] == market_order(side, qtys[j]).last_price`` exactly,
        computed with one ``searchsorted`` over the cumulative depth: O(n log m) for n
        quantities and m levels. Sorted ``qtys`` run several times faster on large inputs
        (memory locality of the binary searches).

        Parameters
        ----------
        side : int or str
            +1 / "buy" or -1 / "sell".
        qtys : array_like
            Order sizes, coins, finite and > 0, any shape.
        partial : bool, default False
            False raises if any quantity exceeds the side; True gives such quantities the
            price of the deepest level (the last traded price of the partial fill).

        Returns
        -------
        ndarray
            USD per coin, same shape as ``qtys``.

        Raises
        ------
        InvalidInputError, InsufficientLiquidityError
        """
        s = check_side(side)
        q = np.asarray(check_positive("qtys", qtys), dtype=np.float64).ravel()
        shape = np.shape(qtys)
        self._nonempty_for(s, q)
        prices, _, cum_qty0, _ = self._levels(s)
        k = _stop_index(cum_qty0, q)
        beyond = k == prices.size
        if not partial:
            self._check_reach(s, q, beyond)
        np.minimum(k, prices.size - 1, out=k)
        return prices[k].reshape(shape)

    def cost_curve(self, side: Any, qtys: npt.ArrayLike, *, partial: bool = False) -> FloatArray:
        """USD notional of a market order of each quantity (vectorised).

        ``cost_curve(side, qtys)[j] == market_order(side, qtys[j]).notional`` exactly; a
        quantity of 0 costs 0.

        Parameters
        ----------
        side : int or str
            +1 / "buy" (USD paid) or -1 / "sell" (USD received).
        qtys : array_like
            Order sizes, coins, finite and >= 0, any shape.
        partial : bool, default False
            False raises if any quantity exceeds the side; True gives such quantities the
            notional of the whole side (what the partial fill would trade).

        Returns
        -------
        ndarray
            USD, same shape as ``qtys``.

        Raises
        ------
        InvalidInputError, InsufficientLiquidityError
        """
        s = check_side(side)
        q = np.asarray(check_nonnegative("qtys", qtys), dtype=np.float64).ravel()
        shape = np.shape(qtys)
        self._nonempty_for(s, q)
        w = _walk(*self._levels(s), q, False)
        if not partial:
            self._check_reach(s, q, w.beyond)
        return w.notional.reshape(shape)

    def walk(self, side: Any, amounts: npt.ArrayLike, *, by_notional: bool = False) -> Walk:
        """Where market orders of each amount stop: the rule behind every fill and curve.

        Orders larger than the whole side are not an error here: they take the whole side
        and are flagged ``beyond`` (callers such as the population cascade report the rest
        as unfilled). Vectorised: one ``searchsorted`` over the cumulative depth.

        Parameters
        ----------
        side : int or str
            +1 / "buy" (walks the asks) or -1 / "sell" (the bids).
        amounts : array_like
            Order sizes, 1-D: coins, or USD with ``by_notional=True``; finite and >= 0.
        by_notional : bool, default False
            Whether ``amounts`` are USD to spend (receive) rather than coins.

        Returns
        -------
        Walk
            ``k`` last level touched, ``full`` level k consumed, ``beyond`` larger than the
            side, ``take`` coins at level k, ``qty`` coins filled, ``notional`` USD.
        """
        s = check_side(side)
        a = np.atleast_1d(np.asarray(check_nonnegative("amounts", amounts), dtype=np.float64))
        if a.ndim != 1:
            raise InvalidInputError(f"amounts must be 1-D, got shape {a.shape}")
        self._nonempty_for(s, a)
        return _walk(*self._levels(s), a, by_notional)

    def cumulative_depth(self, side: Any) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Level prices with the cumulative coins and USD available up to each level.

        Parameters
        ----------
        side : int or str
            +1 / "buy" (the asks a buy would lift) or -1 / "sell" (the bids).

        Returns
        -------
        prices : ndarray
            Level prices in trading order, USD per coin.
        cum_qty : ndarray
            Coins resting at that level and all better ones.
        cum_notional : ndarray
            USD value of those coins (the cost of buying them all).

        All three arrays are read-only and empty if the side is empty.
        """
        prices, _, cum_qty0, cum_notional0 = self._levels(check_side(side))
        return prices, cum_qty0[1:], cum_notional0[1:]

    def qty_to_price(
        self,
        side: Any,
        prices: npt.ArrayLike,
        *,
        inclusive: bool = False,
        partial: bool = False,
    ) -> FloatArray:
        """Coins a market order must exceed to take the last traded price to each price.

        For a buy (side +1) and target ``P``, the result is ``Q = `` coins resting at ask
        prices strictly below ``P``. Then a buy of more than ``Q`` coins has a last traded
        price ``>= P`` and a buy of at most ``Q`` coins stays below ``P``: ``Q`` is the
        threshold, whether ``P`` is on a level or between two levels. Targets at or below
        the best ask give 0. For a sell, ``Q`` is the coins resting at bid prices strictly
        above ``P``; selling more than ``Q`` gives a last traded price ``<= P``.

        With ``inclusive=True`` the levels priced exactly at ``P`` are counted as well: ``Q``
        is then the quantity that clears the book *through* ``P`` (for a buy, afterwards the
        best ask is above ``P``), e.g. the calibrated book's ``qty`` for ``P = p1``.

        Parameters
        ----------
        side : int or str
            +1 / "buy" or -1 / "sell".
        prices : array_like
            Target prices, USD per coin, finite and > 0, any shape.
        inclusive : bool, default False
            Count the level at exactly ``P`` (see above).
        partial : bool, default False
            Targets beyond the deepest level (above the highest ask for a buy, below the
            lowest bid for a sell) cannot be reached by any quantity: False raises
            ``InsufficientLiquidityError`` (with the side's total depth as available), True
            returns ``inf`` for them.

        Returns
        -------
        ndarray
            Coins, same shape as ``prices``.

        Raises
        ------
        InvalidInputError, InsufficientLiquidityError
        """
        s = check_side(side)
        target = np.asarray(check_positive("prices", prices), dtype=np.float64)
        flat = target.ravel()
        levels, _, cum_qty0, _ = self._levels(s)
        if levels.size == 0:
            raise self._empty_side_error(s, np.inf, "coins")
        how = "right" if inclusive else "left"
        if s == 1:
            n_before = np.searchsorted(levels, flat, side=how)
            beyond = flat > levels[-1]
        else:
            n_before = np.searchsorted(self._bid_neg_prices, -flat, side=how)
            beyond = flat < levels[-1]
        if beyond.any() and not partial:
            worst = flat[beyond].max() if s == 1 else flat[beyond].min()
            err = InsufficientLiquidityError(_VERB[s], np.inf, cum_qty0[-1])
            err.args = (
                f"no {_VERB[s]} of any size reaches {worst:.8g} USD: the deepest "
                f"{_LABEL[s]} is at {levels[-1]:.8g} and the side holds only "
                f"{cum_qty0[-1]:,.6g} coins; pass partial=True to get inf for such prices",
            )
            raise err
        out = np.where(beyond, np.inf, cum_qty0[n_before])
        return out.reshape(target.shape)

    # ------------------------------------------------------------------ transformations

    def refill(self, reference: OrderBook, fraction: float) -> OrderBook:
        """Resilience: restore part of the liquidity consumed since ``reference``.

        Levels are matched by exact price. At every price of ``reference`` where this book
        holds fewer coins (``current``, 0 if the level is gone) than ``reference`` did
        (``ref``), the result holds ``current + fraction * (ref - current)``. Levels that
        grew, and levels absent from ``reference``, are kept as they are. ``fraction=0``
        returns this book's levels; ``fraction=1`` restores every depleted level to its
        reference size exactly.

        Parameters
        ----------
        reference : OrderBook
            The book before consumption (e.g. the book a sequence of fills started from).
        fraction : float
            Fraction of the consumed coins restored, in [0, 1].

        Returns
        -------
        OrderBook

        Raises
        ------
        InvalidInputError
            If ``fraction`` is outside [0, 1] or ``reference`` is not an OrderBook.
        BookError
            If the restored levels would cross the book (e.g. new bids above old asks).
        """
        if not isinstance(reference, OrderBook):
            raise InvalidInputError(
                f"reference must be an OrderBook, got {type(reference).__name__}"
            )
        f = check_scalar("fraction", fraction, check_fraction)
        bids = _refill_side(
            self.bid_prices, self.bid_sizes, reference.bid_prices, reference.bid_sizes, f
        )
        asks = _refill_side(
            self.ask_prices, self.ask_sizes, reference.ask_prices, reference.ask_sizes, f
        )
        try:
            return OrderBook(bids[0][::-1], bids[1][::-1], asks[0], asks[1])
        except BookError as exc:
            raise BookError(f"refill(fraction={f:g}) would give an invalid book: {exc}") from exc

    def mirrored(self, pivot: float | None = None) -> OrderBook:
        """Reflect the book around a price: bids become asks and ``p -> 2*pivot - p``.

        A sell on this book is then a buy on the mirrored book at reflected prices (and vice
        versa), which lets a downward cascade be studied as the mirror of an upward one.

        Parameters
        ----------
        pivot : float, optional
            Price reflected onto itself, USD per coin. Default the mid price.

        Returns
        -------
        OrderBook

        Raises
        ------
        BookError
            If a reflected price would be <= 0 (pivot must exceed half the highest price), or
            ``pivot`` is omitted and a side is empty.
        """
        c = self.mid if pivot is None else check_scalar("pivot", pivot, check_positive)
        try:
            return OrderBook(
                2.0 * c - self.ask_prices,
                self.ask_sizes,
                2.0 * c - self.bid_prices,
                self.bid_sizes,
            )
        except BookError as exc:
            raise BookError(
                f"cannot mirror around pivot={c!r}: {exc}; every reflected price 2*pivot - p "
                f"must stay > 0"
            ) from exc

    # ------------------------------------------------------------------ dunder

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OrderBook):
            return NotImplemented
        return all(
            np.array_equal(getattr(self, f), getattr(other, f))
            for f in ("bid_prices", "bid_sizes", "ask_prices", "ask_sizes")
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        def describe(prices: FloatArray, sizes: FloatArray) -> str:
            if prices.size == 0:
                return "empty"
            span = _fmt(prices[0]) if prices.size == 1 else f"{_fmt(prices[0])}..{_fmt(prices[-1])}"
            word = "level" if prices.size == 1 else "levels"
            return f"{prices.size} {word} {span} ({_fmt(float(sizes.sum()))} coins)"

        return (
            f"OrderBook(bids={describe(self.bid_prices, self.bid_sizes)}, "
            f"asks={describe(self.ask_prices, self.ask_sizes)})"
        )


def _refill_side(
    cur_prices: FloatArray,
    cur_sizes: FloatArray,
    ref_prices: FloatArray,
    ref_sizes: FloatArray,
    fraction: float,
) -> tuple[FloatArray, FloatArray]:
    """Merge one side (prices ascending in the result) and restore depleted levels."""
    grid = np.union1d(cur_prices, ref_prices)
    cur = np.zeros_like(grid)
    cur[np.searchsorted(grid, cur_prices)] = cur_sizes
    ref = np.zeros_like(grid)
    ref[np.searchsorted(grid, ref_prices)] = ref_sizes
    # fraction 1 restores the reference size bit-for-bit rather than cur + (ref - cur).
    restored = ref if fraction == 1.0 else cur + fraction * (ref - cur)
    sizes = np.where(cur < ref, restored, cur)
    keep = sizes > 0
    return grid[keep], sizes[keep]
