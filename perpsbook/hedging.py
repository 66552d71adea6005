"""The market maker that carries perp flow into spot: absorb, then delta-hedge.

When liquidated shorts are bought back, someone sells them those perps. Here that someone
is a market maker (MM): it takes the other side of the forced flow (:meth:`MarketMaker.absorb`)
and, to stay close to delta-neutral, buys ``hedge_ratio`` times that many coins in the spot
book (:meth:`MarketMaker.hedge`) -- which is how a perp squeeze becomes a spot rally. Forced
sells (long liquidations) are mirrored: the MM buys perps and sells spot.

Everything is a pure function of its inputs: a :class:`MarketMakerState` goes in, a new one
comes out with the spot :class:`~perpsbook.book.Fill` and the book after it.

Two runners chain those steps on the one-ladder model of the market-makers chapter (the
engine's perp buy and the MM's spot hedge walk the same ask ladder):
:func:`forced_buy_prices` gives the price after one stage of forced buying and its
immediate hedge, for a whole grid of sizes and hedge ratios at once, and
:func:`market_maker_path` runs a :class:`MarketMaker` (lag, inventory limit) stage by
stage into a :class:`HedgePath`.

Units: prices USD per coin, positions and hedges in coins (signed: + long / buy), cash,
fees and PnL in USD.

Model choices
-------------
* **Hedge ratio** ``h`` in [0, :data:`HEDGE_RATIO_MAX`] = [0, 2]: 0 is a MM that never
  hedges, 1 a full delta hedge, values above 1 over-hedge (allowed for study: an MM that
  also trades the momentum). Each absorbed perp trade of ``q`` coins schedules a spot trade
  of ``h * q`` coins in the same direction as the forced flow.
* **Lag** (integer stages >= 0): a hedge scheduled at stage t executes in the
  :meth:`MarketMaker.hedge` call of stage ``t + lag``. ``lag = 0`` hedges in the same stage.
* **Inventory limit** (coins, or None for no limit): after the due hedges are executed, if
  the MM's net delta ``perp + spot`` still exceeds the limit in absolute value, the excess
  is hedged *immediately*, regardless of lag. The coins come first out of the hedges already
  scheduled in that direction (earliest first), so the total hedged over time is unchanged
  when those suffice; beyond that the limit overrides ``h`` (a MM with ``h = 0.5`` and a
  tight limit ends up hedging more than half). The MM never refuses to absorb: it is the
  liquidity the forced orders hit.
* **Dry spot book**: a hedge larger than the book fills what it can; the rest is recorded in
  ``state.unfilled_hedge`` and carried into the next stage's queue (the MM still wants it).
* **Accounting**: average-cost. ``realised_pnl`` accumulates when a position is reduced;
  ``pnl(perp_mark, spot_price) = realised + unrealised - fees`` and equals
  ``cash - initial_cash + perp * perp_mark + spot * spot_price`` (the MM starts flat). Perp
  trades are booked as if the notional were paid in cash (as in :mod:`perpsbook.ledger`),
  so ``cash`` is the MM's USD balance in that ledger convention.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np

from perpsbook.book import Fill, OrderBook
from perpsbook.errors import (
    InsufficientLiquidityError,
    InvalidInputError,
    check_count,
    check_finite,
    check_fraction,
    check_nonnegative,
    check_positive,
    check_scalar,
)

__all__ = [
    "HEDGE_RATIO_MAX",
    "MAX_QUEUE_LAG",
    "HedgePath",
    "HedgeStep",
    "MarketMaker",
    "MarketMakerState",
    "delta",
    "forced_buy_prices",
    "market_maker_path",
    "pnl",
]

HEDGE_RATIO_MAX = 2.0
"""Largest hedge ratio accepted (over-hedging up to 2x is allowed for study)."""

MAX_QUEUE_LAG = 2_000
"""Largest lag (stages) of a :class:`MarketMaker` whose hedge queue this module builds.

