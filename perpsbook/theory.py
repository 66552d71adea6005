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
    check_positive,
    check_scalar,
    check_side,
)
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
    "default_bandwidth",
    "depth_density",
    "initial_R",
    "liquidation_density",
    "max_R_along_path",
    "small_shock_multiplier",
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
