"""Timing, location, people: the article's reasons for the rocket as levers on the model.

The article (danny / @agintender, WuBlockchain 2025) explains why short-liquidation
rockets became common in this cycle with five reasons: a small free float against a large
fully diluted valuation, mature perpetual infrastructure, a crowd that shorts every new
coin, funding (basis) arbitrage, and liquidation sniping. This module turns each into a
number the model takes, and measures what moving it does, on ONE scale: the **critical
ignition**, the smallest spot buy (USD) after which the cascade runs through every short
(:func:`perpsbook.theory.critical_ignition`, exact). A lever that lowers it makes the
rocket cheaper to light.

The model: RocketCoin, one ladder, population mode
--------------------------------------------------
The base case is :func:`perpsbook.scenarios.rocketcoin` (default reading): the RKT ask
ladder ($10.00 .. $19.99), five tranches of shorts ($1M .. $3M at $11 .. $15, 748,327
RKT) opened at ``SHORT_ENTRY`` = $10, hedge ratio 1, the engine's whole order walking the
ladder. Each :class:`LeverSetting` field changes one input:

``free_float`` (coins, default 1,000,000)
    **Depth model** (the order-books chapter's): only coins that are free to trade can
    rest on the book, and the depth at every price is a fixed share of them. So the
    whole ask ladder is scaled by ``d = free / free_default`` with ``free = free_float -
    locked`` the coins neither locked by the issuer nor parked in basis hedges. The
    assumption is that the share of the free coins that market makers keep on the book
    does not depend on how many there are.
``basis_share`` (fraction, default 0.1)
    Share of the short open interest that is the hedge leg of a cash-and-carry trade:
    ``basis_share * OI`` coins of spot sit in the arbitrageurs' wallets
    (:func:`perpsbook.funding.locked_spot`), off the book, which lowers ``free``. Their
    reward is the funding the perp premium pays (:func:`basis_carry`).
``hedge_ratio`` (``h``, default 1)
    Spot coins the market maker buys per perp coin it sells to the liquidation engine.
``perp_passthrough`` (``w``, default 1)
    Share of the engine's buying that walks the ladder; ``1 - w`` is absorbed by the
    market maker's perp quotes (deeper perp quotes: smaller ``w``).
``short_interest`` (multiplier, default 1)
    Scales every short's size: the "short the new coin" crowd.
``short_leverage`` (multiplier, default 1)
    Multiplies every short's leverage; the liquidation prices are recomputed with the
    venue formula (:func:`perpsbook.margin.liquidation_price`, isolated margin
    ``entry * size / leverage``, the RKT schedule's first-bracket MMR 2.5 %). The default
    leverages are those that put the tranches at $11 .. $15 (7.8x .. 2.3x).

Elasticity
----------
For a lever ``x`` with default ``x0`` and a step ``s`` (10 %), the two one-sided
elasticities of the critical ignition ``C`` are ``ln(C(x0 (1 + s)) / C(x0)) / ln(1 + s)``
and the same with ``1 - s``. The ladder is a staircase, so ``C`` is piecewise linear
with kinks where the hardest level to push through (the bottleneck) changes; near a kink
the two sides differ, and :func:`lever_table` reports both and ranks by the larger
magnitude. A side that leaves a lever's range (``w > 1``) is reported as
``None`` and the other side is used.

The two-market engine
---------------------
Infrastructure levers that only exist on two markets (hedge lag, perp re-posting,
mark-price rule, liquidation policy) are measured with :func:`venue_critical_ignition`:
the smallest ignition (USD) after which every short is closed (liquidated, or
auto-deleveraged), found on a grid of ignitions and refined by bisection: the full engine
is not monotone in the ignition (a tranche taken by auto-deleveraging sends no forced
buying, and the next one may never trigger).

Liquidation sniping
-------------------
:func:`snipe`: a sniper who knows where the shorts' liquidation prices are buys ``q``
coins right after the ignitor, on the same ladder, and sells them to the forced buyers at
the top. See its docstring for the exact accounting and the assumption it makes.

Units: prices USD per coin, sizes coins, notional USD, elasticities dimensionless.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from perpsbook.book import OrderBook
from perpsbook.errors import (
    InvalidInputError,
    check_count,
    check_fraction,
    check_nonnegative,
    check_positive,
    check_scalar,
)
from perpsbook.funding import (
    INTEREST_RATE_8H,
    OTHERS_FUNDING_CAP,
    funding_rate,
    locked_spot,
)
from perpsbook.hedging import HEDGE_RATIO_MAX
from perpsbook.ladder import book_ladder, coins_for_usd, walk_cost
from perpsbook.margin import ALTCOIN, liquidation_price
from perpsbook.population import population_cascade
from perpsbook.scenarios import (
    TWO_MARKET_VENUES,
    TwoMarketScenario,
    rocketcoin,
    rocketcoin_two_market,
)
from perpsbook.tables import text_table
from perpsbook.theory import critical_ignition

__all__ = [
    "LEVERS",
    "SHORT_ENTRY",
    "LeverInputs",
    "LeverOutcome",
    "LeverRow",
    "LeverSetting",
    "LeverTable",
    "SnipeResult",
    "TwoMarketLever",
    "VenueCritical",
    "base_leverages",
    "basis_carry",
    "lever_curve",
    "lever_inputs",
    "lever_outcome",
    "lever_table",
    "snipe",
    "two_market_lever_table",
    "venue_critical_ignition",
]

FloatArray = npt.NDArray[np.float64]

SHORT_ENTRY = 10.0
"""Entry price of the RKT shorts, USD per coin (the listing price the crowd shorted)."""

_MMR = float(ALTCOIN.schedule.mmr[0])  # 2.5 %: the RKT schedule's first bracket

LEVERS: dict[str, tuple[str, str, str]] = {
    "free_float": ("free float", "coins", "timing: low float / high FDV"),
    "basis_share": ("basis share", "fraction of short OI", "people: funding arbitrage"),
    "hedge_ratio": ("hedge ratio h", "spot coins per perp coin", "location: infrastructure"),
    "perp_passthrough": ("pass-through w", "fraction", "location: infrastructure"),
    "short_interest": ("short interest", "x default", "people: short the new coin"),
    "short_leverage": ("short leverage", "x default", "people: short the new coin"),
}
"""Lever name -> (label, unit, the article's reason it stands for)."""

_UPPER = {"basis_share": 1.0, "hedge_ratio": HEDGE_RATIO_MAX, "perp_passthrough": 1.0}


@dataclass(frozen=True)
class LeverSetting:
    """One value of every lever (module docstring); defaults = RocketCoin as told.

    Attributes
    ----------
    free_float : float
        Coins free to trade (not locked by the issuer), > 0.
    basis_share : float
        Fraction of the short open interest hedged with spot, in [0, 1].
    hedge_ratio : float
        ``h``, in [0, 2].
    perp_passthrough : float
        ``w``, in [0, 1].
    short_interest : float
        Multiplier of every short's size, > 0.
    short_leverage : float
        Multiplier of every short's leverage, > 0 (capped by liquidation prices that must
        stay above the best ask).
    ignition_usd : float
        The ignitor's spot buy, USD, > 0 (for the outcome at a fixed ignition).
    """

    free_float: float = 1_000_000.0
    basis_share: float = 0.1
    hedge_ratio: float = 1.0
    perp_passthrough: float = 1.0
    short_interest: float = 1.0
    short_leverage: float = 1.0
    ignition_usd: float = 200_000.0

    def __post_init__(self) -> None:
        for name in ("free_float", "short_interest", "short_leverage", "ignition_usd"):
            object.__setattr__(self, name, check_scalar(name, getattr(self, name), check_positive))
        for name, hi in _UPPER.items():
            v = check_scalar(name, getattr(self, name), check_fraction, upper=hi)
            object.__setattr__(self, name, v)

    def replace(self, **changes: Any) -> LeverSetting:
        """A copy with some levers changed (validated again)."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise InvalidInputError(
                f"unknown lever(s) {sorted(unknown)}; allowed: {[f.name for f in fields(self)]}"
            )
        return replace(self, **changes)


_DEFAULT = LeverSetting()


def _setting(setting: Any) -> LeverSetting:
    """``setting`` checked: a :class:`LeverSetting`, or None for the default."""
    if setting is None:
        return _DEFAULT
    if not isinstance(setting, LeverSetting):
        raise InvalidInputError(
            f"setting must be a perpsbook.levers.LeverSetting or None (RocketCoin as told), "
            f"got {setting!r} ({type(setting).__name__})"
        )
    return setting


def _base() -> tuple[OrderBook, FloatArray, FloatArray]:
    s = rocketcoin()
    return s.book, np.asarray(s.tranches.trigger_price), np.asarray(s.tranches.size)


def base_leverages() -> FloatArray:
    """Leverage of each RKT tranche at the default (the one that puts it at its trigger).

    For an isolated short with margin ``entry * size / L`` the venue formula gives the
    liquidation price ``entry * (1 + 1/L) / (1 + MMR)``; solved for ``L``.
    """
    _, trig, _ = _base()
    return 1.0 / (trig * (1.0 + _MMR) / SHORT_ENTRY - 1.0)


def _scaled_book(book: OrderBook, d: float) -> OrderBook:
    return OrderBook(book.bid_prices, book.bid_sizes * d, book.ask_prices, book.ask_sizes * d)


@dataclass(frozen=True, eq=False)
class LeverInputs:
    """What a :class:`LeverSetting` feeds the population model.

    Attributes
    ----------
    book : OrderBook
        The RKT ladder scaled by ``depth_scale``.
    liq_prices, sizes : ndarray
        The shorts: USD per coin, coins.
    depth_scale : float
        ``free / free_default`` (module docstring).
    locked_coins : float
        Spot coins parked in basis hedges.
    """

    book: OrderBook
    liq_prices: FloatArray
    sizes: FloatArray
    depth_scale: float
    locked_coins: float


def _free(setting: LeverSetting, oi: float) -> float:
    locked = float(locked_spot(oi, setting.basis_share))
    free = setting.free_float - locked
    if not free > 0:
        raise InvalidInputError(
            f"basis hedges lock {locked:,.0f} coins but free_float is {setting.free_float!r}: "
            f"nothing would be left to trade; lower basis_share or short_interest"
        )
    return free


def lever_inputs(setting: LeverSetting | None = None) -> LeverInputs:
    """The book and the shorts for a lever setting (module docstring).

    Raises
    ------
    InvalidInputError
        A setting whose basis hedges lock the whole float, or a leverage so high that a
        short would already be liquidated at the best ask ($10.00).
    """
    st = _setting(setting)
    book, _, size0 = _base()
    sizes = size0 * st.short_interest
    oi0 = float(np.sum(size0))
    d = _free(st, float(np.sum(sizes))) / _free(_DEFAULT, oi0)
    lev = base_leverages() * st.short_leverage
    if not np.all(lev >= 1.0):
        raise InvalidInputError(
            f"short_leverage={st.short_leverage!r} gives a short a leverage of "
            f"{float(lev.min()):.3g}x: leverage must be >= 1 (margin at most the notional); "
            f"use short_leverage >= {1.0 / float(base_leverages().min()):.3g}"
        )
    # Per coin (the price does not depend on the size), rounded to 1e-10 USD so that the
    # default leverages give exactly the tranches' triggers (11.000000000000002 would be
    # triggered by the $11.01 level, not the $11.00 one).
    one = np.ones_like(lev)
    lp = liquidation_price(-1, one, SHORT_ENTRY, SHORT_ENTRY / lev, _MMR)
    lp = np.round(np.asarray(lp, dtype=np.float64), 10)
    if not np.all(np.isfinite(lp)):
        raise InvalidInputError(
            f"short_leverage={st.short_leverage!r} is too small: the liquidation prices "
            f"overflow; use a multiplier of at least 1e-6"
        )
    best = float(book.ask_prices[0])
    if not np.all(lp > best):
        raise InvalidInputError(
            f"short_leverage={st.short_leverage!r} puts a liquidation price at "
            f"{float(lp.min()):.4g} USD, at or below the best ask {best:g}: those shorts "
            f"would be liquidated before any ignition; use short_leverage <= "
            f"{_max_leverage_multiplier():.3g}"
        )
    locked = float(locked_spot(float(np.sum(sizes)), st.basis_share))
    with np.errstate(over="ignore"):
        # the whole side's coins and USD must stay finite for every walk of the book
        scaled_ok = bool(np.isfinite(np.sum(book.ask_sizes * d * book.ask_prices)))
    if not scaled_ok:
        raise InvalidInputError(
            f"free_float={st.free_float!r} scales the book by {d!r}: its sizes overflow; "
            f"use a smaller free_float"
        )
    return LeverInputs(_scaled_book(book, d), lp, sizes, d, locked)


def _max_leverage_multiplier() -> float:
    lev = base_leverages()
    # liquidation price above the best ask b: 1 + 1/L > b (1 + MMR) / entry
    b = 10.0
    return float(np.min(1.0 / ((b * (1.0 + _MMR) / SHORT_ENTRY - 1.0) * lev)))


@dataclass(frozen=True)
class LeverOutcome:
    """The rocket under one lever setting.

    Attributes
    ----------
    critical_usd : float
        Critical ignition, USD (``inf`` if no ignition can liquidate every short).
    critical_coins : float
        The same in coins.
    bottleneck_price : float
        USD per coin: where the cascade is hardest to push through.
    final_price : float
        USD per coin after the setting's ``ignition_usd``.
    amplification : float
        Forced-buy USD over the ignition's USD at ``ignition_usd``.
    n_liquidated : int
        Short positions liquidated at ``ignition_usd`` (of 5).
    depth_scale : float
    """

    critical_usd: float
    critical_coins: float
    bottleneck_price: float
    final_price: float
    amplification: float
    n_liquidated: int
    depth_scale: float


def lever_outcome(setting: LeverSetting | None = None) -> LeverOutcome:
    """Critical ignition and the cascade at ``ignition_usd`` for one setting (exact)."""
    st = _setting(setting)
    inp = lever_inputs(st)
    kw = {"hedge_ratio": st.hedge_ratio, "perp_passthrough": st.perp_passthrough}
    ci = critical_ignition(inp.book, inp.liq_prices, inp.sizes, **kw)
    res = population_cascade(
        inp.book, inp.liq_prices, inp.sizes, st.ignition_usd, ignition_unit="usd", **kw
    )
    return LeverOutcome(
        critical_usd=float(ci.notional),
        critical_coins=float(ci.qty),
        bottleneck_price=float(ci.bottleneck_price),
        final_price=float(res.final_price),
        amplification=float(res.amplification),
        n_liquidated=int(res.n_liquidated),
        depth_scale=inp.depth_scale,
    )


def _check_lever(lever: Any) -> str:
    if not isinstance(lever, str) or lever not in LEVERS:
        raise InvalidInputError(f"lever must be one of {list(LEVERS)}, got {lever!r}")
    return lever


def lever_curve(
    lever: str, multipliers: Any, setting: LeverSetting | None = None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Critical ignition (USD) and final price at ``ignition_usd`` along one lever.

    Parameters
    ----------
    lever : str
        One of :data:`LEVERS`.
    multipliers : array_like
        Values of the lever as multiples of its value in ``setting``, > 0 (1 = unchanged).
        A value outside the lever's range is rejected (the error names lever and value).
    setting : LeverSetting, optional

    Returns
    -------
    values, critical_usd, final_price : ndarray
        The lever's values (its unit), USD, USD per coin; shape of ``multipliers``.
    """
    name = _check_lever(lever)
    st = _setting(setting)
    m = np.atleast_1d(np.asarray(check_positive("multipliers", multipliers), dtype=np.float64))
    if m.ndim != 1:
        raise InvalidInputError(
            f"multipliers must be a number or a 1-D array, got shape {np.shape(multipliers)}"
        )
    values = getattr(st, name) * m
    crit = np.empty(m.size)
    final = np.empty(m.size)
    for i, v in enumerate(values.ravel()):
        out = lever_outcome(st.replace(**{name: float(v)}))
        crit[i], final[i] = out.critical_usd, out.final_price
    return values, crit, final


@dataclass(frozen=True)
class LeverRow:
    """One lever's line of :class:`LeverTable` (USD, dimensionless)."""

    lever: str
    label: str
    reason: str
    default: float
    unit: str
    critical_down: float | None
    critical_up: float | None
    elasticity_down: float | None
    elasticity_up: float | None

    @property
    def elasticity(self) -> float:
        """The larger-magnitude one-sided elasticity (the ranking key)."""
        sides = [e for e in (self.elasticity_down, self.elasticity_up) if e is not None]
        return max(sides, key=abs)


@dataclass(frozen=True)
class LeverTable:
    """Elasticities of the critical ignition, one row per lever, ranked.

    Attributes
    ----------
    rows : tuple of LeverRow
        Sorted by ``|elasticity|``, largest first.
    critical_usd : float
        Critical ignition at the base setting, USD.
    step : float
        The relative change of each lever (0.1 = 10 %).
    """

    rows: tuple[LeverRow, ...]
    critical_usd: float
    step: float

    def row(self, lever: str) -> LeverRow:
        """The row of ``lever``."""
        for r in self.rows:
            if r.lever == lever:
                return r
        raise InvalidInputError(f"no row for lever {lever!r}; rows: {[r.lever for r in self.rows]}")

    def text(self) -> str:
        """The table as fixed-width text (<= 80 columns)."""
        pct = f"{self.step:.0%}"
        rows = [
            (
                r.label,
                r.default,
                r.critical_down,
                r.critical_up,
                r.elasticity_down,
                r.elasticity_up,
            )
            for r in self.rows
        ]
        return text_table(
            rows,
            ["lever", "default", f"-{pct} (USD)", f"+{pct} (USD)", "e-", "e+"],
            [None, ",.4g", ",.0f", ",.0f", "+.2f", "+.2f"],
            title=(
                f"Critical ignition {self.critical_usd:,.0f} USD at the default\n"
                f"e-, e+: its elasticity for a {pct} cut / rise of the lever"
            ),
        )

    def __repr__(self) -> str:
        return self.text()


def _elasticity(c0: float, c1: float | None, factor: float) -> float | None:
    if c1 is None:
        return None
    if math.isinf(c0) or math.isinf(c1):
        return math.inf if c1 > c0 else (-math.inf if c1 < c0 else 0.0)
    return math.log(c1 / c0) / math.log(factor)


_STEP_MIN = 1e-6


def lever_table(step: float = 0.10, setting: LeverSetting | None = None) -> LeverTable:
    """Which lever matters most: the critical ignition's elasticity to each lever.

    Moves each lever of :data:`LEVERS` by ``-step`` and ``+step`` (relative) around
    ``setting`` (default: RocketCoin as told) and measures the critical ignition; a side
    outside the lever's range is left out (``None``).

    Parameters
    ----------
    step : float, default 0.1
        Relative change, in [1e-6, 0.9] (a smaller step would measure the rounding of
        ``1 + step``, not the ladder).
    setting : LeverSetting, optional

    Returns
    -------
    LeverTable
        ``lever_table().text()`` prints it.
    """
    s = check_scalar("step", step, check_positive)
    if not _STEP_MIN <= s <= 0.9:
        raise InvalidInputError(f"step must be in [{_STEP_MIN:g}, 0.9], got {step!r}")
    st = _setting(setting)
    c0 = lever_outcome(st).critical_usd
    rows = []
    for name, (label, unit, reason) in LEVERS.items():
        x0 = getattr(st, name)
        crit: list[float | None] = []
        for f in (1.0 - s, 1.0 + s):
            x = x0 * f
            try:
                crit.append(lever_outcome(st.replace(**{name: x})).critical_usd)
            except InvalidInputError:
                crit.append(None)
        rows.append(
            LeverRow(
                name,
                label,
                reason,
                x0,
                unit,
                crit[0],
                crit[1],
                _elasticity(c0, crit[0], 1.0 - s),
                _elasticity(c0, crit[1], 1.0 + s),
            )
        )
    rows.sort(key=lambda r: -abs(r.elasticity))
    return LeverTable(tuple(rows), c0, s)


# --------------------------------------------------------------------------- funding


def basis_carry(premium: Any, *, interval_hours: float = 8.0) -> Any:
    """Funding a basis trader earns per year for a perp premium, fraction of notional.

    The premium (perp over index, fraction) sets the funding rate by Binance's formula
    (:func:`perpsbook.funding.funding_rate`: interest 0.01 % per 8 h, the +-0.05 % clamp,
    cap 2 % as for Binance's smaller perps); the short perp leg receives it every
    ``interval_hours``. Price moves cancel between the legs
    (:func:`perpsbook.funding.basis_trade_pnl`), so this is the reward for locking one
    coin of spot away per coin of short perp.

    Parameters
    ----------
    premium : float or array
        Average premium index over an interval, fraction (0.001 = 0.1 %).
    interval_hours : float, default 8
        Hours between funding payments, in [1/60, 8760] (a minute to a year).

    Returns
    -------
    float or ndarray
        Funding received per year per USD of notional (0.1 = 10 % a year).
    """
    h = check_scalar("interval_hours", interval_hours, check_positive)
    if not 1.0 / 60.0 <= h <= 24.0 * 365.0:
        raise InvalidInputError(
            f"interval_hours must be in [1/60, 8760] (a minute to a year), got {interval_hours!r}"
        )
    rate = funding_rate(
        premium, interest_rate=INTEREST_RATE_8H, cap=OTHERS_FUNDING_CAP, interval_hours=h
    )
    return rate * (24.0 * 365.0 / h)


# --------------------------------------------------------------------------- two markets


@dataclass(frozen=True)
class TwoMarketLever:
    """One infrastructure setting measured on the two-market engine.

    Attributes
    ----------
    label : str
    critical_usd : float
        Smallest ignition (USD) that closes every short (``inf`` if none up to $5M).
    closes_above : bool
        Every larger ignition tried closes them too (:class:`VenueCritical`).
    amplification : float
        Forced buying over the ignition at $200,000.
    final_mark : float
        USD per coin after $200,000.
    """

    label: str
    critical_usd: float
    closes_above: bool
    amplification: float
    final_mark: float


def _all_closed(scenario: Any, usd: float) -> tuple[bool, Any]:
    res = scenario.with_params(ignition_notional=float(usd)).run()
    closed = res.liquidated_qty + res.adl_qty
    total = float(scenario.facts["tranche_coins"])
    return bool(closed >= total * (1.0 - 1e-9)), res


@dataclass(frozen=True)
class VenueCritical:
    """The smallest ignition that closes every short on the full engine.

    Attributes
    ----------
    usd : float
        Smallest ignition found (USD); ``inf`` if no grid point up to ``hi`` closes them.
    closes_above : bool
        Whether every larger grid point closes them too. False means the engine is not
        monotone in the ignition here: a larger ignition can stop short (e.g. a tranche
        taken by auto-deleveraging instead of the book sends no forced buying, so the
        next tranche is never triggered).
    grid : ndarray
        The ignitions tried (USD).
    closed : ndarray of bool
        Which of them closed every short.
    """

    usd: float
    closes_above: bool
    grid: FloatArray
    closed: npt.NDArray[np.bool_]


_GRID_MAX = 1000


def venue_critical_ignition(
    scenario: Any,
    *,
    lo: float = 10_000.0,
    hi: float = 5_000_000.0,
    n_grid: int = 28,
    rtol: float = 0.005,
) -> VenueCritical:
    """Smallest ignition (USD) after which every short is closed, on the full engine.

    Measured on the two-market engine with the scenario's venue rules (mark rule,
    liquidation policy, insurance fund, ADL, re-posting...). For the configuration that
    has an exact answer (mark = index, no arbitrage, refill or re-posting, full closes)
    use :func:`perpsbook.theory.two_market_critical_ignition` instead.

    Closed = liquidated by the engine or auto-deleveraged (``liquidated_qty + adl_qty``
    covers the tranches' coins). The engine need not be monotone in the ignition, so the
    ignitions of a geometric grid from ``lo`` to ``hi`` are all run; the first that closes
    every short is refined by bisection against the grid point below it (to ``rtol``).

    Parameters
    ----------
    scenario : perpsbook.scenarios.TwoMarketScenario
    lo, hi : float
        USD, 0 < lo < hi.
    n_grid : int
        Grid points, 2 .. 1000 (each one runs the whole engine).
    rtol : float
        Relative width at which the bisection stops, in [1e-9, 1).

    ``usd`` is ``inf`` when no grid point up to ``hi`` closes every short.

    Returns
    -------
    VenueCritical
    """
    if not isinstance(scenario, TwoMarketScenario):
        raise InvalidInputError(
            f"scenario must be a TwoMarketScenario (perpsbook.scenarios."
            f"rocketcoin_two_market), got {type(scenario).__name__}"
        )
    lo = check_scalar("lo", lo, check_positive)
    hi = check_scalar("hi", hi, check_positive)
    tol = check_scalar("rtol", rtol, check_positive)
    if not 1e-9 <= tol < 1.0:
        raise InvalidInputError(f"rtol must be in [1e-9, 1), got {rtol!r}")
    if not lo < hi:
        raise InvalidInputError(f"lo must be below hi, got lo={lo!r}, hi={hi!r}")
    n = check_count("n_grid", n_grid, 2)
    if n > _GRID_MAX:
        raise InvalidInputError(
            f"n_grid must be an integer in [2, {_GRID_MAX}] (each point runs the engine), "
            f"got {n_grid!r}"
        )
    grid = np.geomspace(lo, hi, n)
    closed = np.array([_all_closed(scenario, g)[0] for g in grid])
    if not closed.any():
        return VenueCritical(math.inf, False, grid, closed)
    first = int(np.argmax(closed))
    above = bool(closed[first:].all())
    if first == 0:
        return VenueCritical(float(grid[0]), above, grid, closed)
    a, b = float(grid[first - 1]), float(grid[first])
    while b / a - 1.0 > tol:
        mid = math.sqrt(a * b)
        if _all_closed(scenario, mid)[0]:
            b = mid
        else:
            a = mid
    return VenueCritical(b, above, grid, closed)


_TWO_MARKET_CASES: dict[str, dict[str, Any]] = {
    "binance, as built": {},
    "hedge lag 1 stage": {"lag": 1},
    "hedge ratio 0.9": {"hedge_ratio": 0.9},
    "perp re-post 50 %": {"mm_repost": 0.5},
    "spot refill 10 %": {"spot_refill": 0.1},
    "mark = index": {"mark": "index"},
}


def two_market_lever_table(
    venues: tuple[str, ...] = ("binance", "hyperliquid"),
) -> tuple[TwoMarketLever, ...]:
    """Infrastructure levers on the two-market engine (RocketCoin, per venue).

    For each venue of ``venues`` the as-built scenario
    (:func:`perpsbook.scenarios.rocketcoin_two_market`) and one change at a time: a one-stage
    hedge lag, a 10 % lower hedge ratio, 50 % perp re-posting, 10 % spot refill, the mark
    replaced by the index. Each is measured by its critical ignition
    (:func:`venue_critical_ignition`) and by the amplification and mark at $200,000.

    Parameters
    ----------
    venues : tuple or list of str
        Names from :data:`perpsbook.scenarios.TWO_MARKET_VENUES`.

    Returns
    -------
    tuple of TwoMarketLever
        Labels ``"<venue>: <change>"``.
    """
    ok = (
        isinstance(venues, (tuple, list))
        and len(venues) > 0
        and all(isinstance(v, str) and v.strip().lower() in TWO_MARKET_VENUES for v in venues)
    )
    if not ok:
        raise InvalidInputError(
            f"venues must be a non-empty tuple or list of venue names from "
            f"{TWO_MARKET_VENUES}, such as ('binance',), got {venues!r}"
        )
    out = []
    for v in venues:
        base = rocketcoin_two_market(v)
        for label, change in _TWO_MARKET_CASES.items():
            sc = base.with_params(**change) if change else base
            if "mark" in change:
                sc = base.with_params(mark=change["mark"])
            res = sc.run()
            crit = venue_critical_ignition(sc)
            out.append(
                TwoMarketLever(
                    f"{v}: {label.replace('binance, as built', 'as built')}",
                    crit.usd,
                    crit.closes_above,
                    float(res.amplification),
                    float(res.final_mark),
                )
            )
    return tuple(out)


# --------------------------------------------------------------------------- sniping


@dataclass(frozen=True, eq=False)
class SnipeResult:
    """What a liquidation sniper makes and what it costs the shorts, per sniper size.

    Every field is an array with the shape of ``q`` (USD unless stated).

    Attributes
    ----------
    q : ndarray
        Coins the sniper buys.
    entry_usd : ndarray
        What the sniper pays: the ladder from where the ignitor stopped.
    exit_usd : ndarray
        What it receives selling its ``q`` coins (see :func:`snipe`).
    pnl : ndarray
        ``exit_usd - entry_usd``.
    final_price : ndarray
        USD per coin where the cascade stops.
    n_liquidated : ndarray of int
    shorts_loss : ndarray
        USD the short side loses closing its liquidated positions: buy-back USD minus
        the entry value (``SHORT_ENTRY`` x coins); beyond their margin it is paid by the
        insurance fund or socialised, so this is the loss of the short side as a whole.
    shorts_extra_loss : ndarray
        ``shorts_loss`` minus the same without the sniper.
    ignitor_usd : float
        The ignitor's buy, USD.
    break_even_q : float
        Smallest ``q`` of the grid with ``pnl >= 0`` (``nan``-free: ``inf`` if none).
    """

    q: FloatArray
    entry_usd: FloatArray
    exit_usd: FloatArray
    pnl: FloatArray
    final_price: FloatArray
    n_liquidated: npt.NDArray[np.intp]
    shorts_loss: FloatArray
    shorts_extra_loss: FloatArray
    ignitor_usd: float
    break_even_q: float


def snipe(
    q: Any, *, ignitor_usd: float = 150_000.0, setting: LeverSetting | None = None
) -> SnipeResult:
    """Liquidation sniping as a pure, vectorised function of the sniper's size ``q``.

    The accounting, on the population model of ``setting`` (one ladder):

    1. the ignitor buys ``ignitor_usd`` of spot: ``Q0`` coins;
    2. the sniper buys ``q`` coins right after, on the same ladder: it pays
       ``cost(Q0 + q) - cost(Q0)``;
    3. the cascade runs from the combined ignition ``Q0 + q``
       (:func:`perpsbook.population.population_cascade`) and sends ``Q*`` coins of demand
       into the ladder;
    4. the sniper sells ``min(q, forced)`` coins to the forced buyers at the top, at the
       prices they pay for the last coins of the demand, ``cost(Q*) - cost(Q* - x)``
       (its asks stand in for those ladder coins), and dumps any rest into the bids of the
       fresh book (a failed snipe);
    5. ``pnl = exit - entry``; the shorts' loss is their buy-back USD minus their entry
       value.

    Assumption: the sniper's sale does not change which shorts are liquidated -- its
    coins are sold to buyers who are already forced to buy. It overstates the P&L when
    the sale is large compared with the buying that follows the last trigger.

    Parameters
    ----------
    q : float or array_like
        Coins, >= 0 (0 = no sniper).
    ignitor_usd : float, default 150,000
        The ignitor's spot buy, USD, > 0; below the critical ignition the sniper is what
        lights the rocket.
    setting : LeverSetting, optional

    Returns
    -------
    SnipeResult
        ``break_even_q`` is ``inf`` when no ``q > 0`` of the grid breaks even (``q = 0``
        alone, or every size too small to pay for its entry).
    """
    qq = np.atleast_1d(np.asarray(check_nonnegative("q", q), dtype=np.float64))
    if qq.ndim != 1:
        raise InvalidInputError(f"q must be a number or a 1-D array, got shape {np.shape(q)}")
    usd = check_scalar("ignitor_usd", ignitor_usd, check_positive)
    st = _setting(setting)
    inp = lever_inputs(st)
    lad = book_ladder(inp.book, 1)
    q0 = float(coins_for_usd(lad, np.array([usd]))[0])
    room = float(inp.book.total_ask_qty) - q0
    if not np.all(qq <= room):
        raise InvalidInputError(
            f"q must be at most the {max(room, 0.0):,.6g} coins left on the ask side after the "
            f"ignitor, got a maximum of {float(np.max(qq))!r}"
        )
    kw = {"hedge_ratio": st.hedge_ratio, "perp_passthrough": st.perp_passthrough}
    ign = np.concatenate(([q0], q0 + qq))
    res = population_cascade(inp.book, inp.liq_prices, inp.sizes, ign, **kw)
    cost0 = walk_cost(lad, np.array([q0]))[0][0]
    entry = walk_cost(lad, q0 + qq)[0] - cost0
    demand = np.asarray(res.ignition_qty) + np.asarray(res.ladder_qty)
    forced = np.asarray(res.ladder_qty)[1:]
    sold_top = np.minimum(qq, forced)
    top = demand[1:]
    exit_top = walk_cost(lad, top)[0] - walk_cost(lad, top - sold_top)[0]
    rest = qq - sold_top
    bids = inp.book.walk(-1, rest)
    exit_usd = exit_top + np.asarray(bids.notional)
    pnl = exit_usd - entry
    liq_usd = np.asarray(res.liquidated_notional)
    liq_qty = np.asarray(res.liquidated_qty)
    loss = liq_usd - SHORT_ENTRY * liq_qty
    ok = np.flatnonzero(pnl[qq > 0] >= 0) if np.any(qq > 0) else np.array([], int)
    qpos = qq[qq > 0]
    be = float(qpos[ok[0]]) if ok.size else math.inf
    return SnipeResult(
        q=qq,
        entry_usd=entry,
        exit_usd=exit_usd,
        pnl=pnl,
        final_price=np.asarray(res.final_price)[1:],
        n_liquidated=np.asarray(res.n_liquidated)[1:],
        shorts_loss=loss[1:],
        shorts_extra_loss=loss[1:] - loss[0],
        ignitor_usd=usd,
        break_even_q=be,
    )