A :class:`MarketMakerState` keeps one queue slot per stage of lag, and
:func:`market_maker_path` one row per stage (the schedule plus ``lag`` stages for the last
hedge to come due), so :meth:`MarketMaker.initial_state` and :func:`market_maker_path`
refuse a larger lag with :class:`~perpsbook.errors.InvalidInputError` instead of
allocating memory (and time) in proportion to it: ``lag=10**6`` would cost gigabytes.
:class:`MarketMaker` itself accepts any lag >= 0; the cascade (:mod:`perpsbook.cascade`)
keeps its own queue as ``(due stage, coins)`` pairs and runs any lag in O(stages).
"""

_DUST = 1e-12  # relative size below which a position is floating-point dust


def _check_queue_lag(lag: int, where: str) -> None:
    if lag > MAX_QUEUE_LAG:
        raise InvalidInputError(
            f"lag must be <= {MAX_QUEUE_LAG:,} stages for {where}, got {lag!r}: the hedge "
            f"queue keeps one slot per stage of lag (a cascade run accepts any lag)"
        )


def _avg_cost(
    position: float, entry: float, qty: float, price: float
) -> tuple[float, float, float]:
    """Trade ``qty`` (signed coins) at ``price`` against an average-cost position.

    Returns (new position, new average entry, realised PnL in USD).
    """
    new = position + qty
    if abs(new) <= _DUST * max(abs(position), abs(qty)):
        new = 0.0
    if position == 0.0 or math.copysign(1.0, position) == math.copysign(1.0, qty):
        new_entry = (position * entry + qty * price) / new if new != 0.0 else 0.0
        return new, new_entry, 0.0
    closing = min(abs(qty), abs(position))
    realised = math.copysign(closing, position) * (price - entry)
    if new == 0.0:
        return 0.0, 0.0, realised
    if math.copysign(1.0, new) == math.copysign(1.0, position):
        return new, entry, realised
    return new, price, realised  # flipped: the remainder opened at this price


@dataclass(frozen=True)
class MarketMakerState:
    """What the market maker holds, immutable.

    Attributes
    ----------
    perp_position : float
        Perp contracts, coins, signed (+ long).
    spot_position : float
        Spot coins, signed (a negative balance is a short / borrowed coins).
    cash : float
        USD balance (perp notional booked as cash, see the module docstring).
    pending : tuple of float
        Spot coins to trade (+ buy, - sell) due 0, 1, ..., lag stages from ``stage``.
    stage : int
        The stage whose :meth:`MarketMaker.hedge` call comes next, an integer >= 0.
    perp_entry, spot_entry : float
        Average entry prices of the open positions, USD per coin (0 when flat).
    realised_pnl : float
        USD realised on reductions (before fees).
    fees_paid : float
        USD of spot fees paid.
    unfilled_hedge : float
        Coins (signed) of the last hedge the spot book could not fill; carried into the
        next stage's queue.
    initial_cash : float
        Cash at the start, USD (P&L is measured from it).
    """

    perp_position: float = 0.0
    spot_position: float = 0.0
    cash: float = 0.0
    pending: tuple[float, ...] = (0.0,)
    stage: int = 0
    perp_entry: float = 0.0
    spot_entry: float = 0.0
    realised_pnl: float = 0.0
    fees_paid: float = 0.0
    unfilled_hedge: float = 0.0
    initial_cash: float = 0.0

    def __post_init__(self) -> None:
        for name in (
            "perp_position",
            "spot_position",
            "cash",
            "realised_pnl",
            "unfilled_hedge",
            "initial_cash",
            "perp_entry",
            "spot_entry",
        ):
            object.__setattr__(self, name, check_scalar(name, getattr(self, name)))
        fees = check_scalar("fees_paid", self.fees_paid, check_nonnegative)
        object.__setattr__(self, "fees_paid", fees)
        pending = np.atleast_1d(check_finite("pending", self.pending))
        if pending.ndim != 1 or pending.size == 0:
            raise InvalidInputError(
                f"pending must be a non-empty 1-D sequence of coins (lag + 1 entries), got "
                f"shape {pending.shape}"
            )
        object.__setattr__(self, "pending", tuple(pending.tolist()))
        object.__setattr__(self, "stage", check_count("stage", self.stage, 0))

    @property
    def delta(self) -> float:
        """Net coin exposure ``perp + spot`` (coins)."""
        return self.perp_position + self.spot_position

    @property
    def pending_total(self) -> float:
        """Coins of hedges scheduled but not yet executed (signed)."""
        return math.fsum(self.pending)

    def value(self, perp_mark: float, spot_price: float) -> float:
        """Mark-to-market value, USD: ``cash + perp * perp_mark + spot * spot_price``."""
        pm = check_scalar("perp_mark", perp_mark, check_positive)
        sp = check_scalar("spot_price", spot_price, check_positive)
        return self.cash + self.perp_position * pm + self.spot_position * sp

    def unrealised_pnl(self, perp_mark: float, spot_price: float) -> float:
        """USD of open-position PnL at the given prices (USD per coin)."""
        pm = check_scalar("perp_mark", perp_mark, check_positive)
        sp = check_scalar("spot_price", spot_price, check_positive)
        return self.perp_position * (pm - self.perp_entry) + self.spot_position * (
            sp - self.spot_entry
        )

    def pnl(self, perp_mark: float, spot_price: float) -> float:
        """Total P&L, USD: ``realised + unrealised - fees`` (= value - initial cash)."""
        return self.realised_pnl + self.unrealised_pnl(perp_mark, spot_price) - self.fees_paid


def pnl(state: MarketMakerState, perp_mark: float, spot_price: float) -> float:
    """The MM's P&L in USD at ``perp_mark`` and ``spot_price`` (USD per coin).

    See :meth:`MarketMakerState.pnl`.
    """
    return _check_state(state).pnl(perp_mark, spot_price)


def delta(state: MarketMakerState) -> float:
    """The MM's net delta ``perp + spot`` in coins."""
    return _check_state(state).delta


