"""Funding: impact prices, premium index, funding rate, payments and the basis trade.

A perpetual never expires, so something else must tie its price to spot. That something is
funding: every interval (8 h by default on Binance) one side pays the other
``size * mark_price * rate`` USD. When the perp trades above the index the rate is positive
and longs pay shorts, which pays someone to sell the perp and buy spot — the cash-and-carry
(basis) trade — and that spot then sits in a hedge instead of on the order book.

Venue rules (Binance USDⓈ-M)
----------------------------
SOURCE: Binance, "Introduction to Binance Futures Funding Rates",
https://www.binance.com/en/support/faq/360033525031 (also served as
``/en/support/faq/detail/360033525031``), and Binance, "Important Updates on Funding Rate
Formula and Mark Price" (effective 2025-09-18 08:01 UTC). The text below was read through
copies quoted verbatim in public research notes, not fetched from binance.com directly.

* Impact Margin Notional ``IMN = 200 USDT / initial margin rate at the maximum leverage``
  (published example: BTCUSDT, 125x, IMR 0.8 % -> IMN 25,000 USDT).
* Impact bid (ask) price = average fill price to execute IMN against the bids (asks).
* Premium index ``P = [max(0, impact bid - index) - max(0, index - impact ask)] / index``,
  sampled every 5 s (5,760 samples per 8 h).
* Average premium ``P_avg = (1 P_1 + 2 P_2 + ... + n P_n) / (1 + 2 + ... + n)``: later samples
  weigh more. (Symbols on a 1 h interval use an equal-weight mean.)
* Funding rate ``F = [P_avg + clamp(I - P_avg, -0.05 %, +0.05 %)] / (8 / N)`` with interest
  ``I = 0.01 %`` per interval (0.03 %/day) and ``N`` the interval in hours; the ``/(8/N)``
  factor was added on 2025-09-18 and is 1 for 8-hour symbols. Published consequence: while
  ``P_avg`` lies in [-0.04 %, +0.06 %] the rate equals the interest rate, 0.01 %.
* Cap/floor: ``Cap = 0.75 * MMR``, ``Floor = -0.75 * MMR`` (MMR = maintenance margin rate at
  the maximum-leverage tier) for a listed set of majors; ``±2 %`` for the other USDⓈ-M perps;
  Binance may adjust either (up to ±100 %). Live values reported from ``GET
  /fapi/v1/fundingInfo``: BTCUSDT ±0.300 % (= 0.75 * 0.40 %), DOGE ±0.4875 % (= 0.75 * 0.65 %).
* Payment: ``Funding Amount = Nominal Value of Positions x Funding Rate`` with nominal value
  ``= mark price x size``; positive rate: longs pay shorts; Binance takes no cut.

Units: prices USD (USDT) per coin, sizes coins, notional USD, rates fractions per funding
interval (``0.0001`` = 0.01 %).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from perpsbook.errors import (
    BookError,
    InsufficientLiquidityError,
    InvalidInputError,
    as_float_array,
    check_finite,
    check_fraction,
    check_nonnegative,
    check_positive,
    check_scalar,
    check_side,
    side_array,
)

__all__ = [
    "CAP_MULTIPLIER",
    "DEFAULT_FUNDING_CAP",
    "IMPACT_MARGIN_USDT",
    "INTEREST_RATE_8H",
    "OTHERS_FUNDING_CAP",
    "PREMIUM_CLAMP",
    "PREMIUM_SAMPLES_8H",
    "BasisTradeResult",
    "annualised",
    "average_premium",
    "basis_trade_pnl",
    "free_float",
    "funding_cap_from_mmr",
    "funding_payment",
    "funding_payments",
    "funding_rate",
    "impact_margin_notional",
    "impact_price",
    "impact_prices",
    "impact_prices_from_book",
    "locked_spot",
    "premium_index",
]

IMPACT_MARGIN_USDT = 200.0
"""USD of margin whose notional at maximum leverage sets the impact depth (Binance)."""

INTEREST_RATE_8H = 0.0001
"""Binance default interest component: 0.01 % per 8-hour interval (0.03 % per day)."""

PREMIUM_CLAMP = 0.0005
"""Half-width of the dampener band around the interest rate: ±0.05 % (Binance)."""

DEFAULT_FUNDING_CAP = 0.0075
"""Default cap used here: 0.75 x a 1 % MMR (a 50x-max contract). Not a venue-wide constant."""

CAP_MULTIPLIER = 0.75
"""Binance cap = 0.75 x maintenance margin rate for the listed majors."""

OTHERS_FUNDING_CAP = 0.02
"""Binance cap/floor (±2 %) for USDⓈ-M perpetuals outside the listed majors."""

PREMIUM_SAMPLES_8H = 5760
"""Premium-index samples per 8-hour interval (one every 5 seconds)."""


# --------------------------------------------------------------------------- helpers
def _broadcast(**arrays: Any) -> list[Any]:
    """Broadcast named inputs, naming them in the error if their shapes do not fit."""
    try:
        return list(
            np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in arrays.values()))
        )
    except ValueError as exc:
        shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in arrays.items())
        raise InvalidInputError(
            f"arguments do not broadcast together: {shapes}; give scalars or arrays of one length"
        ) from exc


def _finite_out(name: str, out: Any) -> Any:
    """``out`` as float / ndarray; raise if finite inputs overflowed float64 (never +-inf)."""
    arr = np.asarray(out, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(
            f"{name} overflows float64 (|value| > 1.8e308) for these inputs; rescale them"
        )
    return float(arr) if arr.ndim == 0 else arr


# --------------------------------------------------------------------------- impact prices


def impact_margin_notional(
    initial_margin_rate: Any, impact_margin: float = IMPACT_MARGIN_USDT
) -> Any:
    """Impact Margin Notional: how deep into the book the impact prices look.

    ``IMN = impact_margin / initial_margin_rate`` (SOURCE: Binance FAQ 360033525031, e.g.
    BTCUSDT at 125x: 200 / 0.8 % = 25,000 USDT).

    Parameters
    ----------
    initial_margin_rate : float or array
        Initial margin rate at the contract's maximum leverage, a fraction in (0, 1]
        (``1 / max_leverage``).
    impact_margin : float
        USD of margin; 200 on Binance USDⓈ-M.

    Returns
    -------
    float or ndarray
        Impact margin notional in USD.
    """
    imr = check_positive("initial_margin_rate", initial_margin_rate)
    if not np.all(np.asarray(imr) <= 1.0):
        raise InvalidInputError(
            f"initial_margin_rate must lie in (0, 1], got {initial_margin_rate!r}"
        )
    margin = check_positive("impact_margin", impact_margin)
    with np.errstate(over="ignore"):
        out = margin / np.asarray(imr)
    return _finite_out("impact_margin_notional", out)


_NOTIONAL_RTOL = 1e-9


def _levels(
    name: str, prices: Any, sizes: Any
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    p = np.atleast_1d(check_positive(f"{name} prices", prices))
    q = np.atleast_1d(check_positive(f"{name} sizes", sizes))
    if p.ndim != 1 or q.ndim != 1 or p.shape != q.shape:
        raise BookError(
            f"{name} prices and sizes must be 1-D arrays of equal length, got shapes "
            f"{p.shape} and {q.shape}"
        )
    return p, q


def _fill_prices(
    prices: npt.NDArray[np.float64],
    sizes: npt.NDArray[np.float64],
    notional: Any,
    side_name: str,
) -> Any:
    """Average fill price of spending/receiving ``notional`` USD against the levels in order."""
    usd = check_positive("impact_notional", notional)
    cum_notional = np.cumsum(prices * sizes)
    cum_qty = np.cumsum(sizes)
    available = float(cum_notional[-1]) if len(prices) else 0.0
    biggest = float(np.max(usd))
    # The side's total, summed in another order, can differ from cum_notional[-1] in the
    # last bits: asking for "everything" must not fail on that.
    if biggest > available * (1.0 + _NOTIONAL_RTOL):
        raise InsufficientLiquidityError(side_name, biggest, available, unit="USD")
    n = np.minimum(np.asarray(usd), available)
    k = np.searchsorted(cum_notional, n, side="left")
    k = np.minimum(k, len(prices) - 1)  # n == available up to rounding lands on the last level
    prev_notional = np.where(k > 0, cum_notional[np.maximum(k - 1, 0)], 0.0)
    prev_qty = np.where(k > 0, cum_qty[np.maximum(k - 1, 0)], 0.0)
    qty = prev_qty + (n - prev_notional) / prices[k]
    # a notional so small that its coins underflow to 0 fills at the first level's price
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.where(qty > 0, n / np.where(qty > 0, qty, 1.0), prices[k])
    return float(out) if out.ndim == 0 else out


def impact_price(prices: Any, sizes: Any, impact_notional: Any) -> Any:
    """Average fill price of a market order for ``impact_notional`` USD against one side.

    The levels are walked best-first, as a market order would take them: pass asks in
    ascending price order (a buy) or bids in descending order (a sell). SOURCE for the
    definition: Binance FAQ 360033525031 ("the average fill price to execute the Impact
    Margin Notional").

    Parameters
    ----------
    prices : array_like
        Level prices, USD per coin, strictly monotonic (best first).
    sizes : array_like
        Coins resting at each level, > 0.
    impact_notional : float or array
        USD notional to execute, > 0. An array gives one impact price per notional.

    Returns
    -------
    float or ndarray
        Average fill price, USD per coin (``notional / coins filled``).

    Raises
    ------
    InsufficientLiquidityError
        If the levels hold less than the notional asked for.
    BookError
        If prices are not strictly monotonic or shapes differ.
    """
    p, q = _levels("level", prices, sizes)
    steps = np.diff(p)
    if np.all(steps > 0):
        side_name = "buy" if len(p) > 1 else "fill"
    elif np.all(steps < 0):
        side_name = "sell"
    else:
        raise BookError(
            "level prices must be strictly monotonic, best first (asks ascending, bids "
            f"descending), got {p.tolist()[:8]}"
        )
    return _fill_prices(p, q, impact_notional, side_name)


def impact_prices(
    bid_prices: Any,
    bid_sizes: Any,
    ask_prices: Any,
    ask_sizes: Any,
    impact_notional: Any,
) -> tuple[Any, Any]:
    """Impact bid and impact ask prices of a book given as plain arrays.

    Parameters
    ----------
    bid_prices, bid_sizes : array_like
        Bids, USD per coin strictly descending, and coins > 0.
    ask_prices, ask_sizes : array_like
        Asks, USD per coin strictly ascending, and coins > 0.
    impact_notional : float or array
        USD notional executed on each side (Binance: the IMN, see
        :func:`impact_margin_notional`).

    Returns
    -------
    (impact_bid, impact_ask) : tuple of float or ndarray
        Average fill prices in USD per coin for selling into the bids and buying the asks.

    Raises
    ------
    BookError
        Unsorted or crossed levels (best bid >= best ask).
    InsufficientLiquidityError
        If either side holds less than the notional.
    """
    bp, bq = _levels("bid", bid_prices, bid_sizes)
    ap, aq = _levels("ask", ask_prices, ask_sizes)
    if not np.all(np.diff(bp) < 0):
        raise BookError(f"bid prices must be strictly descending, got {bp.tolist()[:8]}")
    if not np.all(np.diff(ap) > 0):
        raise BookError(f"ask prices must be strictly ascending, got {ap.tolist()[:8]}")
    if bp.size and ap.size and bp[0] >= ap[0]:
        raise BookError(f"book is crossed: best bid {bp[0]!r} >= best ask {ap[0]!r}")
    return (
        _fill_prices(bp, bq, impact_notional, "sell"),
        _fill_prices(ap, aq, impact_notional, "buy"),
    )


def impact_prices_from_book(book: Any, impact_notional: Any) -> tuple[Any, Any]:
    """Impact bid and ask prices of an order book object.

    Thin wrapper over :func:`impact_prices` for anything exposing ``bid_prices``,
    ``bid_sizes``, ``ask_prices``, ``ask_sizes`` arrays — :class:`perpsbook.book.OrderBook`
    does. The book is not modified.

    Parameters
    ----------
    book : OrderBook-like
        Book whose current levels are used.
    impact_notional : float or array
        USD notional executed on each side.

    Returns
    -------
    (impact_bid, impact_ask) : tuple of float or ndarray
        USD per coin.
    """
    try:
        arrays = (book.bid_prices, book.bid_sizes, book.ask_prices, book.ask_sizes)
    except AttributeError as exc:
        raise InvalidInputError(
            "book must expose bid_prices, bid_sizes, ask_prices and ask_sizes arrays, got "
            f"{type(book).__name__}"
        ) from exc
    return impact_prices(*arrays, impact_notional)


# --------------------------------------------------------------------------- premium & rate


def premium_index(impact_bid: Any, impact_ask: Any, index: Any) -> Any:
    """Premium index of the perp over the spot index (Binance formula).

    ``P = [max(0, impact_bid - index) - max(0, index - impact_ask)] / index``. Zero while the
    index lies between the impact prices; positive when even a seller of IMN would receive
    more than the index (perp rich); negative when a buyer of IMN pays less (perp cheap).
    SOURCE: Binance FAQ 360033525031.

    Parameters
    ----------
    impact_bid, impact_ask : float or array
        Impact bid and ask prices, USD per coin, > 0, with ``impact_bid <= impact_ask``.
    index : float or array
        Spot price index, USD per coin, > 0.

    Returns
    -------
    float or ndarray
        Premium as a fraction of the index (broadcast shape of the inputs).
    """
    bid = check_positive("impact_bid", impact_bid)
    ask = check_positive("impact_ask", impact_ask)
    idx = check_positive("index", index)
    bid, ask, idx = _broadcast(impact_bid=bid, impact_ask=ask, index=idx)
    if not np.all(bid <= ask):
        raise InvalidInputError(
            "impact_bid must be <= impact_ask (an average sell price cannot exceed an average "
            f"buy price on an uncrossed book), got impact_bid={impact_bid!r}, "
            f"impact_ask={impact_ask!r}"
        )
    with np.errstate(over="ignore"):
        out = (np.maximum(0.0, bid - idx) - np.maximum(0.0, idx - ask)) / idx
    return _finite_out("premium_index", out)


def average_premium(premiums: Any, weights: Any = None) -> Any:
    """Time-weighted average premium over one funding interval.

    Binance weights the i-th of n samples by i:
    ``P_avg = sum(i * P_i) / sum(i)`` (SOURCE: Binance FAQ 360033525031), so the samples
    nearest settlement count most. Pass ``weights=np.ones(n)`` for the equal-weight mean
    Binance uses on 1-hour symbols.

    Parameters
    ----------
    premiums : array_like
        Premium samples (fractions), oldest first, along the last axis; at least one.
    weights : array_like, optional
        Non-negative weights of length n with a positive sum; default ``1, 2, ..., n``.

    Returns
    -------
    float or ndarray
        Average premium (fraction); one value per row for 2-D input.
    """
    p = check_finite("premiums", premiums)
    p = np.atleast_1d(p)
    n = p.shape[-1]
    if n == 0:
        raise InvalidInputError("premiums must contain at least one sample, got none")
    if weights is None:
        w = np.arange(1, n + 1, dtype=np.float64)
    else:
        w = np.atleast_1d(check_nonnegative("weights", weights))
        if w.shape != (n,):
            raise InvalidInputError(
                f"weights must have shape ({n},) to match premiums, got {w.shape}"
            )
        if not w.sum() > 0:
            raise InvalidInputError(f"weights must have a positive sum, got {w.tolist()[:8]}")
    out = (p @ w) / w.sum()
    return float(out) if np.ndim(out) == 0 else out


def funding_rate(
    premium: Any,
    interest_rate: float = INTEREST_RATE_8H,
    clamp: float = PREMIUM_CLAMP,
    cap: float = DEFAULT_FUNDING_CAP,
    floor: float | None = None,
    *,
    interval_hours: float = 8.0,
) -> Any:
    """Funding rate per interval from the average premium (Binance USDⓈ-M formula).

    ``F = [P + clamp(I - P, -clamp, +clamp)] / (8 / interval_hours)``, then
    ``F = clip(F, floor, cap)``. Inside the band ``|I - P| <= clamp`` the rate is exactly
    ``I`` (Binance: "as long as the premium index is between -0.04 % to 0.06 %, the funding
    rate will equal 0.01 %"); outside it the rate follows the premium, ``clamp`` closer to
    ``I``. SOURCE: Binance FAQ 360033525031 and the 2025-09-18 formula update (the ``8/N``
    divisor); cap rule ``±0.75 x MMR`` for the listed majors, ``±2 %`` for the rest — see
    :func:`funding_cap_from_mmr`. The cap is a venue rule and is applied openly: compare
    with the uncapped rate (``cap=np.inf``) to see when it binds.

    Parameters
    ----------
    premium : float or array
        Average premium index over the interval (fraction), see :func:`average_premium`.
    interest_rate : float
        Interest component per 8-hour interval (fraction); Binance default 0.0001.
    clamp : float
        Half-width of the dampener band (fraction), >= 0; Binance 0.0005.
    cap : float
        Maximum rate per interval (fraction), > 0; ``np.inf`` disables the cap.
    floor : float, optional
        Minimum rate per interval (fraction); default ``-cap``. Must be < cap.
    interval_hours : float
        Funding interval in hours (8, 4, 2 or 1 on Binance).

    Returns
    -------
    float or ndarray
        Funding rate per interval (fraction). Positive: longs pay shorts.
    """
    p = check_finite("premium", premium)
    i = check_finite("interest_rate", interest_rate)
    c = check_nonnegative("clamp", clamp)
    hours = check_positive("interval_hours", interval_hours)
    if np.ndim(i) or np.ndim(c) or np.ndim(hours):
        raise InvalidInputError("interest_rate, clamp and interval_hours must be scalars")
    cap_f = _rate_bound("cap", cap)
    if not cap_f > 0:
        raise InvalidInputError(f"cap must be > 0, got {cap!r}")
    floor_f = -cap_f if floor is None else _rate_bound("floor", floor)
    if not floor_f < cap_f:
        raise InvalidInputError(f"floor must be < cap, got floor={floor!r}, cap={cap!r}")
    gap = i - np.asarray(p)
    # Inside the band Binance's formula is P + (I - P) = I; return I itself so the
    # "rate equals the interest rate" plateau is exact rather than off by rounding.
    raw = np.where(np.abs(gap) <= c, i, np.asarray(p) + np.clip(gap, -c, c))
    out = np.clip(raw / (8.0 / hours), floor_f, cap_f)
    return float(out) if np.ndim(out) == 0 else out


def _rate_bound(name: str, value: Any) -> float:
    # one real number; +-inf allowed (an infinite cap disables it), NaN refused below
    v = check_scalar(name, value, as_float_array)
    if math.isnan(v):
        raise InvalidInputError(f"{name} must not be NaN, got {value!r}")
    return v


def funding_cap_from_mmr(mmr: Any, multiplier: float = CAP_MULTIPLIER) -> Any:
    """Binance funding-rate cap for a listed major: ``multiplier x MMR`` (floor = -cap).

    SOURCE: Binance FAQ 360033525031 ("Cap = 0.75 * Maintenance Margin Ratio"; MMR at the
    maximum-leverage tier). Examples: BTCUSDT MMR 0.40 % -> ±0.30 %; ADAUSDT (75x, IMR 1.3 %,
    MMR 0.65 %) -> ±0.4875 %. Binance has raised the multiplier to 1 for some contracts
    under stress (e.g. SOLUSDT, November 2022). Perps outside the list use ±2 %
    (:data:`OTHERS_FUNDING_CAP`).

    Parameters
    ----------
    mmr : float or array
        Maintenance margin rate (fraction) at the maximum-leverage tier, in (0, 1].
    multiplier : float
        Cap multiplier, > 0 (Binance 0.75).

    Returns
    -------
    float or ndarray
        Cap per funding interval (fraction).
    """
    m = check_positive("mmr", mmr)
    if not np.all(np.asarray(m) <= 1.0):
        raise InvalidInputError(f"mmr must lie in (0, 1], got {mmr!r}")
    return check_positive("multiplier", multiplier) * m


# --------------------------------------------------------------------------- payments


def funding_payment(side: Any, size: Any, mark_price: Any, rate: Any) -> Any:
    """Funding paid by a position at one settlement, in USD (positive = the position pays).

    ``payment = side * size * mark_price * rate``: with a positive rate longs pay and shorts
    receive, with a negative rate the reverse. A long and a short of the same size pay
    exactly opposite amounts — funding is zero-sum between traders, the venue keeps
    nothing. SOURCE: Binance FAQ 360033525031 ("Funding Amount = Nominal Value of Positions
    x Funding Rate", nominal value at the mark price).

    Parameters
    ----------
    side : int, str or array
        +1 / "long" or -1 / "short" (array: one per position).
    size : float or array
        Position size, coins, >= 0.
    mark_price : float or array
        Mark price at settlement, USD per coin, > 0.
    rate : float or array
        Funding rate for the interval (fraction).

    Returns
    -------
    float or ndarray
        USD paid (negative = received), broadcast over the inputs.
    """
    s = side_array("side", side).astype(np.float64)
    q = check_nonnegative("size", size)
    m = check_positive("mark_price", mark_price)
    r = check_finite("rate", rate)
    s, q, m, r = _broadcast(side=s, size=q, mark_price=m, rate=r)
    with np.errstate(over="ignore"):
        out = s * q * m * r
    return _finite_out("funding_payment", out)


def funding_payments(side: Any, size: Any, marks: Any, rates: Any) -> npt.NDArray[np.float64]:
    """Funding paid at each settlement along a path of marks and rates (USD, + = pays).

    Parameters
    ----------
    side : int or str
        +1 / "long" or -1 / "short".
    size : float or array
        Position size in coins, >= 0; a scalar, or one value per settlement.
    marks : array_like
        Mark price at each settlement, USD per coin, > 0.
    rates : array_like
        Funding rate at each settlement (fraction), same length as ``marks``.

    Returns
    -------
    ndarray
        USD paid at each settlement; ``math.fsum`` of it is the total paid.
    """
    m = np.atleast_1d(check_positive("marks", marks))
    r = np.atleast_1d(check_finite("rates", rates))
    if m.ndim != 1 or m.shape != r.shape:
        raise InvalidInputError(
            f"marks and rates must be 1-D of equal length, got shapes {m.shape} and {r.shape}"
        )
    q = check_nonnegative("size", size)
    if np.ndim(q) and np.shape(q) != m.shape:
        raise InvalidInputError(
            f"size must be a scalar or have shape {m.shape} like marks, got {np.shape(q)}"
        )
    with np.errstate(over="ignore"):
        out = np.asarray(check_side(side) * q * m * r, dtype=np.float64)
    return np.asarray(_finite_out("funding_payments", out), dtype=np.float64)


def annualised(
    rate_per_interval: Any, intervals_per_day: float = 3.0, *, days_per_year: float = 365.0
) -> Any:
    """Simple (non-compounded) annual rate: ``rate x intervals_per_day x days_per_year``.

    0.01 % per 8 h -> 0.03 %/day -> 10.95 %/year. Check a symbol's funding interval before
    annualising: Binance runs many perps on 4-hour (6/day) or 1-hour intervals.

    Parameters
    ----------
    rate_per_interval : float or array
        Funding rate per interval (fraction).
    intervals_per_day : float
        Settlements per day, > 0 (3 for 8-hour funding).
    days_per_year : float
        > 0; 365 for crypto (markets never close).

    Returns
    -------
    float or ndarray
        Annualised rate (fraction per year).
    """
    r = check_finite("rate_per_interval", rate_per_interval)
    k = check_positive("intervals_per_day", intervals_per_day)
    d = check_positive("days_per_year", days_per_year)
    return r * k * d


# --------------------------------------------------------------------------- basis trade


@dataclass(frozen=True)
class BasisTradeResult:
    """P&L of a cash-and-carry trade: long ``size`` coins of spot, short ``size`` perps.

    Attributes
    ----------
    spot_pnl : float or ndarray
        USD, ``size * (spot_exit - spot_entry)``.
    perp_pnl : float or ndarray
        USD, ``-size * (perp_exit - perp_entry)``.
    funding_received : float or ndarray
        USD received by the short perp over the path (negative if it paid).
    fees : float or ndarray
        USD of trading fees on the four legs (>= 0).
    total : float or ndarray
        USD, ``spot_pnl + perp_pnl + funding_received - fees``.
    delta : float or ndarray
        Net coin exposure, ``size - size`` = 0: the trade holds no directional risk.
    n_intervals : int
        Funding settlements the trade was open for.
    """

    spot_pnl: Any
    perp_pnl: Any
    funding_received: Any
    fees: Any
    total: Any
    delta: Any
    n_intervals: int

    @property
    def price_pnl(self) -> Any:
        """USD from price moves (spot + perp legs): the change in basis times size."""
        return self.spot_pnl + self.perp_pnl


def basis_trade_pnl(
    size: Any,
    spot_entry: Any,
    perp_entry: Any,
    spot_exit: Any,
    perp_exit: Any,
    funding_rates: Any,
    marks: Any,
    fee_rate: float = 0.0,
) -> BasisTradeResult:
    """P&L of a cash-and-carry: buy ``size`` coins spot, short ``size`` perps, hold, unwind.

    Price moves cancel between the legs up to the change in basis (perp minus spot); what
    remains is the funding the short collects (``-funding_payments(-1, ...)``) minus fees.
    Fees are ``fee_rate`` x notional on each of the four legs.

    Parameters
    ----------
    size : float or array
        Coins held on each leg, > 0.
    spot_entry, perp_entry, spot_exit, perp_exit : float or array
        Fill prices, USD per coin, > 0.
    funding_rates : array_like
        Funding rate at each settlement while the trade is open (fractions, 1-D).
    marks : array_like
        Mark price at each settlement, USD per coin, same length as ``funding_rates``.
    fee_rate : float
        Taker fee per leg as a fraction of notional, in [0, 1).

    Returns
    -------
    BasisTradeResult
        Components in USD and the (zero) net delta in coins.
    """
    q = check_positive("size", size)
    se = check_positive("spot_entry", spot_entry)
    pe = check_positive("perp_entry", perp_entry)
    sx = check_positive("spot_exit", spot_exit)
    px = check_positive("perp_exit", perp_exit)
    fee = check_fraction("fee_rate", fee_rate)
    if not fee < 1.0:
        raise InvalidInputError(f"fee_rate must be < 1, got {fee_rate!r}")
    rates = np.asarray(check_finite("funding_rates", funding_rates), dtype=np.float64)
    m = np.asarray(check_positive("marks", marks), dtype=np.float64)
    if rates.ndim != 1 or m.shape != rates.shape:
        raise InvalidInputError(
            "funding_rates and marks must be 1-D of equal length, got shapes "
            f"{rates.shape} and {m.shape}"
        )
    # Funding per coin of short perp, summed exactly: what the short pays, negated.
    funding_per_coin = -math.fsum(funding_payments(-1, 1.0, m, rates))
    spot_pnl = q * (sx - se)
    perp_pnl = -q * (px - pe)
    funding = q * funding_per_coin
    fees = fee * q * (se + pe + sx + px)
    total = spot_pnl + perp_pnl + funding - fees
    if np.ndim(total) == 0:
        total = math.fsum([spot_pnl, perp_pnl, funding, -fees])
    delta = q - q
    return BasisTradeResult(
        spot_pnl=spot_pnl,
        perp_pnl=perp_pnl,
        funding_received=funding,
        fees=fees,
        total=total,
        delta=delta,
        n_intervals=len(m),
    )


def locked_spot(open_interest_coins: Any, basis_share: Any) -> Any:
    """Coins of spot parked in basis hedges: ``open_interest_coins x basis_share``.

    Every short perp held as the hedge leg of a cash-and-carry is matched by one coin of
    spot bought and kept in the arbitrageur's wallet. Those coins are off the spot book for
    as long as the trade is on: they are not offered to a buyer in a squeeze, and when the
    trade unwinds they are sold, not bought. Open interest counts each contract once (one
    long against one short), so ``basis_share`` is the fraction of the short side that is
    hedged this way.

    Parameters
    ----------
    open_interest_coins : float or array
        Open interest, coins, >= 0.
    basis_share : float or array
        Fraction of short open interest that is a spot-hedged basis trade, in [0, 1].

    Returns
    -------
    float or ndarray
        Coins of spot locked in hedges.
    """
    oi = check_nonnegative("open_interest_coins", open_interest_coins)
    share = check_fraction("basis_share", basis_share)
    return oi * share


def free_float(float_coins: Any, open_interest_coins: Any, basis_share: Any) -> Any:
    """Spot float left for the order book once basis hedges are parked (coins).

    ``float_coins - locked_spot(open_interest_coins, basis_share)``. Raises if the hedges
    would need more coins than the float holds — the inputs cannot all be true.

    Parameters
    ----------
    float_coins : float or array
        Tradable (circulating, unlocked) supply, coins, >= 0.
    open_interest_coins : float or array
        Open interest, coins, >= 0.
    basis_share : float or array
        Fraction of short open interest hedged with spot, in [0, 1].

    Returns
    -------
    float or ndarray
        Coins still free to trade.
    """
    fl = check_nonnegative("float_coins", float_coins)
    locked = locked_spot(open_interest_coins, basis_share)
    if not np.all(np.asarray(locked) <= np.asarray(fl)):
        raise InvalidInputError(
            f"basis hedges would lock {locked!r} coins but float_coins is only {float_coins!r}"
        )
    return fl - locked
