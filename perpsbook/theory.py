"""Cascade theory: branching ratio, small-shock multiplier, critical ignition.

Branching ratio
---------------
Near a price ``p``, a small extra buy of ``x`` coins lifts the price by ``x / D(p)`` USD,
where ``D(p)`` is the ask depth per USD of price (coins per USD). That move liquidates
``rho(p) * x / D(p)`` coins of shorts, ``rho(p)`` being the short-liquidation size per USD of
price (coins per USD), and each liquidated coin puts ``w + h`` coins of new buying on the
same ladder (``w`` the engine's pass-through, ``h`` the market maker's hedge ratio; see
:mod:`perpsbook.population`). One coin of buying thus begets

    R(p) = (w + h) * rho(p) / D(p)

coins of buying in the next generation: the branching ratio (with ``w = 1`` the article's
``(1 + h) rho / D``). Summing the generations, an ignition that alone would move the price
by ``dp`` moves it by ``dp * (1 + R + R**2 + ...) = dp / (1 - R)`` if ``R < 1`` is locally
constant (:func:`small_shock_multiplier`); at ``R >= 1`` (supercritical) the series diverges
and the cascade runs until ``R`` falls below 1 or the ladder of shorts or asks ends.

Estimation (documented bandwidth)
---------------------------------
Both densities are box-kernel estimates over the same price window
``W(p) = (p - b/2, p + b/2]`` of width ``b`` (the *bandwidth*, USD per coin; default 1 % of
the best price, :func:`default_bandwidth`):

* ``D(p)`` = coins resting on the ask levels priced in ``W(p)``, divided by ``b``: the
  difference of the book's cumulative depth at the window's ends;
* ``rho(p)`` = coins of the positions *triggered by* those levels, divided by ``b``. A
  liquidation price between two ask levels is triggered by the upper one (the first traded
  price at or above it, the cascade's exact trigger rule), so ``rho`` counts a position at
  the level that liquidates it.

Then ``R = (w + h) * (liquidated coins in W) / (ask coins in W)``: the window's width
cancels, and on a flat book with uniformly spread liquidation prices it is exactly
``(w + h) rho / D``. A window with no ask level holds no triggered liquidation either (the
price jumps such a gap; the positions in it count at the level above), so R is 0 there:
R is always finite, never NaN. A narrower window resolves more structure and is noisier;
it should span many levels and many positions.

Critical ignition
-----------------
The smallest ignition after which the cascade liquidates every position, exactly, from the
prefix maximum of the population fixed point (:func:`critical_ignition`): with ``G_k`` the
ignition level ``k`` needs beyond what the cascade brings itself, every position is
liquidated iff ``Q > max(G_0 .. G_j)``, ``j`` the level that triggers the last position.

For a crash (``side=-1``) read bids for asks, longs for shorts and "below" for "above".

Sources: the branching-process picture of self-exciting cascades (e.g. T. E. Harris, *The
Theory of Branching Processes*, Springer 1963; for markets, V. Filimonov and D. Sornette,
"Quantifying reflexivity in financial markets", Phys. Rev. E 85, 056108, 2012); the
article's ``(1 + h) rho / D`` is the issue's statement of it for this model.

Units: prices USD per coin, sizes coins, densities coins per USD, R dimensionless.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from perpsbook.book import OrderBook
from perpsbook.errors import (
    InvalidInputError,
    check_finite,
    check_fraction,
    check_positive,
    check_scalar,
    check_side,
)
from perpsbook.hedging import HEDGE_RATIO_MAX
from perpsbook.ladder import (
    DEFAULT_BANDWIDTH_FRACTION,
    Ladder,
    book_ladder,
    branching_ratios,
    check_rates,
    default_bandwidth,
    deficit,
    triggers,
    walk_cost,
    window_sums,
)

__all__ = [
    "DEFAULT_BANDWIDTH_FRACTION",
    "CriticalIgnition",
    "branching_ratio",
    "critical_ignition",
    "critical_ignition_scan",
    "default_bandwidth",
    "depth_density",
    "flat_market",
    "hedge_generations",
    "initial_R",
    "liquidation_density",
    "max_R_along_path",
    "small_shock_multiplier",
    "spot_passthrough",
    "truncated_multiplier",
    "two_market_branching_ratio",
    "two_market_critical_ignition",
]

FloatArray = npt.NDArray[np.float64]


def _bandwidth(book: OrderBook, side: int, bandwidth: Any) -> float:
    if bandwidth is None:
        return default_bandwidth(book, side=side)
    bw = check_positive("bandwidth", bandwidth)
    if np.ndim(bw):
        raise InvalidInputError(
            f"bandwidth must be a single number (USD per coin), got {bandwidth!r}"
        )
    return float(bw)


def _prices(lad: Ladder, prices: Any) -> tuple[FloatArray, FloatArray]:
    if prices is None:
        return lad.prices, lad.key
    p = np.asarray(check_positive("prices", prices), dtype=np.float64)
    return p, p * lad.side


def liquidation_density(
    book: OrderBook,
    liq_prices: Any,
    sizes: Any,
    prices: Any = None,
    *,
    bandwidth: float | None = None,
    side: int = 1,
) -> FloatArray:
    """Liquidation size per USD of price, ``rho(p)``, box kernel of width ``bandwidth``.

    Parameters
    ----------
    book : OrderBook
        Its levels define which level triggers each position (see the module docstring).
    liq_prices : array_like (N,) or LiquidationLadder
        USD per coin, > 0: shorts for ``side=+1``, longs for ``side=-1``.
    sizes : array_like (N,) or None
        Coins, > 0 (``None`` with a ladder).
    prices : array_like, optional
        Where to evaluate, USD per coin (any shape). Default: every level of the side.
    bandwidth : float, optional
        Window width, USD per coin, > 0 (default :func:`default_bandwidth`).
    side : int, default +1

    Returns
    -------
    ndarray
        Coins per USD, shape of ``prices``.
    """
    s = check_side(side)
    lad = book_ladder(book, s)
    bw = _bandwidth(book, s, bandwidth)
    trig = triggers(lad, liq_prices, sizes)
    _, key = _prices(lad, prices)
    d_liq, _ = window_sums(lad, trig.cum_size, key, bw)
    return d_liq / bw


def depth_density(
    book: OrderBook, prices: Any = None, *, bandwidth: float | None = None, side: int = 1
) -> FloatArray:
    """Ask depth per USD of price, ``D(p)`` (bid depth for ``side=-1``), box kernel.

    Parameters
    ----------
    book : OrderBook
    prices : array_like, optional
        USD per coin; default every level of the side.
    bandwidth : float, optional
        Window width, USD per coin, > 0.
    side : int, default +1

    Returns
    -------
    ndarray
        Coins per USD, shape of ``prices``.
    """
    s = check_side(side)
    lad = book_ladder(book, s)
    bw = _bandwidth(book, s, bandwidth)
    _, key = _prices(lad, prices)
    zero = np.zeros(lad.k)
    _, d_depth = window_sums(lad, zero, key, bw)
    return d_depth / bw


def branching_ratio(
    book: OrderBook,
    liq_prices: Any,
    sizes: Any,
    prices: Any = None,
    *,
    hedge_ratio: float,
    perp_passthrough: float = 1.0,
    bandwidth: float | None = None,
    side: int = 1,
) -> FloatArray:
    """``R(p) = (w + h) rho(p) / D(p)`` on a price grid (dimensionless).

    Parameters
    ----------
    book, liq_prices, sizes, prices, bandwidth, side
        As in :func:`liquidation_density`.
    hedge_ratio : float
        ``h`` in [0, 2].
    perp_passthrough : float, default 1.0
        ``w`` in [0, 1].

    Returns
    -------
    ndarray
        R at each price (shape of ``prices``; default every level); finite, >= 0.
    """
    s = check_side(side)
    w, h = check_rates(hedge_ratio, perp_passthrough)
    lad = book_ladder(book, s)
    bw = _bandwidth(book, s, bandwidth)
    trig = triggers(lad, liq_prices, sizes)
    _, key = _prices(lad, prices)
    d_liq, d_depth = window_sums(lad, trig.cum_size, key, bw)
    return branching_ratios(d_liq, d_depth, w + h)


def small_shock_multiplier(r: Any) -> Any:
    """``1 / (1 - R)``: total price move over the ignition's own move, for ``0 <= R < 1``.

    Parameters
    ----------
    r : float or array_like
        Branching ratio(s), dimensionless, finite, >= 0 and < 1.

    Returns
    -------
    float or ndarray

    Raises
    ------
    InvalidInputError
        ``R >= 1`` ("supercritical": the geometric series diverges, the cascade does not
        stop near the ignition), ``R < 0`` or NaN.
    """
    a = np.asarray(check_finite("R", r), dtype=np.float64)
    if np.any(a < 0):
        raise InvalidInputError(f"R must be >= 0, got {r!r}")
    if np.any(a >= 1):
        raise InvalidInputError(
            f"R = {float(np.max(a)):.6g} >= 1 is supercritical: each coin of buying begets at "
            f"least one more, 1/(1 - R) does not exist; the cascade runs until R falls below 1 "
            f"or the shorts or the asks run out (use population_cascade)"
        )
    out = 1.0 / (1.0 - a)
    return float(out) if out.ndim == 0 else out


def initial_R(
    book: OrderBook,
    liq_prices: Any,
    sizes: Any,
    *,
    hedge_ratio: float,
    perp_passthrough: float = 1.0,
    bandwidth: float | None = None,
    side: int = 1,
) -> float:
    """Branching ratio at the best price (best ask for a rocket), where every path starts.

    Parameters as in :func:`branching_ratio`. Returns a float (dimensionless).
    """
    s = check_side(side)
    lad = book_ladder(book, s)
    r = branching_ratio(
        book,
        liq_prices,
        sizes,
        lad.prices[:1],
        hedge_ratio=hedge_ratio,
        perp_passthrough=perp_passthrough,
        bandwidth=bandwidth,
        side=s,
    )
    return float(r[0])


def max_R_along_path(
    book: OrderBook,
    liq_prices: Any,
    sizes: Any,
    final_price: float,
    *,
    hedge_ratio: float,
    perp_passthrough: float = 1.0,
    bandwidth: float | None = None,
    side: int = 1,
) -> float:
    """Largest branching ratio over the levels from the best price to ``final_price``.

    Parameters
    ----------
    final_price : float
        USD per coin, > 0: where the path ends (e.g. ``PopulationResult.final_price``).
        At least the best level is always on the path.
    Others as in :func:`branching_ratio`.

    Returns
    -------
    float
        Dimensionless.
    """
    s = check_side(side)
    end = check_scalar("final_price", final_price, check_positive)
    r = branching_ratio(
        book,
        liq_prices,
        sizes,
        hedge_ratio=hedge_ratio,
        perp_passthrough=perp_passthrough,
        bandwidth=bandwidth,
        side=s,
    )
    lad = book_ladder(book, s)
    n = max(int(np.searchsorted(lad.key, s * end, side="right")), 1)
    return float(np.max(r[:n]))


@dataclass(frozen=True)
class CriticalIgnition:
    """The smallest ignition that liquidates every position.

    Attributes
    ----------
    qty : float
        Coins: the smallest float64 ignition for which
        :func:`perpsbook.population.population_cascade` liquidates all N positions (any
        larger one does too; ``threshold`` itself does not). ``inf`` if no ignition can (a
        liquidation price beyond the book's deepest level).
    threshold : float
        The exact boundary ``max(G_0 .. G_j)`` in coins: ignitions ``> threshold`` run
        through, ``<=`` stop short.
    notional : float
        USD that buying ``qty`` coins costs on the fresh book (``inf`` if unreachable; the
        whole side's USD if ``qty`` exceeds it).
    bottleneck_price : float
        USD per coin: the level where the cascade is hardest to push through (the argmax
        of ``G``); with slightly less ignition the cascade stalls just below it. The
        deepest level if unreachable.
    last_trigger_price : float
        The level that triggers the last position (USD per coin; the deepest level if
        unreachable).
    reachable : bool
        False if some liquidation price lies beyond the deepest level.
    """

    qty: float
    threshold: float
    notional: float
    bottleneck_price: float
    last_trigger_price: float
    reachable: bool


def critical_ignition(
    book: OrderBook,
    liq_prices: Any,
    sizes: Any,
    *,
    hedge_ratio: float,
    perp_passthrough: float = 1.0,
    side: int = 1,
) -> CriticalIgnition:
    """Smallest ignition (coins and USD) for which the cascade runs through the whole ladder.

    Exact, from the prefix maximum of the fixed point (module docstring): every position
    is liquidated iff the ignition exceeds ``max(G_0 .. G_j)``.

    Parameters
    ----------
    book, liq_prices, sizes, side
        As in :func:`perpsbook.population.population_cascade`.
    hedge_ratio : float
        ``h`` in [0, 2].
    perp_passthrough : float, default 1.0
        ``w`` in [0, 1].

    Returns
    -------
    CriticalIgnition
    """
    s = check_side(side)
    w, h = check_rates(hedge_ratio, perp_passthrough)
    lad = book_ladder(book, s)
    trig = triggers(lad, liq_prices, sizes)
    if trig.cum_count[-1] < trig.total_count:
        top = float(lad.prices[-1])
        return CriticalIgnition(math.inf, math.inf, math.inf, top, top, False)
    j = int(np.searchsorted(trig.cum_count, trig.total_count, side="left"))
    g = deficit(lad.cum, trig.cum_size, w + h)[: j + 1]
    at = int(np.argmax(g))
    threshold = float(g[at])
    qty = float(np.nextafter(threshold, np.inf))
    notional = float(walk_cost(lad, np.array([qty]))[0][0])
    return CriticalIgnition(
        qty=qty,
        threshold=threshold,
        notional=notional,
        bottleneck_price=float(lad.prices[at]),
        last_trigger_price=float(lad.prices[j]),
        reachable=True,
    )


# =========================================================================== two markets
#
# On two markets the engine's order and the hedge walk DIFFERENT books, so only the
# buying that reaches the book whose price triggers the liquidations feeds back. The
# derivation is in the docstring of two_market_branching_ratio.


def spot_passthrough(hedge_ratio: Any, arbitrage_share: Any = 0.0) -> Any:
    """Coins of spot buying per liquidated coin: ``s = a + h (1 - a)`` (dimensionless).

    The liquidation engine buys one perp coin per liquidated coin. A share ``a`` of it is
    sold by a basis arbitrageur, who buys one spot coin per perp coin at once; the rest,
    ``1 - a``, is sold by the market maker, who buys ``h`` spot coins per perp coin.

    Parameters
    ----------
    hedge_ratio : float or array_like
        ``h`` in [0, 2].
    arbitrage_share : float or array_like, default 0
        ``a`` in [0, 1].

    Returns
    -------
    float or ndarray
        ``s``; equal to ``h`` without arbitrage and to 1 when ``h = 1`` whatever ``a``.
    """
    h = np.asarray(check_fraction("hedge_ratio", hedge_ratio, upper=HEDGE_RATIO_MAX), float)
    a = np.asarray(check_fraction("arbitrage_share", arbitrage_share), dtype=np.float64)
    out = a + h * (1.0 - a)
    return float(out) if out.ndim == 0 else out


def _perp_cap(perp_depth: Any) -> float:
    if perp_depth is None:
        return math.inf
    if isinstance(perp_depth, OrderBook):
        if perp_depth.ask_prices.size == 0:
            raise InvalidInputError("perp_depth: the perp book has no asks to sell the engine")
        return float(perp_depth.total_ask_qty)
    cap = check_scalar("perp_depth", perp_depth, check_positive)
    return float(cap)


def two_market_branching_ratio(
    spot_book: OrderBook,
    liq_prices: Any,
    sizes: Any,
    prices: Any = None,
    *,
    hedge_ratio: float,
    arbitrage_share: float = 0.0,
    perp_depth: Any = None,
    bandwidth: float | None = None,
) -> FloatArray:
    """Branching ratio when the engine buys perp and the hedge buys spot (dimensionless).

    Derivation. Liquidations trigger on a mark that follows the spot index (the
    population mode of ``perpsbook.twomarket``, ``mark="index"``). A small extra spot
    buy of ``x`` coins lifts the index by ``x / D_s(p)`` (``D_s`` the spot ask depth per
    USD), which liquidates ``rho(p) x / D_s(p)`` coins of shorts. The engine buys those
    coins on the PERP book: that moves the perp price, not the index. Only the spot leg
    feeds back, ``s = a + h (1 - a)`` spot coins per liquidated coin
    (:func:`spot_passthrough`), so

        R_2(p) = s * rho(p) / D_s(p),

    against ``(w + h) rho / D`` on one ladder: the one-ladder depth ``D`` is replaced by
    ``D_s / s``, the spot depth per coin of spot that one liquidated coin sends. The perp
    book matters through its capacity: the market maker (and the arbitrageur) can sell
    the engine at most ``perp_depth`` coins; liquidations beyond that find no seller who
    hedges, and R is 0 once the coins liquidated up to ``p`` exceed it. Re-posting raises
    that cap (by the re-posted coins per stage); a mark that also weighs the perp price
    adds a perp channel ``theta * rho / D_perp`` this function leaves out.

    Parameters
    ----------
    spot_book : OrderBook
        The spot book (asks bought); USD per coin, coins.
    liq_prices, sizes, prices, bandwidth
        As in :func:`branching_ratio` (on the spot book).
    hedge_ratio : float
        ``h`` in [0, 2].
    arbitrage_share : float, default 0
        ``a`` in [0, 1]: share of the engine's perp buying sold by arbitrageurs.
    perp_depth : float or OrderBook, optional
        Coins the perp side can sell the engine (an OrderBook: its total ask size);
        default no cap.

    Returns
    -------
    ndarray
        R at each price (default every spot ask level); finite, >= 0.
    """
    s = spot_passthrough(
        check_scalar("hedge_ratio", hedge_ratio, check_fraction, upper=HEDGE_RATIO_MAX),
        check_scalar("arbitrage_share", arbitrage_share, check_fraction),
    )
    cap = _perp_cap(perp_depth)
    lad = book_ladder(spot_book, 1)
    bw = _bandwidth(spot_book, 1, bandwidth)
    trig = triggers(lad, liq_prices, sizes)
    _, key = _prices(lad, prices)
    d_liq, d_depth = window_sums(lad, trig.cum_size, key, bw)
    r = branching_ratios(d_liq, d_depth, s)
    if math.isfinite(cap):
        # coins liquidated once the level at or below p has traded
        at = np.searchsorted(lad.key, key, side="right") - 1
        below = np.where(at >= 1, trig.cum_size[np.maximum(at - 1, 0)], 0.0)
        r = np.where(below >= cap, 0.0, r)
    return r


def two_market_critical_ignition(
    spot_book: OrderBook,
    perp_book: OrderBook,
    liq_prices: Any,
    sizes: Any,
    *,
    hedge_ratio: float,
) -> CriticalIgnition:
    """Smallest spot ignition after which the two-market cascade liquidates every short.

    Exact for ``perpsbook.twomarket.two_market_population`` (mark = index, no
    arbitrage, refill or re-posting): spot level ``k`` trades iff the ignition (coins)
    exceeds every ``G_j``, ``j <= k``, with

        G_k = S_{k-1} / (1 - eps) - h * min(C_{k-1}, D_perp),

    ``S`` the spot book's cumulative ask depth, ``C`` the coins liquidated once a spot
    level has traded and ``D_perp`` the perp book's ask depth (the coins the market
    maker can sell the engine, hence hedge). Compare :func:`critical_ignition`, where
    the load is ``w + h`` on ONE ladder and there is no cap.

    Parameters
    ----------
    spot_book, perp_book : OrderBook
        USD per coin, coins; asks non-empty.
    liq_prices, sizes : array_like (N,)
        The shorts' liquidation prices (USD per coin) and sizes (coins).
    hedge_ratio : float
        ``h`` in [0, 2].

    Returns
    -------
    CriticalIgnition
        ``qty`` in coins of spot (``threshold * (1 + 1e-12)``: ignitions above the
        threshold run through, the engine's float sum needs the margin), ``notional``
        its USD on the fresh spot book.
    """
    h = check_scalar("hedge_ratio", hedge_ratio, check_fraction, upper=HEDGE_RATIO_MAX)
    if not isinstance(perp_book, OrderBook):
        raise InvalidInputError(f"perp_book must be an OrderBook, got {type(perp_book).__name__}")
    cap = _perp_cap(perp_book)
    lad = book_ladder(spot_book, 1)
    trig = triggers(lad, liq_prices, sizes)
    if trig.cum_count[-1] < trig.total_count:
        top = float(lad.prices[-1])
        return CriticalIgnition(math.inf, math.inf, math.inf, top, top, False)
    j = int(np.searchsorted(trig.cum_count, trig.total_count, side="left"))
    g = deficit(lad.cum, np.minimum(trig.cum_size, cap), h)[: j + 1]
    at = int(np.argmax(g))
    threshold = float(g[at])
    # The engine adds the hedge to the ignition before it walks the spot book; a
    # relative 1e-12 above the boundary survives the rounding of that sum.
    qty = threshold * (1.0 + 1e-12) if threshold > 0 else float(np.nextafter(0.0, 1.0))
    notional = float(walk_cost(lad, np.array([qty]))[0][0])
    return CriticalIgnition(
        qty=qty,
        threshold=threshold,
        notional=notional,
        bottleneck_price=float(lad.prices[at]),
        last_trigger_price=float(lad.prices[j]),
        reachable=True,
    )


def _int_array(name: str, value: Any, lowest: int) -> npt.NDArray[np.int64]:
    if isinstance(value, (bool, np.bool_)):
        raise InvalidInputError(f"{name} must be integers >= {lowest}, got {value!r}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):  # ragged nested lists
        arr = np.asarray([None])
    if arr.dtype.kind not in "iu" or np.any(arr < lowest):
        raise InvalidInputError(f"{name} must be integers >= {lowest}, got {value!r}")
    return arr.astype(np.int64)


def truncated_multiplier(r: Any, generations: Any) -> Any:
    """``1 + R + ... + R**(n-1) = (1 - R**n) / (1 - R)``: the multiplier after ``n`` waves.

    A hedge lag of ``L`` stages makes each generation of the cascade take ``L + 1``
    stages (:func:`hedge_generations`); a run cut after a finite number of stages sums
    only the first generations. Finite for every ``R >= 0``, also supercritical ones
    (``n`` at ``R = 1``), and it tends to :func:`small_shock_multiplier` as ``n`` grows.

    Parameters
    ----------
    r : float or array_like
        Branching ratio(s), finite, >= 0.
    generations : int or array_like of int
        ``n >= 0`` (0 gives 0: not even the ignition's own move).

    Returns
    -------
    float or ndarray
    """
    a = np.asarray(check_finite("R", r), dtype=np.float64)
    if np.any(a < 0):
        raise InvalidInputError(f"R must be >= 0, got {r!r}")
    n = _int_array("generations", generations, 0)
    a, n = np.broadcast_arrays(a, n.astype(np.float64))
    near = np.abs(a - 1.0) < 1e-12
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out = np.where(near, n, (1.0 - a**n) / np.where(near, 1.0, 1.0 - a))
    out = np.asarray(out, dtype=np.float64)
    return float(out) if out.ndim == 0 else out


def hedge_generations(max_stages: Any, lag: Any) -> Any:
    """Generations of liquidations whose hedges land within ``max_stages`` stages.

    Stage 0 is the ignition; a liquidation at stage ``k`` is hedged at stage ``k + L``
    and the index it moves triggers the next generation at stage ``k + L + 1``. The
    hedge of generation ``g`` (1-based) lands at stage ``g (L + 1)``, so
    ``n = max_stages // (L + 1)``.

    Parameters
    ----------
    max_stages : int or array_like of int
        Stages after the ignition, >= 1.
    lag : int or array_like of int
        Hedge lag ``L``, stages, >= 0.

    Returns
    -------
    int or ndarray of int
    """
    m = _int_array("max_stages", max_stages, 1)
    lag_ = _int_array("lag", lag, 0)
    out = m // (lag_ + 1)
    return int(out) if out.ndim == 0 else out


_FLAT_MAX_POSITIONS = 10_000_000
"""Most shorts :func:`flat_market` builds (span * price / tick levels x positions per tick)."""


def flat_market(
    *,
    price: float = 100.0,
    tick: float = 0.01,
    depth_per_usd: float = 1_000.0,
    r_target: float = 0.5,
    load: float = 2.0,
    span: float = 0.2,
    positions_per_tick: int = 5,
) -> tuple[OrderBook, FloatArray, FloatArray]:
    """A market where R is the same at every price: flat book, evenly spread shorts.

    The book has ``depth_per_usd * tick`` coins every ``tick`` USD above ``price`` (and as
    many bids below) for ``span * price`` USD; the shorts' liquidation prices are spread
    evenly, ``positions_per_tick`` per tick, over the first 90 % of that range, sized so
    that ``load * rho / D = r_target``.

    Parameters
    ----------
    price : float
        Mid, USD per coin, > 0.
    tick : float
        Level spacing, USD per coin, > 0.
    depth_per_usd : float
        ``D``, coins per USD, > 0.
    r_target : float
        The branching ratio the population gives under ``load``, >= 0.
    load : float
        Coins of buying on the trigger book per liquidated coin (``w + h`` on one
        ladder, ``s`` on two markets), > 0.
    span : float
        Height of the ask side as a fraction of ``price``, in (0, 1].
    positions_per_tick : int
        >= 1; ``span * price / tick * positions_per_tick`` must be <= 10 million.

    Returns
    -------
    (OrderBook, ndarray, ndarray)
        The book, the liquidation prices (USD per coin) and sizes (coins).
    """
    p = check_scalar("price", price, check_positive)
    t = check_scalar("tick", tick, check_positive)
    d = check_scalar("depth_per_usd", depth_per_usd, check_positive)
    r = check_scalar("r_target", r_target, check_finite)
    if r < 0:
        raise InvalidInputError(f"r_target must be >= 0, got {r_target!r}")
    ld = check_scalar("load", load, check_positive)
    sp = check_scalar("span", span, check_positive)
    if sp > 1:
        raise InvalidInputError(f"span must be in (0, 1], got {span!r}")
    if (
        isinstance(positions_per_tick, (bool, np.bool_))
        or not isinstance(positions_per_tick, (int, np.integer))
        or positions_per_tick < 1
    ):
        raise InvalidInputError(
            f"positions_per_tick must be an integer >= 1, got {positions_per_tick!r}"
        )
    # levels x positions bounds the arrays' memory (a subnormal tick would ask for inf)
    levels = sp * p / t
    if positions_per_tick > _FLAT_MAX_POSITIONS or not (
        levels * int(positions_per_tick) <= _FLAT_MAX_POSITIONS
    ):
        raise InvalidInputError(
            f"span * price / tick * positions_per_tick must be <= {_FLAT_MAX_POSITIONS:,}, "
            f"got span={span!r}, price={price!r}, tick={tick!r}, "
            f"positions_per_tick={positions_per_tick!r}"
        )
    n_levels = max(round(levels), 2)
    book = OrderBook.flat_ladder(p, t, d * t, n_levels)
    step = t / positions_per_tick
    n = int(0.9 * n_levels * positions_per_tick)
    liq = book.best_ask + step * np.arange(n, dtype=np.float64)
    rho = r * d / ld  # coins per USD of liquidation prices
    if not np.isfinite(rho * step):
        raise InvalidInputError(
            f"r_target * depth_per_usd / load overflows ({r!r} * {d!r} / {ld!r}): use a "
            f"larger load or a smaller depth"
        )
    sizes = np.full(n, max(rho * step, 0.0))
    if r == 0:
        sizes = np.full(n, 1e-12 * d * t)  # a population that is there but feeds nothing
    return book, liq, sizes


def critical_ignition_scan(
    book: OrderBook,
    liq_prices: Any,
    sizes: Any,
    *,
    hedge_ratio: float,
    depth_scales: Any = 1.0,
    short_scales: Any = 1.0,
    perp_passthrough: float = 1.0,
) -> tuple[FloatArray, FloatArray]:
    """Critical ignition over scaled books and scaled short interest, vectorised.

    A depth scale ``d`` multiplies every ask level (``d`` times the coins at each
    price), a short scale ``c`` every position's size, as in
    :func:`perpsbook.population.sweep`. For each pair the threshold is
    ``max_k (d S_{k-1} / (1 - eps) - (w + h) c C_{k-1})`` up to the level of the last
    short, exactly as :func:`critical_ignition` computes it for one book.

    Parameters
    ----------
    book, liq_prices, sizes, hedge_ratio, perp_passthrough
        As in :func:`critical_ignition` (rocket side).
    depth_scales, short_scales : float or array_like
        > 0 and >= 0; broadcast against each other.

    Returns
    -------
    (ndarray, ndarray)
        Critical ignition in coins and its USD on the scaled fresh book (``inf`` where
        a short lies beyond the deepest level), shape of the broadcast scales.
    """
    w, h = check_rates(hedge_ratio, perp_passthrough)
    d = np.asarray(check_positive("depth_scales", depth_scales), dtype=np.float64)
    c = np.asarray(check_finite("short_scales", short_scales), dtype=np.float64)
    if np.any(c < 0):
        raise InvalidInputError(f"short_scales must be >= 0, got {short_scales!r}")
    d, c = np.broadcast_arrays(d, c)
    lad = book_ladder(book, 1)
    trig = triggers(lad, liq_prices, sizes)
    if trig.cum_count[-1] < trig.total_count:
        inf = np.full(d.shape, math.inf)
        return inf, inf.copy()
    j = int(np.searchsorted(trig.cum_count, trig.total_count, side="left"))
    base = deficit(lad.cum, np.zeros_like(trig.cum_size), 0.0)[: j + 1]  # S / (1 - eps)
    load = deficit(np.zeros_like(lad.cum), trig.cum_size, -1.0)[: j + 1]  # C_{k-1}
    g = d.reshape(-1, 1) * base - ((w + h) * c).reshape(-1, 1) * load
    thr = np.max(g, axis=1)
    qty = np.nextafter(thr, np.inf)
    usd = d.ravel() * walk_cost(lad, qty / d.ravel())[0]
    return qty.reshape(d.shape), usd.reshape(d.shape)