def _check_state(state: Any) -> MarketMakerState:
    if not isinstance(state, MarketMakerState):
        raise InvalidInputError(f"state must be a MarketMakerState, got {type(state).__name__}")
    return state


class HedgeStep(NamedTuple):
    """Result of :meth:`MarketMaker.hedge`: ``(state, fill, book_after)``.

    ``fill`` is None when no spot trade was due (or the needed side of the book is empty;
    then ``state.unfilled_hedge`` says how much).
    """

    state: MarketMakerState
    fill: Fill | None
    book_after: OrderBook


@dataclass(frozen=True)
class MarketMaker:
    """A delta-hedging market maker's parameters.

    Parameters
    ----------
    hedge_ratio : float
        Spot coins bought per perp coin sold (and sold per perp coin bought), in
        [0, :data:`HEDGE_RATIO_MAX`]. Default 1 (full hedge).
    lag : int
        Stages between absorbing perp flow and executing its hedge, >= 0. Default 0.
        :meth:`initial_state` and :func:`market_maker_path` need ``lag <=``
        :data:`MAX_QUEUE_LAG` (one queue slot per stage of lag).
    inventory_limit : float or None
        Largest ``|perp + spot|`` (coins) the MM carries after a hedge step; excess is hedged
        at once (module docstring). None = no limit (default).
    spot_fee_rate : float
        Taker fee on spot hedges, fraction of notional in [0, 1). Default 0.

    Raises
    ------
    InvalidInputError
        Hedge ratio outside [0, 2], negative or non-integer lag, negative/NaN limit, bad fee.
    """

    hedge_ratio: float = 1.0
    lag: int = 0
    inventory_limit: float | None = None
    spot_fee_rate: float = 0.0

    def __post_init__(self) -> None:
        h = check_scalar("hedge_ratio", self.hedge_ratio, check_fraction, upper=HEDGE_RATIO_MAX)
        object.__setattr__(self, "hedge_ratio", h)
        object.__setattr__(self, "lag", check_count("lag", self.lag, 0))
        if self.inventory_limit is not None:
            limit = check_scalar("inventory_limit", self.inventory_limit, check_nonnegative)
            object.__setattr__(self, "inventory_limit", limit)
        fee = check_scalar("spot_fee_rate", self.spot_fee_rate)
        if not 0.0 <= fee < 1.0:
            raise InvalidInputError(f"spot_fee_rate must lie in [0, 1), got {self.spot_fee_rate!r}")
        object.__setattr__(self, "spot_fee_rate", fee)

    def initial_state(self, cash: float = 0.0) -> MarketMakerState:
        """A flat MM with ``cash`` USD and an empty hedge queue of ``lag + 1`` stages.

        Raises
        ------
        InvalidInputError
            ``cash`` not a finite number, or ``lag >`` :data:`MAX_QUEUE_LAG`.
        """
        _check_queue_lag(self.lag, "initial_state()")
        c = check_scalar("cash", cash)
        return MarketMakerState(cash=c, initial_cash=c, pending=(0.0,) * (self.lag + 1))

    def _state(self, state: Any) -> MarketMakerState:
        st = _check_state(state)
        if len(st.pending) != self.lag + 1:
            raise InvalidInputError(
                f"state.pending has {len(st.pending)} stages but this MarketMaker has lag "
                f"{self.lag} (needs {self.lag + 1}); build states with initial_state()"
            )
        return st

    def absorb(self, state: MarketMakerState, perp_qty: float, price: float) -> MarketMakerState:
        """Take the other side of forced perp flow and schedule its hedge.

        Parameters
        ----------
        state : MarketMakerState
        perp_qty : float
            The forced flow, coins, signed: +q when the liquidation engine *buys* q perps
            (closing shorts) -- the MM then sells q perps -- and -q when it sells. 0 is a
            no-op.
        price : float
            USD per coin of the trade, > 0.

        Returns
        -------
        MarketMakerState
            ``perp_position -= perp_qty``, ``cash += perp_qty * price``, and a spot hedge
            of ``hedge_ratio * perp_qty`` coins queued ``lag`` stages ahead.
        """
        st = self._state(state)
        q = check_scalar("perp_qty", perp_qty)
        p = check_scalar("price", price, check_positive)
        if q == 0.0:
            return st
        position, entry, realised = _avg_cost(st.perp_position, st.perp_entry, -q, p)
        pending = list(st.pending)
        pending[self.lag] += self.hedge_ratio * q
        return replace(
            st,
            perp_position=position,
            perp_entry=entry,
            cash=st.cash + q * p,
            realised_pnl=st.realised_pnl + realised,
            pending=tuple(pending),
        )

    def hedge(
        self, state: MarketMakerState, spot_book: OrderBook, stage: int | None = None
    ) -> HedgeStep:
        """Execute the hedges due at ``stage`` (plus any inventory-limit excess) in spot.

        Parameters
        ----------
        state : MarketMakerState
        spot_book : OrderBook
            Spot book, prices USD per coin, sizes coins.
        stage : int, optional
            The stage being closed, >= ``state.stage`` (default ``state.stage``). Skipping
            ahead executes everything due up to and including ``stage``; it costs the
            ``lag + 1`` queue slots, not the number of stages skipped.

        Returns
        -------
        HedgeStep
            ``(state, fill, book_after)``: the new state (``stage + 1``), the spot Fill (None
            if nothing traded) and the spot book after it.
        """
        st = self._state(state)
        if not isinstance(spot_book, OrderBook):
            raise InvalidInputError(
                f"spot_book must be an OrderBook, got {type(spot_book).__name__}"
            )
        at = st.stage if stage is None else check_count("stage", stage, st.stage)
        steps = at - st.stage
        # Everything due up to ``at`` trades now; the queue after it keeps lag + 1 slots.
        # Only the lag + 1 slots held are touched, however far ``stage`` skips ahead.
        trade = math.fsum(st.pending[: steps + 1])
        rest = list(st.pending[steps + 1 :])
        rest += [0.0] * (self.lag + 1 - len(rest))
        trade, rest = self._apply_limit(st, trade, rest)

        fill: Fill | None = None
        book_after = spot_book
        done = 0.0
        if trade != 0.0:
            depth = spot_book.total_ask_qty if trade > 0 else spot_book.total_bid_qty
            if depth > 0:
                fill = spot_book.market_order(1 if trade > 0 else -1, abs(trade), partial=True)
                book_after = fill.book_after
                done = math.copysign(fill.qty, trade)
        unfilled = trade - done if fill is None or fill.unfilled > 0 else 0.0
        rest[0] += unfilled
        new = replace(st, pending=tuple(rest), stage=at + 1, unfilled_hedge=unfilled)
        if fill is not None:
            fee = self.spot_fee_rate * fill.notional
            position, entry, realised = _avg_cost(st.spot_position, st.spot_entry, done, fill.vwap)
            new = replace(
                new,
                spot_position=position,
                spot_entry=entry,
                cash=st.cash - math.copysign(fill.notional, trade) - fee,
                realised_pnl=st.realised_pnl + realised,
                fees_paid=st.fees_paid + fee,
            )
        return HedgeStep(new, fill, book_after)

    def _apply_limit(
        self, st: MarketMakerState, trade: float, rest: list[float]
    ) -> tuple[float, list[float]]:
        """Hedge at once whatever |delta| would exceed the inventory limit after ``trade``."""
        if self.inventory_limit is None:
            return trade, rest
        after = st.delta + trade
        excess = abs(after) - self.inventory_limit
        if excess <= 0:
            return trade, rest
        extra = -math.copysign(excess, after)
        # Bring forward hedges already queued in that direction, earliest first.
        queued = np.array(rest)
        same = np.where(np.sign(queued) == np.sign(extra), np.abs(queued), 0.0)
        take = np.minimum(same, np.maximum(excess - (np.cumsum(same) - same), 0.0))
        queued -= np.sign(extra) * take
        return trade + extra, queued.tolist()

    def step(
        self, state: MarketMakerState, perp_qty: float, price: float, spot_book: OrderBook
    ) -> HedgeStep:
        """:meth:`absorb` then :meth:`hedge` for the current stage."""
        return self.hedge(self.absorb(state, perp_qty, price), spot_book)


