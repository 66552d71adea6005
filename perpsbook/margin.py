"""Margin, liquidation and bankruptcy prices, following the venues' published rules.

Everything here is vectorised: arguments broadcast against each other like numpy
arithmetic, a scalar input gives a ``float`` and an array input gives a ``float64`` array.
Units: prices in USD per coin, sizes in coins, notional / margin / PnL in USD, rates
(MMR, fee rates) as fractions (0.004 = 0.4 %). ``side`` is +1 long, -1 short.

Sources (the worked examples each reproduces are in tests/test_margin.py)
-------------------------------------------------------------------------
[B1] Binance, "How to Calculate Liquidation Price of USDⓈ-M Futures Contracts" (2020-08-14),
     https://www.binance.com/en/support/faq/b3c689c1f50a44cabb3a84e663b81d93 -- the
     liquidation-price formula (WB, TMM1, UPNL1, cum, MMR), the maintenance-amount
     recursion and the rule "recompute with the bracket of the notional at the
     liquidation price".
[B2] Binance, "Updates to Leverage and Margin Tiers of Binance Futures Contracts
     (2021-03-18)", https://www.binance.com/en/support/announcement/86cf9aa472574b8cb2e05bb751c2a9a6
     -- the BTCUSDT 125x bracket table used by :data:`BINANCE_2021`.
[B6] Binance USDⓈ-M API ``GET /fapi/v1/leverageBracket`` (BTCUSDT), response captured in
     github.com/boolean404/heikin-ashi-trading-bot, ``json/fapiPrivate_get_leverage_bracket.py``,
     commit f4c6c76f2b465421681cded5f60c2f3cf29c256d (2023-11-28) -- the table of
     :data:`BINANCE`, the latest full BTCUSDT table we could source.
[B3] Binance, "Leverage and Margin of USDⓈ-M Futures" (2020-06-24),
     https://www.binance.com/en/support/articles/360033162192 -- the "tax bracket"
     maintenance margin.
[B4] Binance, "How to Reduce Your Chances of Getting Liquidated",
     https://www.binance.com/en/support/faq/25edcd7fe0e544839d0847b8cbb2e400 -- margin
     ratio = maintenance margin / margin balance (liquidation at 100 %) and a worked
     liquidation price (25,100.40).
[B5] Binance USDⓈ-M API ``GET /fapi/v1/exchangeInfo``, field ``liquidationFee`` ("liquidation
     fee rate"); BTCUSDT shows 0.012500 in captured responses (e.g. the Binance-perpetual
     test fixtures of the hummingbot repository). The live value may differ.
[Y1] Bybit, "Liquidation Price (USDT Contract)",
     https://www.bybit.com/en/help-center/article/Liquidation-Price-USDT-Contract -- isolated
     LP = entry -/+ (IM - MM)/size, MM on the entry position value; Example 1 (19,700).
[Y2] Bybit, "Liquidation Price (USDT Contract)" (older help-centre version),
     https://help.bybit.com/hc/en-us/articles/900000181046-Liquidation-Price-USDT-Contract-
     -- LP = entry * (1 -/+ IMR +/- MMR); examples 9,850 and 8,160.
[Y3] Bybit, "Maintenance Margin (USDT Contract)",
     https://www.bybit.com/en/help-center/article/Maintenance-Margin-USDT-Contract -- BTCUSDT
     MMR 0.5 % up to a position value of 2,000,000 USDT; tiered MM with a deduction.
[Y4] Bybit, "Bankruptcy Price (USDT Contract)",
     no stored URL -- long BP = entry * (1 - IMR).
[H1] Hyperliquid Docs, "Liquidations",
     https://hyperliquid.gitbook.io/hyperliquid-docs/trading/liquidations -- maintenance
     margin = half the initial margin at max leverage; ``liq_price = price - side *
     margin_available / position_size / (1 - l * side)``, ``l = 1 / MAINTENANCE_LEVERAGE``;
     a backstop liquidation keeps the maintenance margin.
[H2] Hyperliquid Docs, "Margin tiers",
     https://hyperliquid.gitbook.io/hyperliquid-docs/trading/margin-tiers -- BTC: 40x up to
     150M USDC notional, 20x above; ``maintenance_deduction`` recursion.

Conventions decided here
------------------------
* Bracket k covers notionals in ``(floors[k], floors[k+1]]`` (Binance writes
  "50,000 < Position <= 250,000"); notional 0 is in bracket 0. Because the maintenance
  margin is continuous in the notional, this matters only for the MMR / max leverage
  reported exactly at a boundary.
* Beyond the last floor the last bracket applies. ``TierSchedule.max_notional`` (the
  venue's largest allowed position) is enforced only by :meth:`TierSchedule.check_leverage`.
* Liquidation prices are the formula values, never clipped. A long whose liquidation
  price is <= 0 can never be liquidated (a 1x long has bankruptcy price exactly 0); Binance
  shows "--" for such positions [B1]. A short with a liquidation price <= 0 (possible only
  in cross margin, when the other positions' losses exceed the wallet) is below maintenance
  at every price.
* On an ``"entry"`` venue (Bybit) the maintenance margin is fixed by the entry value, so
  even a 1x long is liquidated, at ``entry * MMR`` -- what Bybit's formula
  ``entry * (1 - IMR + MMR)`` gives with IMR = 100 % [Y2].
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from perpsbook.errors import (
    InvalidInputError,
    LeverageError,
    ScheduleError,
    as_float_array,
    check_finite,
    check_nonnegative,
    check_positive,
    check_scalar,
    readonly,
    side_array,
)
from perpsbook.positions import Positions

__all__ = [
    "ALTCOIN",
    "BINANCE",
    "BINANCE_2021",
    "BYBIT",
    "HYPERLIQUID",
    "MM_BASES",
    "SNAPSHOTS",
    "VENUES",
    "TierSchedule",
    "Venue",
    "bankruptcy_price",
    "bankruptcy_prices",
    "initial_margin",
    "liquidatable",
    "liquidation_price",
    "liquidation_price_tiered",
    "liquidation_prices",
    "maintenance_amounts",
    "maintenance_margin",
    "maintenance_margins",
    "margin_ratio",
    "venue_by_name",
]

MM_BASES = ("liquidation", "entry", "half_initial")

FloatOrArray = Any  # float for scalar input, float64 ndarray otherwise


# --------------------------------------------------------------------------- helpers
def _out(x: Any) -> FloatOrArray:
    arr = np.asarray(x)
    if arr.ndim == 0:
        return bool(arr) if arr.dtype == bool else float(arr)
    return arr


def _broadcast(**arrays: Any) -> list[np.ndarray]:
    try:
        return list(np.broadcast_arrays(*(np.asarray(a) for a in arrays.values())))
    except ValueError as exc:
        shapes = ", ".join(f"{k}{np.shape(v)}" for k, v in arrays.items())
        raise InvalidInputError(f"arguments do not broadcast together: {shapes}") from exc


def _finite(what: str, value: Any, hint: str) -> FloatOrArray:
    """Return ``_out(value)``; raise InvalidInputError if finite inputs overflowed float64.

    Valid but extreme inputs (a size of 1e-300 coins against 1e10 USD of margin) can give a
    result beyond the largest float (about 1.8e308); we refuse rather than return +-inf.
    """
    arr = np.asarray(value)
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(
            f"{what} overflows float64 (|value| > 1.8e308) for these inputs: {hint}; "
            f"rescale the inputs (e.g. sizes in larger units)"
        )
    return _out(arr)


def _check_venue(venue: Any) -> Any:
    from_type = type(venue).__name__
    if not isinstance(venue, Venue):
        raise InvalidInputError(
            f"venue must be a perpsbook.margin.Venue (e.g. BINANCE, or venue_by_name('bybit')), "
            f"got {from_type}"
        )
    return venue


def _check_leverage_at_least_one(leverage: Any) -> np.ndarray:
    lev = np.asarray(check_finite("leverage", leverage))
    if not np.all(lev >= 1.0):
        bad = lev[lev < 1.0] if lev.ndim else lev
        raise LeverageError(
            f"leverage must be >= 1 (venues let you choose from 1x up to the schedule's "
            f"maximum), got {float(np.ravel(bad)[0]):g}"
        )
    return lev


def _check_mmr(mmr: Any) -> np.ndarray:
    m = np.asarray(check_finite("mmr", mmr))
    if not np.all((m >= 0) & (m < 1)):
        raise InvalidInputError(
            f"mmr must lie in [0, 1), got {mmr!r}: with MMR >= 1 a long's maintenance margin "
            f"grows as fast as its equity and no liquidation price exists"
        )
    return m


# --------------------------------------------------------------------------- tiers
def _schedule_array(name: str, value: Any) -> np.ndarray:
    try:
        arr = np.atleast_1d(as_float_array(name, value))
    except InvalidInputError as exc:  # a schedule's own error class, same message
        raise ScheduleError(str(exc)) from exc
    if arr.ndim != 1 or arr.size == 0:
        raise ScheduleError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ScheduleError(f"{name} must be finite (no NaN or inf), got {arr.tolist()}")
    return arr


def _check_floors(floors: np.ndarray) -> None:
    if floors[0] != 0:
        raise ScheduleError(f"floors must start at 0 USD, got {floors[0]:g}")
    if not np.all(np.diff(floors) > 0):
        raise ScheduleError(f"floors must be strictly ascending, got {floors.tolist()}")


def maintenance_amounts(floors: Any, rates: Any) -> npt.NDArray[np.float64]:
    """Binance's "maintenance amount" (cum) of each bracket.

    ``cum_0 = 0`` and ``cum_n = floor_n * (MMR_n - MMR_{n-1}) + cum_{n-1}`` [B1]; Hyperliquid
    calls the same recursion ``maintenance_deduction`` [H2] and Bybit "maintenance margin
    deduction" [Y3]. With it ``notional * MMR_n - cum_n`` is the maintenance margin of a
    notional in bracket n, continuous across bracket boundaries.

    Parameters
    ----------
    floors : array (K,)
        Lower notional bound of each bracket, USD; starts at 0, strictly ascending.
    rates : array (K,)
        Maintenance margin rate of each bracket, fractions in [0, 1).

    Returns
    -------
    ndarray (K,)
        Maintenance amount of each bracket, USD.

    Raises
    ------
    ScheduleError
        Malformed floors or rates, or different lengths.
    """
    f = _schedule_array("floors", floors)
    r = _schedule_array("rates", rates)
    _check_floors(f)
    if f.shape != r.shape:
        raise ScheduleError(
            f"floors and rates must have the same length, got {f.size} and {r.size}"
        )
    if not np.all((r >= 0) & (r < 1)):
        raise ScheduleError(f"rates must lie in [0, 1), got {r.tolist()}")
    return np.concatenate([[0.0], np.cumsum(f[1:] * np.diff(r))])


@dataclass(frozen=True, eq=False)
class TierSchedule:
    """A tiered ("tax bracket") maintenance-margin schedule [B3].

    Parameters
    ----------
    floors : array (K,)
        Lower notional bound of each bracket, USD; starts at 0, strictly ascending. Bracket
        k covers ``(floors[k], floors[k+1]]``.
    mmr : array (K,)
        Maintenance margin rate per bracket (fraction), non-decreasing, each strictly below
        the initial margin rate at that bracket's maximum leverage (``mmr < 1/max_leverage``).
    max_leverage : array (K,)
        Largest leverage a position in that bracket may use; >= 1, non-increasing.
    name : str
        Label, e.g. ``"Binance BTCUSDT (2021-03-18)"``.
    max_notional : float
        Largest notional the venue accepts, USD (default: unlimited). Only
        :meth:`check_leverage` enforces it.

    Attributes
    ----------
    maintenance_amount : ndarray (K,)
        Derived with :func:`maintenance_amounts`, USD.

    Raises
    ------
    ScheduleError
        Unsorted or non-zero-based floors, decreasing MMR, increasing max leverage, leverage
        below 1, MMR >= 1/max_leverage, length mismatch, NaN/inf, or max_notional not above
        the last floor.
    """

    floors: npt.NDArray[np.float64]
    mmr: npt.NDArray[np.float64]
    max_leverage: npt.NDArray[np.float64]
    name: str = "schedule"
    max_notional: float = math.inf
    maintenance_amount: npt.NDArray[np.float64] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        floors = _schedule_array("floors", self.floors)
        mmr = _schedule_array("mmr", self.mmr)
        lev = _schedule_array("max_leverage", self.max_leverage)
        if not (floors.size == mmr.size == lev.size):
            raise ScheduleError(
                f"floors, mmr and max_leverage must have the same length, got "
                f"{floors.size}, {mmr.size} and {lev.size}"
            )
        _check_floors(floors)
        if not np.all((mmr >= 0) & (mmr < 1)):
            raise ScheduleError(f"mmr must lie in [0, 1), got {mmr.tolist()}")
        if not np.all(np.diff(mmr) >= 0):
            raise ScheduleError(f"mmr must be non-decreasing across brackets, got {mmr.tolist()}")
        if not np.all(lev >= 1):
            raise ScheduleError(f"max_leverage must be >= 1, got {lev.tolist()}")
        if not np.all(np.diff(lev) <= 0):
            raise ScheduleError(
                f"max_leverage must be non-increasing across brackets, got {lev.tolist()}"
            )
        imr = 1.0 / lev
        if not np.all(mmr < imr):
            k = int(np.argmax(mmr >= imr))
            raise ScheduleError(
                f"bracket {k}: MMR {mmr[k]:.4%} must be below the initial margin rate "
                f"{imr[k]:.4%} at its max leverage {lev[k]:g}x, or a position opened at max "
                f"leverage would be liquidatable at once"
            )
        try:
            max_notional = check_scalar("max_notional", self.max_notional, as_float_array)
        except InvalidInputError as exc:
            raise ScheduleError(
                f"max_notional must be a single number of USD, got {self.max_notional!r}"
            ) from exc
        if math.isnan(max_notional) or max_notional <= floors[-1]:
            raise ScheduleError(
                f"max_notional must exceed the last floor {floors[-1]:,.2f} USD, got "
                f"{self.max_notional!r}"
            )
        if not isinstance(self.name, str):
            raise ScheduleError(f"name must be a string, got {self.name!r}")
        object.__setattr__(self, "floors", readonly(floors))
        object.__setattr__(self, "mmr", readonly(mmr))
        object.__setattr__(self, "max_leverage", readonly(lev))
        object.__setattr__(self, "max_notional", max_notional)
        object.__setattr__(self, "maintenance_amount", readonly(maintenance_amounts(floors, mmr)))

    # ------------------------------------------------------------ constructors
    @classmethod
    def from_caps(
        cls, caps: Any, mmr: Any, max_leverage: Any, name: str = "schedule"
    ) -> TierSchedule:
        """Build from a table written as bracket caps ("0 < Position <= cap").

        ``floors = [0, caps[0], ..., caps[K-2]]`` and ``max_notional = caps[K-1]`` (USD).
        """
        c = _schedule_array("caps", caps)
        return cls(np.concatenate([[0.0], c[:-1]]), mmr, max_leverage, name, float(c[-1]))

    @classmethod
    def half_initial(
        cls, floors: Any, max_leverage: Any, name: str = "schedule", max_notional: float = math.inf
    ) -> TierSchedule:
        """Hyperliquid-style schedule: ``mmr = 1 / (2 * max_leverage)`` in every bracket [H2]."""
        lev = _schedule_array("max_leverage", max_leverage)
        if not np.all(lev >= 1):  # before 0.5 / lev divides by zero or overflows
            raise ScheduleError(f"max_leverage must be >= 1, got {lev.tolist()}")
        return cls(floors, 0.5 / lev, lev, name, max_notional)

    # ------------------------------------------------------------ lookups
    @property
    def n_tiers(self) -> int:
        """Number of brackets K."""
        return int(self.floors.size)

    def tier_index(self, notional: Any) -> Any:
        """Bracket index (int or int array) of each notional (USD, >= 0)."""
        n = np.asarray(check_nonnegative("notional", notional))
        k = np.maximum(np.searchsorted(self.floors, n, side="left") - 1, 0)
        return int(k) if np.ndim(k) == 0 else k

    def mmr_for(self, notional: Any) -> FloatOrArray:
        """Maintenance margin rate (fraction) of the bracket of each notional (USD)."""
        return _out(self.mmr[self.tier_index(notional)])

    def maintenance_amount_for(self, notional: Any) -> FloatOrArray:
        """Maintenance amount (cum, USD) of the bracket of each notional (USD)."""
        return _out(self.maintenance_amount[self.tier_index(notional)])

    def max_leverage_for(self, notional: Any) -> FloatOrArray:
        """Maximum leverage of the bracket of each notional (USD)."""
        return _out(self.max_leverage[self.tier_index(notional)])

    def maintenance_margin(self, notional: Any) -> FloatOrArray:
        """Maintenance margin in USD: ``notional * MMR - maintenance amount`` [B1][B3]."""
        n = np.asarray(check_nonnegative("notional", notional))
        k = self.tier_index(n)
        return _out(n * self.mmr[k] - self.maintenance_amount[k])

    def check_leverage(self, notional: Any, leverage: Any) -> None:
        """Raise :class:`LeverageError` unless ``1 <= leverage <= max leverage`` for the notional.

        Parameters
        ----------
        notional : float or array
            Position notional, USD, >= 0.
        leverage : float or array
            Requested leverage (notional / initial margin).

        Raises
        ------
        LeverageError
            Leverage below 1, above the bracket's maximum (the message gives the maximum),
            or a notional above ``max_notional``.
        """
        n = np.asarray(check_nonnegative("notional", notional))
        lev = _check_leverage_at_least_one(leverage)
        n, lev = _broadcast(notional=n, leverage=lev)
        too_big = n > self.max_notional
        if np.any(too_big):
            i = np.flatnonzero(np.ravel(too_big))[0]
            raise LeverageError(
                f"notional {np.ravel(n)[i]:,.2f} USD exceeds the largest position "
                f"{self.name!r} accepts ({self.max_notional:,.2f} USD)"
            )
        allowed = np.asarray(self.max_leverage_for(n))
        bad = lev > allowed * (1 + 1e-12)
        if np.any(bad):
            i = np.flatnonzero(np.ravel(bad))[0]
            raise LeverageError(
                f"leverage {np.ravel(lev)[i]:g}x exceeds the maximum "
                f"{np.ravel(allowed)[i]:g}x that {self.name!r} allows for a notional of "
                f"{np.ravel(n)[i]:,.2f} USD"
            )

    def rows(self) -> list[tuple[float, float, float, float, float]]:
        """The table as ``(floor, cap, mmr, max_leverage, maintenance_amount)`` rows.

        Floors, caps and maintenance amounts in USD; MMR as a fraction.
        """
        caps = np.append(self.floors[1:], self.max_notional)
        return [
            (float(f), float(c), float(m), float(lv), float(a))
            for f, c, m, lv, a in zip(
                self.floors, caps, self.mmr, self.max_leverage, self.maintenance_amount, strict=True
            )
        ]

    # ------------------------------------------------------------ dunder
    def _key(self) -> tuple[Any, ...]:
        return (
            self.name,
            self.max_notional,
            self.floors.tobytes(),
            self.mmr.tobytes(),
            self.max_leverage.tobytes(),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TierSchedule):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"TierSchedule({self.name!r}, tiers={self.n_tiers}, "
            f"mmr {self.mmr[0]:.4g}..{self.mmr[-1]:.4g}, "
            f"max leverage {self.max_leverage[0]:g}x..{self.max_leverage[-1]:g}x)"
        )


# --------------------------------------------------------------------------- formulas
def initial_margin(size: Any, price: Any, leverage: Any) -> FloatOrArray:
    """Initial margin in USD: ``size * price / leverage``.

    Parameters
    ----------
    size : coins, > 0.   price : USD per coin, > 0.   leverage : >= 1.
    """
    s = np.asarray(check_positive("size", size))
    p = np.asarray(check_positive("price", price))
    lev = _check_leverage_at_least_one(leverage)
    s, p, lev = _broadcast(size=s, price=p, leverage=lev)
    return _out(s * p / lev)


def maintenance_margin(size: Any, price: Any, schedule: TierSchedule) -> FloatOrArray:
    """Maintenance margin in USD of ``size`` coins valued at ``price`` (USD/coin) [B1][H2][Y3]."""
    if not isinstance(schedule, TierSchedule):
        hint = " (pass venue.schedule)" if isinstance(schedule, Venue) else ""
        raise InvalidInputError(
            f"schedule must be a perpsbook.margin.TierSchedule{hint}, got {type(schedule).__name__}"
        )
    s = np.asarray(check_positive("size", size))
    p = np.asarray(check_positive("price", price))
    s, p = _broadcast(size=s, price=p)
    with np.errstate(over="ignore"):
        notional = s * p
    _finite("maintenance_margin", notional, "size x price (the notional) is too large")
    return schedule.maintenance_margin(notional)


def margin_ratio(maintenance: Any, equity: Any) -> FloatOrArray:
    """Binance's margin ratio: maintenance margin / margin balance [B4].

    Parameters
    ----------
    maintenance : float or array
        Maintenance margin, USD, >= 0.
    equity : float or array
        Margin balance (wallet or isolated margin + unrealised PnL), USD.

    Returns
    -------
    float or array
        Dimensionless; the position is liquidated at >= 1 (100 %). An equity <= 0 (the
        position is at or past its bankruptcy price) gives ``inf``.
    """
    mm = np.asarray(check_nonnegative("maintenance", maintenance))
    eq = np.asarray(check_finite("equity", equity))
    mm, eq = _broadcast(maintenance=mm, equity=eq)
    out = np.full(mm.shape, np.inf)
    with np.errstate(over="ignore"):
        np.divide(mm, eq, out=out, where=eq > 0)
    if np.any(np.isinf(out) & (eq > 0)):
        raise InvalidInputError(
            "margin_ratio overflows float64 (maintenance / equity > 1.8e308): equity is too "
            "small a positive number for this maintenance margin"
        )
    return _out(out)


def bankruptcy_price(side: Any, size: Any, entry_price: Any, margin: Any) -> FloatOrArray:
    """Price at which the position's margin is exactly used up: ``entry - side*margin/size``.

    This is the price at which a liquidated position is settled [Y1][Y4]; Bybit writes it
    ``entry * (1 - IMR)`` for a long [Y4].

    Parameters
    ----------
    side : +1 / -1.   size : coins, > 0.   entry_price : USD/coin, > 0.
    margin : USD, >= 0 (isolated margin, or the wallet balance backing the position).

    Returns
    -------
    float or array
        USD per coin. Not clipped: a long with ``margin >= size * entry`` (leverage <= 1)
        gets a value <= 0 -- a 1x long has bankruptcy price exactly 0 and can never go
        bankrupt.
    """
    sd = side_array("side", side).astype(np.float64)
    s = np.asarray(check_positive("size", size))
    e = np.asarray(check_positive("entry_price", entry_price))
    m = np.asarray(check_nonnegative("margin", margin))
    sd, s, e, m = _broadcast(side=sd, size=s, entry_price=e, margin=m)
    with np.errstate(over="ignore", divide="ignore"):
        out = e - sd * m / s
    return _finite("bankruptcy_price", out, "margin / size is too large")


def _cross_inputs(
    side: Any,
    size: Any,
    entry_price: Any,
    wallet_balance: Any,
    other_maintenance: Any,
    other_upnl: Any,
) -> tuple[np.ndarray, ...]:
    sd = side_array("side", side).astype(np.float64)
    s = np.asarray(check_positive("size", size))
    e = np.asarray(check_positive("entry_price", entry_price))
    wb = np.asarray(check_nonnegative("wallet_balance", wallet_balance))
    tmm = np.asarray(check_nonnegative("other_maintenance", other_maintenance))
    upnl = np.asarray(check_finite("other_upnl", other_upnl))
    return tuple(
        _broadcast(
            side=sd,
            size=s,
            entry_price=e,
            wallet_balance=wb,
            other_maintenance=tmm,
            other_upnl=upnl,
        )
    )


def liquidation_price(
    side: Any,
    size: Any,
    entry_price: Any,
    wallet_balance: Any,
    mmr: Any,
    maintenance_amount: Any = 0.0,
    *,
    other_maintenance: Any = 0.0,
    other_upnl: Any = 0.0,
) -> FloatOrArray:
    """Binance USDⓈ-M liquidation price, one-way mode, for a given bracket [B1].

    ``LP = (WB - TMM1 + UPNL1 + cum - side*size*EP) / (size*MMR - side*size)``

    This solves "margin balance = maintenance margin at the liquidation price":
    ``WB - TMM1 + UPNL1 + side*size*(LP - EP) = size*LP*MMR - cum``.

    Parameters
    ----------
    side : int or array
        +1 long, -1 short.
    size : float or array
        Position size, coins, > 0 (Binance's absolute "Position1BOTH").
    entry_price : float or array
        Entry price EP, USD per coin, > 0.
    wallet_balance : float or array
        WB, USD, >= 0: the isolated margin in isolated mode, the cross wallet balance in
        cross mode.
    mmr : float or array
        Maintenance margin rate of the bracket used, fraction in [0, 1).
    maintenance_amount : float or array
        Maintenance amount ``cum`` of that bracket, USD, >= 0.
    other_maintenance : float or array
        TMM1: maintenance margin of all other positions of the cross account, USD (0 in
        isolated mode).
    other_upnl : float or array
        UPNL1: unrealised PnL of all other positions, USD (0 in isolated mode).

    Returns
    -------
    float or array
        Liquidation price, USD per coin; for a long a value <= 0 means it is never
        liquidated (Binance displays "--") [B1].

    Notes
    -----
    The bracket (MMR, cum) must be the one of the notional *at the liquidation price*;
    :func:`liquidation_price_tiered` finds it.
    """
    sd, s, e, wb, tmm, upnl = _cross_inputs(
        side, size, entry_price, wallet_balance, other_maintenance, other_upnl
    )
    m = _check_mmr(mmr)
    cum = np.asarray(check_nonnegative("maintenance_amount", maintenance_amount))
    sd, s, e, wb, tmm, upnl, m, cum = _broadcast(
        side=sd,
        size=s,
        entry_price=e,
        wallet_balance=wb,
        other_maintenance=tmm,
        other_upnl=upnl,
        mmr=m,
        maintenance_amount=cum,
    )
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        out = (wb - tmm + upnl + cum - sd * s * e) / (s * m - sd * s)
    return _finite("liquidation_price", out, "balance / size is too large")


def liquidation_price_tiered(
    side: Any,
    size: Any,
    entry_price: Any,
    wallet_balance: Any,
    schedule: TierSchedule,
    *,
    other_maintenance: Any = 0.0,
    other_upnl: Any = 0.0,
    return_tier: bool = False,
) -> Any:
    """Binance liquidation price with the bracket taken at the liquidation price [B1].

    Binance's rule: compute LP with the bracket of the current notional; if the notional at
    that LP lies in another bracket, recompute with that bracket's MMR and maintenance
    amount. That is a fixed-point search, and it has exactly one fixed point: with
    ``MM(n) = n*MMR(n) - cum(n)`` continuous and its slope ``MMR < 1``, the margin balance
    minus MM at price P is strictly monotone in P (increasing for a long, decreasing for a
    short). So the bracket of the answer is found directly by the sign of that difference
    at each bracket boundary -- K boundaries x N positions, no loop over positions -- and
    the LP is then :func:`liquidation_price` with that bracket. The result always lies in
    the bracket whose MMR produced it; it equals what Binance's recomputation gives when
    one recomputation suffices.

    Parameters
    ----------
    side, size, entry_price, wallet_balance, other_maintenance, other_upnl
        As in :func:`liquidation_price` (coins, USD per coin, USD).
    schedule : TierSchedule
        The bracket table.
    return_tier : bool
        Also return the bracket index used.

    Returns
    -------
    float or array, or (LP, tier)
        Liquidation price in USD per coin (same conventions as :func:`liquidation_price`);
        with ``return_tier`` also the bracket index (int or int array). A negative LP of a
        long is evaluated with bracket 0.
    """
    if not isinstance(schedule, TierSchedule):
        raise InvalidInputError(f"schedule must be a TierSchedule, got {type(schedule).__name__}")
    sd, s, e, wb, tmm, upnl = _cross_inputs(
        side, size, entry_price, wallet_balance, other_maintenance, other_upnl
    )
    base = wb - tmm + upnl
    tier = np.zeros(sd.shape, dtype=np.intp)
    for j in range(1, schedule.n_tiers):
        b = schedule.floors[j]
        # margin balance - MM at the price where the notional equals this boundary
        gap = base + sd * (b - s * e) - (b * schedule.mmr[j] - schedule.maintenance_amount[j])
        tier += sd * gap < 0  # the root lies above this boundary
    mmr = schedule.mmr[tier]
    cum = schedule.maintenance_amount[tier]
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        lp = _finite(
            "liquidation_price_tiered",
            (base + cum - sd * s * e) / (s * mmr - sd * s),
            "balance / size is too large",
        )
    if return_tier:
        return lp, (int(tier) if tier.ndim == 0 else tier)
    return lp


# --------------------------------------------------------------------------- venues
@dataclass(frozen=True)
class Venue:
    """A venue's margin rules for one contract.

    Parameters
    ----------
    name : str
        Short name, e.g. ``"binance"``.
    schedule : TierSchedule
        Brackets of MMR / max leverage.
    mm_basis : {"liquidation", "entry", "half_initial"}
        Where the maintenance margin is evaluated:

        * ``"liquidation"`` -- Binance: MM of the notional at the mark price, so the
          liquidation price solves margin balance = MM(size * LP) [B1];
        * ``"entry"`` -- Bybit USDT contracts (isolated): MM of the position value at the
          entry price, ``LP = entry - side * (margin - MM_entry) / size`` [Y1][Y3];
        * ``"half_initial"`` -- Hyperliquid: MMR = half the initial margin rate at max
          leverage, MM on the mark-price notional (the schedule must satisfy
          ``mmr == 1/(2*max_leverage)``) [H1][H2].
    liquidation_fee_rate : float
        Fee charged on the liquidated notional, fraction in [0, 1).
    source : str
        Where the numbers come from.
    """

    name: str
    schedule: TierSchedule
    mm_basis: str
    liquidation_fee_rate: float
    source: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidInputError(f"name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.schedule, TierSchedule):
            raise InvalidInputError(
                f"schedule must be a TierSchedule, got {type(self.schedule).__name__}"
            )
        if not isinstance(self.source, str):
            raise InvalidInputError(
                f"source must be a string (document and date of the parameters), got "
                f"{self.source!r}"
            )
        if self.mm_basis not in MM_BASES:
            raise InvalidInputError(f"mm_basis must be one of {MM_BASES}, got {self.mm_basis!r}")
        fee = check_scalar("liquidation_fee_rate", self.liquidation_fee_rate)
        if not 0 <= fee < 1:
            raise InvalidInputError(f"liquidation_fee_rate must lie in [0, 1), got {fee!r}")
        object.__setattr__(self, "liquidation_fee_rate", float(fee))
        if self.mm_basis == "half_initial":
            expected = 0.5 / self.schedule.max_leverage
            if not np.allclose(self.schedule.mmr, expected, rtol=1e-12, atol=0):
                raise ScheduleError(
                    f"mm_basis 'half_initial' needs mmr = 1/(2*max_leverage) = "
                    f"{expected.tolist()}, got {self.schedule.mmr.tolist()}"
                )

    @property
    def max_leverage(self) -> float:
        """Largest leverage the venue offers (bracket 0)."""
        return float(self.schedule.max_leverage[0])

    def check_leverage(self, size: Any, price: Any, leverage: Any) -> None:
        """Raise :class:`LeverageError` if ``leverage`` is not allowed for ``size * price`` USD."""
        s = np.asarray(check_positive("size", size))
        p = np.asarray(check_positive("price", price))
        self.schedule.check_leverage(s * p, leverage)

    def maintenance_margin(self, side: Any, size: Any, price: Any) -> FloatOrArray:
        """Maintenance margin (USD) of ``size`` coins valued at ``price`` (USD/coin).

        Pass the mark price for ``"liquidation"`` / ``"half_initial"`` venues and the entry
        price for ``"entry"`` venues (or use :meth:`is_liquidatable`, which does this).
        """
        side_array("side", side)
        return maintenance_margin(size, price, self.schedule)

    def liquidation_price(
        self, side: Any, size: Any, entry_price: Any, margin: Any
    ) -> FloatOrArray:
        """Isolated-margin liquidation price, USD per coin, by the venue's rule.

        Parameters
        ----------
        side : +1 / -1.   size : coins, > 0.   entry_price : USD/coin, > 0.
        margin : isolated margin, USD, >= 0.
        """
        if self.mm_basis == "entry":
            sd, s, e, m = self._isolated(side, size, entry_price, margin)
            mm = np.asarray(self.schedule.maintenance_margin(s * e))
            with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
                out = e - sd * (m - mm) / s
            return _finite("liquidation_price", out, "margin / size is too large")
        return liquidation_price_tiered(side, size, entry_price, margin, self.schedule)

    def bankruptcy_price(self, side: Any, size: Any, entry_price: Any, margin: Any) -> FloatOrArray:
        """Bankruptcy price (USD per coin): see :func:`bankruptcy_price`."""
        return bankruptcy_price(side, size, entry_price, margin)

    def maintenance_at(self, side: Any, size: Any, entry_price: Any, mark: Any) -> FloatOrArray:
        """Maintenance margin (USD) the venue requires at mark price ``mark`` (USD/coin)."""
        side_array("side", side)
        s, e, mk = _broadcast(
            size=check_positive("size", size),
            entry_price=check_positive("entry_price", entry_price),
            mark=check_positive("mark", mark),
        )
        return maintenance_margin(s, e if self.mm_basis == "entry" else mk, self.schedule)

    def is_liquidatable(
        self, side: Any, size: Any, entry_price: Any, margin: Any, mark: Any
    ) -> Any:
        """True where the margin balance at ``mark`` is at or below the maintenance margin.

        Parameters
        ----------
        side, size, entry_price, margin
            As in :meth:`liquidation_price`.
        mark : float or array
            Mark price, USD per coin, > 0.

        Returns
        -------
        bool or bool array
        """
        sd, s, e, m = self._isolated(side, size, entry_price, margin)
        mk = np.asarray(check_positive("mark", mark))
        sd, s, e, m, mk = _broadcast(side=sd, size=s, entry_price=e, margin=m, mark=mk)
        equity = m + sd * s * (mk - e)
        mm = np.asarray(self.maintenance_at(sd, s, e, mk))
        return _out(equity <= mm)

    def liquidation_fee(self, size: Any, price: Any) -> FloatOrArray:
        """Liquidation fee in USD on ``size`` coins closed at ``price`` USD/coin."""
        s = np.asarray(check_positive("size", size))
        p = np.asarray(check_positive("price", price))
        return _out(s * p * self.liquidation_fee_rate)

    @staticmethod
    def _isolated(side: Any, size: Any, entry_price: Any, margin: Any) -> list[np.ndarray]:
        return _broadcast(
            side=side_array("side", side).astype(np.float64),
            size=check_positive("size", size),
            entry_price=check_positive("entry_price", entry_price),
            margin=check_nonnegative("margin", margin),
        )


# Binance BTCUSDT 125x perpetual, table effective 2021-03-18 09:00 UTC [B2]. Its first
# three maintenance amounts (0, 50, 1,300 USDT) are the ones Binance's FAQ works out [B1].
_BINANCE_BTCUSDT_2021 = TierSchedule.from_caps(
    caps=[50e3, 250e3, 1e6, 10e6, 20e6, 50e6, 100e6, 200e6, 300e6, 500e6],
    mmr=[0.004, 0.005, 0.01, 0.025, 0.05, 0.10, 0.125, 0.15, 0.25, 0.50],
    max_leverage=[125, 100, 50, 20, 10, 5, 4, 3, 2, 1],
    name="Binance BTCUSDT (table of 2021-03-18)",
)

BINANCE_2021 = Venue(
    name="binance-2021",
    schedule=_BINANCE_BTCUSDT_2021,
    mm_basis="liquidation",
    liquidation_fee_rate=0.0125,
    source=(
        "Snapshot 2021-03-18. Binance USDⓈ-M BTCUSDT: brackets from 'Updates to Leverage and "
        "Margin Tiers of Binance Futures Contracts (2021-03-18)'; LP formula from 'How to "
        "Calculate Liquidation Price of USDⓈ-M Futures Contracts' (2020-08-14), whose worked "
        "examples this table reproduces; liquidationFee 0.0125 from a captured "
        "/fapi/v1/exchangeInfo response."
    ),
)
"""Binance USDⓈ-M BTCUSDT, dated snapshot of 2021-03-18: the 125x bracket table (MMR 0.4 %
to 50 %, maintenance on the liquidation price, clearance fee 1.25 % of notional). Known to
:func:`venue_by_name` as ``"binance-2021"`` (in :data:`SNAPSHOTS`, not in :data:`VENUES`)."""

# Binance BTCUSDT, the latest full bracket table we could source: a GET
# /fapi/v1/leverageBracket response for BTCUSDT committed to public code on 2023-11-28
# [B6]. Same first two brackets as 2021; from 250k USDT up the caps differ (1% up to 3M,
# 2.5% up to 20M, ...). Its maintenance amounts (cum 0, 50, 1,300, 46,300, 546,300,
# 2,546,300, 5,046,300, 8,046,300, 28,046,300, 103,046,300) equal the recursion's [B1],
# which tests/test_margin.py checks.
_BINANCE_BTCUSDT = TierSchedule.from_caps(
    caps=[50e3, 250e3, 3e6, 20e6, 40e6, 100e6, 120e6, 200e6, 300e6, 500e6],
    mmr=[0.004, 0.005, 0.01, 0.025, 0.05, 0.10, 0.125, 0.15, 0.25, 0.50],
    max_leverage=[125, 100, 50, 20, 10, 5, 4, 3, 2, 1],
    name="Binance BTCUSDT (leverageBracket capture of 2023-11-28)",
)

BINANCE = Venue(
    name="binance",
    schedule=_BINANCE_BTCUSDT,
    mm_basis="liquidation",
    liquidation_fee_rate=0.0125,
    source=(
        "Snapshot 2023-11-28. Binance USDⓈ-M BTCUSDT brackets from a GET "
        "/fapi/v1/leverageBracket response captured in github.com/boolean404/"
        "heikin-ashi-trading-bot, json/fapiPrivate_get_leverage_bracket.py, commit f4c6c76 "
        "(2023-11-28); LP formula from 'How to Calculate Liquidation Price of USDⓈ-M Futures "
        "Contracts'; liquidationFee 0.0125 from a captured /fapi/v1/exchangeInfo response "
        "(may have changed). Binance changes brackets without notice; check the live table."
    ),
)
"""Binance USDⓈ-M BTCUSDT, dated snapshot of 2023-11-28 (the latest full bracket table we could
source): MMR 0.4 % up to 50,000 USDT notional, 125x, ten tiers; maintenance on the liquidation
price; clearance fee 1.25 % of notional. ``source`` says where each number comes from."""

# Bybit BTCUSDT: only the first risk-limit tier is published in the page we could check
# [Y3]: MMR 0.5 % up to a position value of 2,000,000 USDT, IMR 1 % (100x). Larger
# positions need Bybit's live table (GET /v5/market/risk-limit), so max_notional stops there.
BYBIT = Venue(
    name="bybit",
    schedule=TierSchedule(
        floors=[0.0],
        mmr=[0.005],
        max_leverage=[100.0],
        name="Bybit BTCUSDT (risk limit tier 1)",
        max_notional=2_000_000.0,
    ),
    mm_basis="entry",
    liquidation_fee_rate=0.0,
    source=(
        "Snapshot as read 2026-12-05 (page undated). Bybit 'Maintenance Margin (USDT Contract)' "
        "(BTCUSDT MMR 0.5% up to 2,000,000 USDT) and "
        "'Liquidation Price (USDT Contract)'. No separate liquidation fee: the position is "
        "closed at the bankruptcy price and the margin left above it goes to the insurance fund."
    ),
)
"""Bybit BTCUSDT, as read 2026-12-05: risk-limit tier 1 only (MMR 0.5 %, 100x, positions up to
2,000,000 USDT); maintenance on the entry price; no separate liquidation fee."""

# Hyperliquid BTC: 40x up to 150M USDC notional, 20x above [H2]; MM = half the IM at max
# leverage, i.e. 1.25 % and 2.5 % [H1].
HYPERLIQUID = Venue(
    name="hyperliquid",
    schedule=TierSchedule.half_initial(
        floors=[0.0, 150e6],
        max_leverage=[40.0, 20.0],
        name="Hyperliquid BTC (mainnet margin tiers)",
    ),
    mm_basis="half_initial",
    liquidation_fee_rate=0.0,
    source=(
        "Snapshot as read 2026-12-05 (gitbook, undated). Hyperliquid Docs 'Liquidations' and "
        "'Margin tiers' (BTC 40x up to 150M USDC, 20x above). Liquidations are market orders into "
        "the book; no separate clearance fee is modelled. A backstop liquidation keeps the "
        "maintenance margin."
    ),
)
"""Hyperliquid BTC, as read 2026-12-05: 40x up to 150M USDC notional, 20x above; maintenance
margin half the initial margin at maximum leverage (1.25 %, 2.5 %); no clearance fee."""

# ILLUSTRATIVE: a thin, newly listed coin (the book's RocketCoin, RKT). Shaped like the
# altcoin tables venues publish (20x / 2.5 % in the first bracket, leverage stepping down
# as the position grows); not any venue's actual RKT table, which does not exist.
ALTCOIN = Venue(
    name="altcoin",
    schedule=TierSchedule(
        floors=[0.0, 50e3, 250e3, 1e6, 5e6],
        mmr=[0.025, 0.05, 0.10, 0.125, 0.25],
        max_leverage=[20.0, 10.0, 5.0, 4.0, 2.0],
        name="RKT (illustrative thin new-coin schedule)",
    ),
    mm_basis="liquidation",
    liquidation_fee_rate=0.015,
    source="Illustrative schedule for the RocketCoin (RKT) scenario; not published by any venue.",
)
"""ILLUSTRATIVE schedule of a thin new coin (the book's RocketCoin, RKT): 20x / 2.5 % MMR in the
first bracket, five tiers; clearance fee 1.5 %. Not published by any venue."""

VENUES: dict[str, Venue] = {
    "binance": BINANCE,
    "bybit": BYBIT,
    "hyperliquid": HYPERLIQUID,
    "altcoin": ALTCOIN,
}
"""The current venue presets by name (``"binance"``, ``"bybit"``, ``"hyperliquid"``,
``"altcoin"``); the book's venue figures draw one line per entry.

:meta hide-value:
"""
# Older dated snapshots, known to :func:`venue_by_name` but not in ``VENUES`` (the book's
# venue figures draw one line per entry of ``VENUES``).
SNAPSHOTS: dict[str, Venue] = {"binance-2021": BINANCE_2021}
"""Older dated snapshots by name (``"binance-2021"``), known to :func:`venue_by_name` but not in
:data:`VENUES`.

:meta hide-value:
"""
_ALIASES = {
    "rkt": "altcoin",
    "rocketcoin": "altcoin",
    "hl": "hyperliquid",
    "binance_2021": "binance-2021",
    "binance-2023": "binance",
}


def venue_by_name(name: str) -> Venue:
    """The preset called ``name`` (case-insensitive; ``"rkt"`` means ``"altcoin"``).

    Knows the current presets (:data:`VENUES`) and the older dated snapshots
    (:data:`SNAPSHOTS`, e.g. ``"binance-2021"``).
    """
    if not isinstance(name, str):
        raise InvalidInputError(f"venue name must be a string, got {name!r}")
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    known = {**VENUES, **SNAPSHOTS}
    if key not in known:
        raise InvalidInputError(
            f"unknown venue {name!r}; known: {sorted(known)} (aliases {sorted(_ALIASES)})"
        )
    return known[key]


# --------------------------------------------------------------------------- positions


def _as_array(x: Any) -> npt.NDArray[Any]:
    return np.atleast_1d(np.asarray(x))


def liquidation_prices(positions: Positions, venue: Venue) -> npt.NDArray[np.float64]:
    """Isolated liquidation price (USD per coin) of every position, shape (N,)."""
    p = Positions.check(positions)
    venue = _check_venue(venue)
    return _as_array(venue.liquidation_price(p.side, p.size, p.entry_price, p.margin))


def bankruptcy_prices(positions: Positions) -> npt.NDArray[np.float64]:
    """Bankruptcy price (USD per coin) of every position, shape (N,)."""
    p = Positions.check(positions)
    return _as_array(bankruptcy_price(p.side, p.size, p.entry_price, p.margin))


def maintenance_margins(positions: Positions, venue: Venue, mark: Any) -> npt.NDArray[np.float64]:
    """Maintenance margin (USD) the venue requires of every position at ``mark``, shape (N,)."""
    p = Positions.check(positions)
    venue = _check_venue(venue)
    return _as_array(venue.maintenance_at(p.side, p.size, p.entry_price, mark))


def liquidatable(positions: Positions, venue: Venue, mark: Any) -> npt.NDArray[np.bool_]:
    """Boolean mask (N,) of positions at or below maintenance at mark price ``mark`` (USD/coin)."""
    p = Positions.check(positions)
    venue = _check_venue(venue)
    return _as_array(venue.is_liquidatable(p.side, p.size, p.entry_price, p.margin, mark))