# ======================================================================================
# Runs of a market maker against one ladder (the market-makers chapter's model)
# ======================================================================================


def forced_buy_prices(book: OrderBook, forced_usd: Any, hedge_ratio: Any) -> np.ndarray:
    """Last traded price after forced perp buying and the market maker's immediate hedge.

    The one-ladder model of the cascade chapters (one price, one ask ladder): the liquidation
    engine's market buy of ``forced_usd`` USD walks the asks and fills ``q`` coins; the market
    maker (MM) who sold those perps then buys ``hedge_ratio * q`` coins of spot on the same
    ladder. The result is the price after ``(1 + h) * q`` coins, computed for a whole grid at
    once: ``q`` from the cumulative depth (USD -> coins is piecewise linear, one slope per
    level, so interpolation is exact), the price from
    :meth:`perpsbook.book.OrderBook.impact_curve`. Same result as :func:`market_maker_path`
    with one batch and ``lag = 0``.

    Parameters
    ----------
    book : OrderBook
        The market book before the stage (prices USD per coin, sizes coins).
    forced_usd : float or array
        USD of perp bought by the liquidation engine, > 0.
    hedge_ratio : float or array
        Spot coins bought per perp coin sold, >= 0; broadcast against ``forced_usd``.

    Returns
    -------
    ndarray
        USD per coin, the broadcast shape of the inputs.

    Raises
    ------
    InsufficientLiquidityError
        If the engine's order or the hedge needs more than the asks hold.
    """
    if not isinstance(book, OrderBook):
        raise InvalidInputError(
            f"book must be a perpsbook.book.OrderBook, got {type(book).__name__}"
        )
    usd = np.asarray(check_positive("forced_usd", forced_usd), dtype=np.float64)
    h = np.asarray(check_nonnegative("hedge_ratio", hedge_ratio), dtype=np.float64)
    try:
        np.broadcast_shapes(usd.shape, h.shape)
    except ValueError as exc:
        raise InvalidInputError(
            f"forced_usd {usd.shape} and hedge_ratio {h.shape} do not broadcast together"
        ) from exc
    _, cum_qty, cum_usd = book.cumulative_depth(1)
    available = float(cum_usd[-1]) if cum_usd.size else 0.0
    if usd.max() > available:
        raise InsufficientLiquidityError("buy", float(usd.max()), available, "USD")
    coins = np.interp(usd, np.concatenate([[0.0], cum_usd]), np.concatenate([[0.0], cum_qty]))
    total = np.broadcast_to(coins * (1.0 + h), np.broadcast_shapes(usd.shape, h.shape))
    return book.impact_curve(1, total.ravel()).reshape(total.shape)


@dataclass(frozen=True)
class HedgePath:
    """A market maker absorbing forced perp buys and hedging them, stage by stage.

    Arrays have one entry per stage; entry 0 is the state before the first forced buy.

    Attributes
    ----------
    stage : ndarray of int
        0, 1, ..., n.
    forced_usd : ndarray
        USD of perp the liquidation engine bought in each stage (the MM sold it).
    forced_qty : ndarray
        Coins of perp the MM sold in each stage.
    hedge_qty : ndarray
        Coins of spot the MM traded in each stage (+ bought).
    hedge_usd : ndarray
        USD paid for those coins.
    price : ndarray
        Last traded price at the end of each stage, USD per coin.
    perp_position, spot_position, delta : ndarray
        The MM's perp contracts, spot coins and net delta ``perp + spot``, coins.
    cash : ndarray
        The MM's USD balance (perp notional booked as cash, see the module docstring).
    pnl : ndarray
        The MM's profit and loss marked at ``price`` (perp mark = spot), USD.
    """

    stage: np.ndarray
    forced_usd: np.ndarray
    forced_qty: np.ndarray
    hedge_qty: np.ndarray
    hedge_usd: np.ndarray
    price: np.ndarray
    perp_position: np.ndarray
    spot_position: np.ndarray
    delta: np.ndarray
    cash: np.ndarray
    pnl: np.ndarray

    @property
    def final_price(self) -> float:
        """Last traded price after the last stage, USD per coin."""
        return float(self.price[-1])

    @property
    def max_abs_delta(self) -> float:
        """Largest net exposure the MM carried at the end of a stage, coins."""
        return float(np.max(np.abs(self.delta)))


def market_maker_path(
    market_maker: MarketMaker,
    book: OrderBook,
    forced_usd: Any,
    *,
    price: float | None = None,
) -> HedgePath:
    """Run a :class:`MarketMaker` through stages of forced perp buying.

    Stage ``k = 1 .. n`` (``n = len(forced_usd) + lag``, enough for every hedge to come
    due): the liquidation engine buys ``forced_usd[k-1]`` USD of perps (0 after the
    schedule) at market on the one ladder; the MM sells them (:meth:`MarketMaker.absorb` at
    the order's VWAP) and then executes the hedges due this stage
    (:meth:`MarketMaker.hedge`, which also applies the inventory limit). The ladder is
    consumed in that order. Orders larger than what is left are filled partially (an
    unfilled hedge is carried forward, see :meth:`MarketMaker.hedge`).

    Parameters
    ----------
    market_maker : MarketMaker
        Hedge ratio, lag (stages), inventory limit (coins), spot fee.
    book : OrderBook
        The market book before stage 1 (USD per coin, coins).
    forced_usd : array_like
        USD of forced perp buying in each stage, >= 0, 1-D.
    price : float, optional
        Last traded price before stage 1, USD per coin; default the best ask.

    Returns
    -------
    HedgePath

    Raises
    ------
    InvalidInputError
        Bad arguments, or ``market_maker.lag >`` :data:`MAX_QUEUE_LAG` (the path has one row
        per stage, ``len(forced_usd) + lag`` of them).
    """
    if not isinstance(market_maker, MarketMaker):
        raise InvalidInputError(
            f"market_maker must be a MarketMaker, got {type(market_maker).__name__}"
        )
    _check_queue_lag(market_maker.lag, "market_maker_path()")
    if not isinstance(book, OrderBook):
        raise InvalidInputError(
            f"book must be a perpsbook.book.OrderBook, got {type(book).__name__}"
        )
    usd = np.atleast_1d(np.asarray(check_nonnegative("forced_usd", forced_usd), dtype=float))
    if usd.ndim != 1 or usd.size == 0:
        raise InvalidInputError(f"forced_usd must be a non-empty 1-D array, got {usd.shape}")
    p = float(book.best_ask) if price is None else check_scalar("price", price, check_positive)
    n = usd.size + market_maker.lag
    schedule = np.concatenate([[0.0], usd, np.zeros(market_maker.lag)])
    rows = np.zeros((n + 1, 5))  # forced_qty, hedge_qty, hedge_usd, price, pnl
    state = market_maker.initial_state()
    positions = np.zeros((n + 1, 3))  # perp, spot, cash
    rows[0, 3] = p
    for k in range(1, n + 1):
        if schedule[k] > 0 and book.total_ask_qty > 0:
            fill = book.buy_notional(schedule[k], partial=True)
            state = market_maker.absorb(state, fill.qty, fill.vwap)
            book, p, rows[k, 0] = fill.book_after, fill.last_price, fill.qty
        state, hedge, book = market_maker.hedge(state, book)
        if hedge is not None:
            p = hedge.last_price
            rows[k, 1:3] = np.copysign([hedge.qty, hedge.notional], hedge.side)
        rows[k, 3], rows[k, 4] = p, state.pnl(p, p)
        positions[k] = state.perp_position, state.spot_position, state.cash
    return HedgePath(
        stage=np.arange(n + 1),
        forced_usd=schedule,
        forced_qty=rows[:, 0],
        hedge_qty=rows[:, 1],
        hedge_usd=rows[:, 2],
        price=rows[:, 3],
        perp_position=positions[:, 0],
        spot_position=positions[:, 1],
        delta=positions[:, 0] + positions[:, 1],
        cash=positions[:, 2],
        pnl=rows[:, 4],
    )
