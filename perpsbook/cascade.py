"""Liquidation cascades told stage by stage: the article's "tranche" mode.

The loop (the article's rocket, and its mirror image, the crash)
-----------------------------------------------------------------
An ignition buy lifts the price; every short whose liquidation price has been reached is
closed by the venue's liquidation engine, which *buys* the contracts back at market; the
market makers (MM) who sell those contracts to the engine hedge their new short exposure by
*buying* spot; that lifts the price again and reaches the next layer of shorts. The
cascade stops when a stage triggers no new liquidation and no hedge is still pending, when
``max_stages`` is reached, or when the buying has eaten the whole ask side (the book "runs
dry" -- a real outcome, reported, not an error).

The general model is :mod:`perpsbook.twomarket`
-----------------------------------------------
This module is the special case of the two-market engine
(:func:`perpsbook.twomarket.run_two_market`) with ``TwoMarketParams(linked=True,
mark="last")``: the spot and the perp book are ONE book (the same
:class:`~perpsbook.book.OrderBook` passed as both; instant, unlimited arbitrage over the
combined depth), so index = mark = last traded price, and nothing is arbitraged, refilled,
re-posted or withdrawn separately and no funding accrues. With the tranches given as
positions whose venue liquidation and bankruptcy prices are the tranches'
(:meth:`Tranches.from_positions`), a full-close liquidation policy, ``perp_passthrough =
1`` and an insurance fund that covers every deficit, both give the same stages (price
path, liquidated coins, engine and hedge USD, fund, forced buying;
``tests/test_twomarket.py::test_one_ladder_model_is_the_linked_special_case``). The crash
here (``side=-1``) corresponds to ``TwoMarketParams(side=-1)`` there.

One price, one linked ladder (the modelling choice)
---------------------------------------------------
Arbitrage keeps the perpetual at the spot price, so the model has ONE price ``p`` (spot =
index = mark = last traded price) and ONE ask ladder, an :class:`~perpsbook.book.OrderBook`
called the *market book*, that every buy consumes: the ignition (spot), the engine's perp
market orders (the MM's perp quotes are part of the ladder) and the MM's spot hedges. Each
liquidated coin therefore puts ``w + h`` coins of buying on the ladder: ``w`` (the
``perp_passthrough``, default 1) from the engine's order and ``h`` (the hedge ratio) from
the hedge. The local branching ratio is ``R(p) = (w + h) * rho(p) / D(p)`` with ``rho`` the
short-liquidation size per USD of price and ``D`` the ask depth per USD (see
:mod:`perpsbook.theory`). The part ``1 - w`` of the engine's order is absorbed by the MM's
quotes without moving the ladder and is filled at the stage's opening price.

A stage, precisely
------------------
Stage 0 is the ignition: a market buy (by quantity or by notional) on the fresh book.
Stage ``k >= 1`` starts at the last traded price ``p`` of the previous stage and

1. triggers every remaining tranche with liquidation price ``L <= p`` (shorts; the same
   comparison, last traded price ``>=`` L, as population mode), all at once;
2. sends ONE engine market buy of ``w * q`` coins (``q`` = the triggered size) into the
   ladder; the tranches share its walk in trigger order (tranche ``i`` gets the slice
   between the cumulative sizes before and including it, so earlier tranches get the better
   prices: the priority walk of :func:`perpsbook.liquidation.liquidate`);
3. settles each tranche against its bankruptcy price ``B`` (where its margin is used up),
   by the rules of :mod:`perpsbook.liquidation`: the margin left at the fill,
   ``B * q_i - notional_i``, pays the liquidation fee (``fee_rate * notional_i``, never more
   than the margin left) and the rest goes to the insurance fund; a fill beyond ``B`` is a
   deficit the fund pays; what the fund cannot pay is charged to the profitable opposite
   side (account ``adl_longs``), either in cash (``deficit_rule="socialise"``, default) or
   by auto-deleveraging (``"adl"``, as :mod:`perpsbook.liquidation` does);
4. the MM (:class:`perpsbook.hedging.MarketMaker`) takes the other side of the engine's
   fills and queues a hedge of ``h`` coins per coin for stage ``k + lag`` (net delta above
   ``inventory_limit`` coins is hedged at once);
5. executes every hedge that is due, as one market buy after the engine's order.

If the ladder is empty when an order arrives, the order is unfilled: the engine's unfilled
coins are closed against ``adl_longs`` at the bankruptcy price (what a venue does when the
book cannot absorb a liquidation) and an unfilled hedge stays in the MM's queue (it still
wants it); both are reported, and the cascade ends once nothing can trade.

Because buying never lowers the last traded price, the price path is non-decreasing, the
tranches are liquidated in order, and the final price is the smallest fixed point of
``p = P(Q_ign + (w + h) * C(p))`` (``P`` = last traded price after buying that many coins,
``C`` = size of the tranches with ``L <= p``), whatever the lag: the lag only changes when
the buying happens, not how much. This is what population mode computes in one pass.

Crash (long liquidations) by symmetry
-------------------------------------
``CascadeParams(side=-1)`` with long tranches (liquidation prices descending, bankruptcy
below) runs the same loop with sells: the ignition sells, the engine sells the longs'
contracts, the MM buys them and hedges by selling spot, every comparison flips. Reflecting
every input about a pivot price ``P`` (``p -> 2P - p``, bids <-> asks, shorts <-> longs,
see :func:`mirror_inputs`) reflects the output prices and leaves every coin quantity
unchanged; USD amounts are not reflection-invariant (a coin sold at ``2P - p`` is not worth
what it was at ``p``).

Ledger
------
Every trade and transfer is posted to a :class:`~perpsbook.ledger.Ledger` with accounts
``ignitor``, ``shorts`` (the liquidated traders; ``longs`` in a crash), ``market_maker``,
``insurance_fund``, ``venue_fees``, ``makers`` (the ladder's passive sellers) and
``adl_longs`` (``adl_shorts`` in a crash). Cash, spot coins and perp contracts each sum to
zero across accounts, so :attr:`CascadeResult.ledger_imbalance` is zero up to rounding. The
ledger records the cascade's flows only: the liquidated traders' positions were opened
before it, so the ``shorts`` row is what closing cost them, not their whole P&L; the other
accounts start flat and their mark-to-market value is their P&L.

Sources: settlement at the bankruptcy price, insurance fund and ADL as in
:mod:`perpsbook.liquidation`: Binance, "Introduction to Futures Insurance Funds"
(https://www.binance.com/en/support/faq/360033525371) and "What Is Auto-Deleveraging (ADL)"
(https://www.binance.com/en/support/faq/360033525471); Bybit, "Insurance Fund"
(https://www.bybit.com/en/help-center/article/Insurance-Fund). The loop itself is the
article's: danny (@agintender), WuBlockchain 2025 (see :mod:`perpsbook.scenarios`).

Units: prices USD per coin, sizes coins, notional USD, rates fractions.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Sequence
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
    check_side,
    readonly,
)
from perpsbook.hedging import HEDGE_RATIO_MAX, MarketMaker, MarketMakerState
from perpsbook.ledger import Ledger, LedgerEntries
from perpsbook.liquidation import adl_book_orders, min_adl_quantity
from perpsbook.margin import Venue, bankruptcy_prices, liquidation_prices
from perpsbook.positions import Positions

__all__ = [
    "DEFICIT_RULES",
    "HEDGE_RATIO_MAX",
    "MAX_STAGES",
    "STAGE_FIELDS",
    "CascadeParams",
    "CascadeResult",
    "StageArrays",
    "StageRecord",
    "StageSnapshot",
    "Tranches",
    "initial_snapshot",
    "is_settled",
    "mirror_inputs",
    "run_cascade",
    "run_stage",
]

FloatArray = npt.NDArray[np.float64]


MAX_STAGES = 10_000
"""Largest accepted ``max_stages`` of :class:`CascadeParams` (10,000 stages run in about 5 s)."""

DEFICIT_RULES = ("socialise", "adl")
"""Accepted values of ``deficit_rule`` (a parameter of :class:`CascadeParams`)."""


def _account_names(side: int) -> tuple[str, str]:
    """(liquidated traders, ADL counterparties) for a rocket (+1) or a crash (-1)."""
    return ("shorts", "adl_longs") if side == 1 else ("longs", "adl_shorts")


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, eq=False)
class Tranches:
    """Layers of positions waiting to be liquidated, struct-of-arrays, immutable.

    Each tranche aggregates many positions sharing one liquidation price.

    Parameters
    ----------
    trigger_price : array_like, shape (N,)
        Liquidation price of each tranche, USD per coin, finite and > 0, in the order the
        cascade reaches them: non-decreasing for shorts, non-increasing for longs.
    size : array_like, shape (N,)
        Coins in each tranche, finite and > 0.
    bankruptcy_price : array_like, shape (N,), optional
        Price at which the tranche's margin is used up, USD per coin, > 0. Default: the
        trigger price (the fund then only gains or loses the slippage). Use
        :meth:`from_mmr` to derive it from a maintenance margin rate.
    label : sequence of str, optional
        One name per tranche (for tables).
    side : int, default -1
        Side of the positions: -1 shorts (liquidated by a rise, ``side=+1`` cascade), +1
        longs (liquidated by a fall, crash).

    Raises
    ------
    InvalidInputError
        If N = 0, lengths differ, a value is not finite and > 0, or the prices are not in
        trigger order.
    """

    trigger_price: FloatArray
    size: FloatArray
    bankruptcy_price: FloatArray | None = None
    label: tuple[str, ...] | None = None
    side: int = -1

    def __post_init__(self) -> None:
        side = check_side(self.side)
        object.__setattr__(self, "side", side)
        trig = np.atleast_1d(check_positive("trigger_price", self.trigger_price))
        size = np.atleast_1d(check_positive("size", self.size))
        if trig.ndim != 1 or trig.size == 0:
            raise InvalidInputError(
                f"trigger_price must be a non-empty 1-D array (N >= 1 tranches), got shape "
                f"{trig.shape}"
            )
        if size.shape != trig.shape:
            raise InvalidInputError(
                f"size has shape {size.shape} but trigger_price has {trig.shape}; give one "
                f"size (coins) per tranche"
            )
        bank = trig if self.bankruptcy_price is None else self.bankruptcy_price
        bank = np.atleast_1d(check_positive("bankruptcy_price", bank))
        if bank.shape != trig.shape:
            raise InvalidInputError(
                f"bankruptcy_price has shape {bank.shape} but trigger_price has {trig.shape}"
            )
        steps = np.diff(trig) * side
        if np.any(steps > 0):
            i = int(np.argmax(steps > 0)) + 1
            order = "ascending (shorts, side=-1)" if side == -1 else "descending (longs, side=+1)"
            raise InvalidInputError(
                f"trigger_price must be sorted {order} in the order the cascade reaches the "
                f"tranches; tranche {i} ({trig[i]!r}) comes after tranche {i - 1} "
                f"({trig[i - 1]!r}); sort the tranches first"
            )
        if self.label is not None:
            if isinstance(self.label, (str, bytes)) or not isinstance(
                self.label, (Sequence, np.ndarray)
            ):
                raise InvalidInputError(
                    f"label must be a sequence of names (one str per tranche), got "
                    f"{type(self.label).__name__}: {self.label!r}"
                )
            label = tuple(str(x) for x in self.label)
            if len(label) != trig.size:
                raise InvalidInputError(
                    f"label has {len(label)} names but there are {trig.size} tranches"
                )
            object.__setattr__(self, "label", label)
        object.__setattr__(self, "trigger_price", readonly(trig))
        object.__setattr__(self, "size", readonly(size))
        object.__setattr__(self, "bankruptcy_price", readonly(bank))
        object.__setattr__(self, "_cum", readonly(np.concatenate(([0.0], np.cumsum(size)))))
        # Key ascending in the direction the price travels, for searchsorted.
        object.__setattr__(self, "_key", readonly(-side * trig))

    # ------------------------------------------------------------------ constructors

    @classmethod
    def from_mmr(
        cls,
        trigger_price: npt.ArrayLike,
        size: npt.ArrayLike,
        mmr: float | npt.ArrayLike,
        *,
        side: int = -1,
        label: Sequence[str] | None = None,
    ) -> Tranches:
        """Tranches whose bankruptcy price follows from a maintenance margin rate.

        For isolated positions in a first bracket (maintenance amount 0), Binance's
        liquidation-price formula ``LP = (WB + cum - side*size*EP) / (size*MMR - side*size)``
        and the bankruptcy price ``BP = EP - side*WB/size`` give ``BP = LP * (1 - side*MMR)``:
        a short (side -1) is bankrupt ``MMR`` above its liquidation price, a long below.
        Source: Binance, "How to Calculate Liquidation Price of USDⓈ-M Futures Contracts"
        (https://www.binance.com/en/support/faq/b3c689c1f50a44cabb3a84e663b81d93).

        Parameters
        ----------
        trigger_price : array_like
            Liquidation prices, USD per coin (see :class:`Tranches`).
        size : array_like
            Coins per tranche.
        mmr : float or array_like
            Maintenance margin rate, fraction in [0, 1).
        side : int, default -1
            -1 shorts, +1 longs.
        label : sequence of str, optional

        Returns
        -------
        Tranches
        """
        side = check_side(side)
        m = np.asarray(check_fraction("mmr", mmr))
        if np.any(m >= 1):
            raise InvalidInputError(f"mmr must lie in [0, 1), got {mmr!r}")
        trig = check_positive("trigger_price", trigger_price)
        return cls(trig, size, np.asarray(trig) * (1.0 - side * m), label=label, side=side)

    @classmethod
    def from_notional(
        cls,
        trigger_price: npt.ArrayLike,
        notional: npt.ArrayLike,
        mmr: float | npt.ArrayLike = 0.0,
        *,
        side: int = -1,
        label: Sequence[str] | None = None,
    ) -> Tranches:
        """Tranches given as USD "worth" at their trigger price (the article's "$1M at $11").

        ``size = notional / trigger_price`` coins; bankruptcy price as in :meth:`from_mmr`.

        Parameters
        ----------
        trigger_price : array_like
            Liquidation prices, USD per coin.
        notional : array_like
            USD value of each tranche at its trigger price, > 0.
        mmr : float or array_like, default 0
            Maintenance margin rate, fraction in [0, 1).
        side : int, default -1
        label : sequence of str, optional

        Returns
        -------
        Tranches
        """
        trig = np.asarray(check_positive("trigger_price", trigger_price))
        usd = np.asarray(check_positive("notional", notional))
        with np.errstate(over="ignore"):  # an overflowing size is refused by name below
            size = usd / trig
        return cls.from_mmr(trig, size, mmr, side=side, label=label)

    @classmethod
    def from_positions(cls, positions: Any, venue: Any) -> Tranches:
        """One tranche per position, from :mod:`perpsbook.positions` and a margin venue.

        Trigger price = the venue's isolated liquidation price, bankruptcy price =
        ``entry - side*margin/size`` (:func:`perpsbook.margin.bankruptcy_price`); sorted in
        trigger order (a stable sort, once).

        Parameters
        ----------
        positions : perpsbook.positions.Positions
            All on one side (all shorts or all longs).
        venue : perpsbook.margin.Venue

        Returns
        -------
        Tranches
        """
        if not isinstance(positions, Positions):
            raise InvalidInputError(
                f"positions must be a perpsbook.positions.Positions, got {type(positions).__name__}"
            )
        if not isinstance(venue, Venue):
            raise InvalidInputError(
                f"venue must be a perpsbook.margin.Venue (e.g. ALTCOIN, BINANCE), got "
                f"{type(venue).__name__}"
            )
        sides = np.unique(np.asarray(positions.side))
        if sides.size != 1:
            raise InvalidInputError(
                f"positions must all be on one side to form tranches, got sides {sides.tolist()}"
            )
        side = int(sides[0])
        trig = liquidation_prices(positions, venue)
        bank = bankruptcy_prices(positions)
        if np.any(trig <= 0):
            raise InvalidInputError(
                "some positions can never be liquidated (liquidation price <= 0); drop them "
                "before building tranches"
            )
        order = np.argsort(-side * trig, kind="stable")
        return cls(trig[order], np.asarray(positions.size)[order], bank[order], side=side)

    # ------------------------------------------------------------------ views

    @property
    def n(self) -> int:
        """Number of tranches N."""
        return int(self.size.size)

    def __len__(self) -> int:
        return self.n

    @property
    def notional_at_trigger(self) -> FloatArray:
        """USD value of each tranche at its trigger price, ``size * trigger_price``."""
        return self.size * self.trigger_price

    @property
    def total_size(self) -> float:
        """Coins in all tranches."""
        return float(self._cum[-1])  # type: ignore[attr-defined]

    @property
    def total_notional(self) -> float:
        """USD value of all tranches at their trigger prices."""
        return float(np.sum(self.notional_at_trigger))

    def n_triggered(self, price: float) -> int:
        """How many tranches (a prefix) a last traded price of ``price`` USD/coin triggers.

        Shorts are triggered when ``price >= trigger_price``, longs when ``price <=``.

        Raises
        ------
        InvalidInputError
            Unless ``price`` is one finite number > 0 (a NaN used to trigger a prefix).
        """
        p = check_scalar("price", price, check_positive)
        return int(np.searchsorted(self._key, -self.side * p, side="right"))  # type: ignore[attr-defined]

    def size_between(self, lo: int, hi: int) -> float:
        """Coins in tranches ``lo .. hi-1`` (a difference of cumulative sums), >= 0.

        Raises
        ------
        InvalidInputError
            Unless ``0 <= lo <= hi <= n`` are integers (``size_between(2, 0)`` used to return
            a negative number of coins; slices with ``lo > hi`` are not empty here but
            errors, and negative indices do not count from the end).
        """
        a = check_count("lo", lo, 0)
        b = check_count("hi", hi, 0)
        if not a <= b <= self.n:
            raise InvalidInputError(
                f"size_between needs 0 <= lo <= hi <= n = {self.n} (tranche indices), got "
                f"lo={lo!r}, hi={hi!r}"
            )
        cum = self._cum  # type: ignore[attr-defined]
        return float(cum[b] - cum[a])

    def mirrored(self, pivot: float) -> Tranches:
        """The mirror image about ``pivot`` USD/coin: ``p -> 2*pivot - p``, shorts <-> longs.

        Raises
        ------
        InvalidInputError
            If a reflected price would be <= 0 (``pivot`` must exceed half of every price).
        """
        c = check_scalar("pivot", pivot, check_positive)
        return Tranches(
            2.0 * c - self.trigger_price,
            self.size,
            2.0 * c - self.bankruptcy_price,  # type: ignore[operator]
            label=self.label,
            side=-self.side,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tranches):
            return NotImplemented
        return (
            self.side == other.side
            and self.label == other.label
            and np.array_equal(self.trigger_price, other.trigger_price)
            and np.array_equal(self.size, other.size)
            and np.array_equal(self.bankruptcy_price, other.bankruptcy_price)  # type: ignore[arg-type]
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        kind = "shorts" if self.side == -1 else "longs"
        return (
            f"Tranches({self.n} {kind}, {self.total_size:,.6g} coins, triggers "
            f"{self.trigger_price[0]:.6g}..{self.trigger_price[-1]:.6g} USD)"
        )


@dataclass(frozen=True)
class CascadeParams:
    """Everything that drives a cascade besides the book and the tranches.

    Parameters
    ----------
    ignition_notional : float, optional
        USD of the ignition market order (spot), > 0. Give this or ``ignition_qty``.
    ignition_qty : float, optional
        Coins of the ignition market order, > 0.
    hedge_ratio : float, default 1.0
        ``h``: coins of spot the MM trades per coin of perp it takes from the engine, in
        [0, :data:`perpsbook.hedging.HEDGE_RATIO_MAX`]. 0 = the MM does not hedge.
    lag : int, default 0
        Stages between a liquidation and the MM's hedge of it, >= 0, any size: the queue
        costs memory per queued hedge, not per stage of lag, and a hedge due after
        ``max_stages`` never executes (it is reported as pending).
    inventory_limit : float, optional
        Largest net delta ``|perp + spot|`` (coins, >= 0) the MM carries after a stage's
        hedge; the excess is hedged at once, lag or not (see :mod:`perpsbook.hedging`).
        None (default): no limit.
    perp_passthrough : float, default 1.0
        ``w``: fraction of the engine's order that walks the shared ladder, in [0, 1]; the
        rest is absorbed by the MM at the stage's opening price without moving it.
    liquidation_fee_rate : float, default 0.0
        Fee on the liquidated notional, fraction in [0, 1); paid out of the margin left at
        the fill (never more).
    insurance_fund : float, default 0.0
        Insurance fund balance before the cascade, USD, >= 0.
    deficit_rule : {"socialise", "adl"}, default "socialise"
        What happens when a stage's deficits exceed the fund. ``"socialise"``: the
        liquidation orders still go to the market in full and the uncovered deficit is
        charged to the profitable opposite side (``adl_longs``) in cash, a socialised-loss
        clawback that leaves the price dynamics untouched (so stage and population mode
        agree). ``"adl"``: the rule of :func:`perpsbook.liquidation.liquidate`: the
        smallest quantity of the bankrupt tranches (in trigger order) for which the fund
        covers the rest is closed against the opposite side at the bankruptcy price and
        never reaches the market, which brakes the cascade; the fund ends at about zero.
    max_stages : int, default 200
        Stop after this many stages after the ignition, in [1, :data:`MAX_STAGES`] (the
        result is then marked ``truncated``).
    side : int, default +1
        +1 rocket (short liquidations, forced buying), -1 crash (long liquidations, forced
        selling).

    Raises
    ------
    InvalidInputError
        With the argument's name, its value and what is allowed.
    """

    ignition_notional: float | None = None
    ignition_qty: float | None = None
    hedge_ratio: float = 1.0
    lag: int = 0
    inventory_limit: float | None = None
    perp_passthrough: float = 1.0
    liquidation_fee_rate: float = 0.0
    insurance_fund: float = 0.0
    deficit_rule: str = "socialise"
    max_stages: int = 200
    side: int = 1

    def __post_init__(self) -> None:
        given = [
            name
            for name in ("ignition_notional", "ignition_qty")
            if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise InvalidInputError(
                "give exactly one of ignition_notional (USD) and ignition_qty (coins), got "
                f"ignition_notional={self.ignition_notional!r}, ignition_qty={self.ignition_qty!r}"
            )
        for name in given:
            object.__setattr__(self, name, check_scalar(name, getattr(self, name), check_positive))
        # MarketMaker validates hedge_ratio, lag and inventory_limit (same messages).
        # The scalars are checked here first so that lists name the field (issue 7).
        h = check_scalar("hedge_ratio", self.hedge_ratio, check_fraction, upper=HEDGE_RATIO_MAX)
        limit = self.inventory_limit
        if limit is not None:
            limit = check_scalar("inventory_limit", limit, check_nonnegative)
        mm = MarketMaker(h, self.lag, limit)
        object.__setattr__(self, "hedge_ratio", mm.hedge_ratio)
        object.__setattr__(self, "lag", mm.lag)
        object.__setattr__(self, "inventory_limit", mm.inventory_limit)
        object.__setattr__(self, "_mm", mm)
        w = check_scalar("perp_passthrough", self.perp_passthrough, check_fraction)
        object.__setattr__(self, "perp_passthrough", w)
        fee = check_scalar("liquidation_fee_rate", self.liquidation_fee_rate, check_fraction)
        if fee >= 1:
            raise InvalidInputError(
                f"liquidation_fee_rate must lie in [0, 1), got {self.liquidation_fee_rate!r}"
            )
        object.__setattr__(self, "liquidation_fee_rate", fee)
        fund = check_scalar("insurance_fund", self.insurance_fund, check_nonnegative)
        object.__setattr__(self, "insurance_fund", fund)
        if not isinstance(self.deficit_rule, str) or self.deficit_rule not in DEFICIT_RULES:
            raise InvalidInputError(
                f"deficit_rule must be one of {DEFICIT_RULES}, got {self.deficit_rule!r}"
            )
        n_max = check_count("max_stages", self.max_stages, 1)
        if n_max > MAX_STAGES:
            raise InvalidInputError(
                f"max_stages must be an integer in [1, {MAX_STAGES:,}], got {self.max_stages!r}; "
                f"every stage is kept as a record and a snapshot, and a cascade that has not "
                f"settled after {MAX_STAGES:,} stages is waiting on hedges, not cascading"
            )
        object.__setattr__(self, "max_stages", n_max)
        object.__setattr__(self, "side", check_side(self.side))

    def replace(self, **changes: Any) -> CascadeParams:
        """A copy with some fields changed (validated again)."""
        if "ignition_qty" in changes and "ignition_notional" not in changes:
            changes["ignition_notional"] = None
        if "ignition_notional" in changes and "ignition_qty" not in changes:
            changes["ignition_qty"] = None
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict of the parameters."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def market_maker(self) -> MarketMaker:
        """The :class:`~perpsbook.hedging.MarketMaker` these parameters describe."""
        return self._mm  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- stages


@dataclass(frozen=True, eq=False)
class StageSnapshot:
    """The whole state of a cascade at the start of a stage (immutable).

    ``run_stage(snapshot, tranches, params)`` needs nothing else, so any stage can be rerun
    from its snapshot and gives the identical record.

    Attributes
    ----------
    stage : int
        The stage about to run (0 = the ignition).
    book : OrderBook
        The market book (the shared ladder) with everything consumed so far removed.
    price : float
        Last traded price, USD per coin (before the ignition: the book's mid).
    remaining : ndarray of bool, shape (N,)
        Tranches not yet liquidated (always a suffix: the cascade reaches them in order).
    n_liquidated : int
        Tranches liquidated so far.
    mm : MarketMakerState
        The MM's positions and cash (:mod:`perpsbook.hedging`); its ``stage`` is this
        snapshot's stage and its ``pending`` one entry, the total of ``hedge_queue``.
    insurance_fund : float
        Insurance fund balance, USD.
    ignition_qty, ignition_notional : float
        What the ignition filled (0 before it), coins and USD.
    cum_liquidated_qty, cum_liquidated_notional : float
        Coins liquidated and USD the engine paid for them, so far.
    cum_hedge_qty, cum_hedge_notional : float
        MM hedge trades so far, coins and USD.
    cum_forced_buy_notional : float
        Engine + hedge USD so far ("forced buying"; forced selling in a crash).
    cum_adl_qty, cum_socialised_usd : float
        Coins closed against the opposite side at the bankruptcy price (ADL), and USD of
        deficits the fund could not pay charged to the opposite side, so far.
    cum_fees : float
        Liquidation fees so far, USD.
    cum_unfilled_qty, cum_unfilled_notional : float
        Coins (and USD, for a by-notional ignition) that found no liquidity, so far.
    dry_stage : int
        First stage that left the ladder empty, or -1.
    ledger : LedgerEntries
        Every posting so far.
    hedge_queue : tuple of (int, float)
        The MM's queued hedges as ``(due stage, coins)`` pairs (signed coins, + buy),
        ascending in due stage, only the non-zero ones: at most one per stage run, so a
        snapshot costs O(stages) memory whatever the lag (``lag=10**20`` is fine; a hedge
        due after ``max_stages`` simply never executes). ``mm.pending`` holds their total
        as its one entry; the queue itself lives here.
    """

    stage: int
    book: OrderBook
    price: float
    remaining: npt.NDArray[np.bool_]
    n_liquidated: int
    mm: MarketMakerState
    insurance_fund: float
    ignition_qty: float
    ignition_notional: float
    cum_liquidated_qty: float
    cum_liquidated_notional: float
    cum_hedge_qty: float
    cum_hedge_notional: float
    cum_forced_buy_notional: float
    cum_adl_qty: float
    cum_socialised_usd: float
    cum_fees: float
    cum_unfilled_qty: float
    cum_unfilled_notional: float
    dry_stage: int
    ledger: LedgerEntries
    hedge_queue: tuple[tuple[int, float], ...] = ()

    @property
    def pending_qty(self) -> float:
        """Coins of hedging still queued (signed: + buy)."""
        return self.mm.pending_total

    @property
    def mm_perp(self) -> float:
        """The MM's perp position, coins (signed; a short is negative)."""
        return self.mm.perp_position

    @property
    def mm_spot(self) -> float:
        """The MM's spot position, coins (signed)."""
        return self.mm.spot_position

    @property
    def book_dry(self) -> bool:
        """True once some stage has emptied the ladder."""
        return self.dry_stage >= 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StageSnapshot):
            return NotImplemented
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if f.name == "ledger":
                if not _entries_equal(a, b):
                    return False
            elif f.name == "remaining":
                if not np.array_equal(a, b):
                    return False
            elif a != b:
                return False
        return True

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"StageSnapshot(stage {self.stage}, price {self.price:.6g}, "
            f"{self.n_liquidated} tranches liquidated, pending {self.pending_qty:,.6g} coins)"
        )


def _entries_equal(a: LedgerEntries, b: LedgerEntries) -> bool:
    return (
        a.accounts == b.accounts
        and a.memo == b.memo
        and all(
            np.array_equal(getattr(a, n), getattr(b, n))
            for n in ("entry", "kind", "src", "dst", "instrument", "amount")
        )
    )


@dataclass(frozen=True)
class StageRecord:
    """What happened in one stage (all floats; NaN only where a price is undefined).

    Attributes
    ----------
    stage : int
        0 = ignition, then 1, 2, ...
    trigger_price : float
        Liquidation price of the last tranche triggered in the stage, USD/coin (NaN if none).
    price_before, price_after : float
        Last traded price at the start and end of the stage, USD/coin.
    n_tranches : int
        Tranches liquidated in the stage.
    liquidated_qty : float
        Coins liquidated (the triggered size), closed in the market or by ADL.
    liquidated_notional : float
        USD the engine paid (sold for, in a crash) closing them in the market.
    trigger_notional : float
        USD value of those tranches at their trigger prices (the article's "$1M at $11").
    liquidation_vwap : float
        Average price of the engine's market fills (ladder and MM absorption), USD/coin
        (NaN if none).
    hedge_qty, hedge_notional : float
        MM hedge trades executed in the stage, coins and USD.
    pending_hedge_qty : float
        Hedging still queued after the stage, coins.
    ignition_qty, ignition_notional : float
        The ignition's fill (stage 0 only), coins and USD.
    insurance_fund : float
        Fund balance after the stage, USD.
    fund_flow : float
        Net USD into the fund in the stage (negative: the fund paid deficits).
    fees : float
        Liquidation fees, USD.
    adl_qty : float
        Coins closed against the opposite side at the bankruptcy price instead of in the
        market (ADL): the ladder was empty, or ``deficit_rule="adl"`` and the fund was short.
    socialised_usd : float
        Deficit the fund could not pay, charged to the opposite side
        (``deficit_rule="socialise"``), USD.
    forced_buy_notional : float
        ``liquidated_notional + hedge_notional``, USD (forced selling in a crash).
    cum_forced_buy_notional : float
        Running total, USD.
    ladder_qty : float
        Coins taken from the ladder in the stage (ignition, engine and hedges).
    unfilled_qty : float
        Coins of market orders that found no liquidity.
    unfilled_notional : float
        USD of a by-notional ignition that found no liquidity.
    book_dry : bool
        The ladder's side was empty at the end of the stage.
    mm_perp, mm_spot : float
        The MM's positions after the stage, coins.
    """

    stage: int
    trigger_price: float
    price_before: float
    price_after: float
    n_tranches: int
    liquidated_qty: float
    liquidated_notional: float
    trigger_notional: float
    liquidation_vwap: float
    hedge_qty: float
    hedge_notional: float
    pending_hedge_qty: float
    ignition_qty: float
    ignition_notional: float
    insurance_fund: float
    fund_flow: float
    fees: float
    adl_qty: float
    socialised_usd: float
    forced_buy_notional: float
    cum_forced_buy_notional: float
    ladder_qty: float
    unfilled_qty: float
    unfilled_notional: float
    book_dry: bool
    mm_perp: float
    mm_spot: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (NaN as ``None``)."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields(self)}


STAGE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(StageRecord))
"""Names of the per-stage columns, in table order."""

_INT_FIELDS = {"stage", "n_tranches"}


def _jsonable(x: Any) -> Any:
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if not math.isfinite(x) else float(x)
    return x


@dataclass(frozen=True, eq=False)
class StageArrays:
    """Per-stage columns as arrays (struct-of-arrays view of the stage records).

    Every attribute named in :data:`STAGE_FIELDS` is an array with one entry per stage
    (int64 for ``stage`` and ``n_tranches``, bool for ``book_dry``, float64 otherwise).
    """

    columns: dict[str, np.ndarray]

    @classmethod
    def from_records(cls, records: Sequence[StageRecord]) -> StageArrays:
        """Stack stage records into columns."""
        cols: dict[str, np.ndarray] = {}
        for name in STAGE_FIELDS:
            dtype = np.int64 if name in _INT_FIELDS else bool if name == "book_dry" else np.float64
            cols[name] = readonly([getattr(r, name) for r in records], dtype)
        return cls(cols)

    def __getattr__(self, name: str) -> np.ndarray:
        cols = self.__dict__.get("columns", {})
        if name in cols:
            return cols[name]
        raise AttributeError(f"StageArrays has no column {name!r}; columns: {STAGE_FIELDS}")

    def __len__(self) -> int:
        return int(self.columns["stage"].size)


# --------------------------------------------------------------------------- engine


def _check_inputs(book: Any, tranches: Any, params: Any) -> None:
    if not isinstance(book, OrderBook):
        raise InvalidInputError(f"book must be an OrderBook, got {type(book).__name__}")
    if not isinstance(tranches, Tranches):
        raise InvalidInputError(f"tranches must be a Tranches, got {type(tranches).__name__}")
    if not isinstance(params, CascadeParams):
        raise InvalidInputError(f"params must be a CascadeParams, got {type(params).__name__}")
    if tranches.side != -params.side:
        kind = (
            "a rocket (side=+1) liquidates shorts"
            if params.side == 1
            else "a crash (side=-1) liquidates longs"
        )
        raise InvalidInputError(
            f"tranches hold {'shorts' if tranches.side == -1 else 'longs'} "
            f"(side={tranches.side:+d}) but params.side={params.side:+d}: {kind}"
        )


def _check_snapshot(snapshot: Any) -> None:
    if not isinstance(snapshot, StageSnapshot):
        raise InvalidInputError(
            f"snapshot must be a StageSnapshot (from initial_snapshot or run_stage), got "
            f"{type(snapshot).__name__}"
        )


def initial_snapshot(book: OrderBook, tranches: Tranches, params: CascadeParams) -> StageSnapshot:
    """The state before the ignition (stage 0).

    Parameters
    ----------
    book : OrderBook
        The market book (both sides non-empty); its mid is the starting price (USD/coin).
    tranches : Tranches
        Shorts (side -1) for a rocket, longs (+1) for a crash.
    params : CascadeParams

    Returns
    -------
    StageSnapshot
    """
    _check_inputs(book, tranches, params)
    trader, adl = _account_names(params.side)
    accounts = ("ignitor", trader, "market_maker", "insurance_fund", "venue_fees", "makers", adl)
    return StageSnapshot(
        stage=0,
        book=book,
        price=book.mid,
        remaining=readonly(np.ones(tranches.n, dtype=bool), bool),
        n_liquidated=0,
        mm=MarketMakerState(stage=1),
        insurance_fund=params.insurance_fund,
        ignition_qty=0.0,
        ignition_notional=0.0,
        cum_liquidated_qty=0.0,
        cum_liquidated_notional=0.0,
        cum_hedge_qty=0.0,
        cum_hedge_notional=0.0,
        cum_forced_buy_notional=0.0,
        cum_adl_qty=0.0,
        cum_socialised_usd=0.0,
        cum_fees=0.0,
        cum_unfilled_qty=0.0,
        cum_unfilled_notional=0.0,
        dry_stage=-1,
        ledger=LedgerEntries.empty(accounts),
    )


@dataclass(frozen=True)
class _Trade:
    qty: float
    notional: float
    last_price: float | None
    book: OrderBook
    unfilled: float


def _side_empty(book: OrderBook, side: int) -> bool:
    return (book.ask_prices if side == 1 else book.bid_prices).size == 0


def _market(book: OrderBook, side: int, amount: float, by_notional: bool = False) -> _Trade:
    """A partial-allowed market order that also accepts an empty side (nothing fills)."""
    if amount <= 0:
        return _Trade(0.0, 0.0, None, book, 0.0)
    if _side_empty(book, side):
        return _Trade(0.0, 0.0, None, book, amount)
    if by_notional:
        order = book.buy_notional if side == 1 else book.sell_notional
        fill = order(amount, partial=True)
    else:
        fill = book.market_order(side, amount, partial=True)
    return _Trade(fill.qty, fill.notional, fill.last_price, fill.book_after, fill.unfilled)


def _spot_trade(led: Ledger, side: int, account: str, qty: float, notional: float, memo: str):
    if qty <= 0:
        return
    buyer, seller = (account, "makers") if side == 1 else ("makers", account)
    led.trade(buyer, seller, qty, notional / qty, "spot", memo)


def run_stage(
    snapshot: StageSnapshot, tranches: Tranches, params: CascadeParams
) -> tuple[StageRecord, StageSnapshot]:
    """Run one stage from its snapshot: a pure function of its three arguments.

    Parameters
    ----------
    snapshot : StageSnapshot
        State at the start of the stage (from :func:`initial_snapshot` or a previous
        ``run_stage``).
    tranches : Tranches
        The same tranches the snapshot was built with.
    params : CascadeParams

    Returns
    -------
    (StageRecord, StageSnapshot)
        What happened, and the state at the start of the next stage.
    """
    _check_snapshot(snapshot)
    _check_inputs(snapshot.book, tranches, params)
    if snapshot.remaining.shape != (tranches.n,):
        raise InvalidInputError(
            f"snapshot tracks {snapshot.remaining.size} tranches but tranches has {tranches.n}"
        )
    if snapshot.stage == 0:
        return _ignite(snapshot, params)
    return _cascade_stage(snapshot, tranches, params)


def _ignite(snap: StageSnapshot, params: CascadeParams) -> tuple[StageRecord, StageSnapshot]:
    s = params.side
    by_notional = params.ignition_notional is not None
    amount = params.ignition_notional if by_notional else params.ignition_qty
    t = _market(snap.book, s, float(amount), by_notional)  # type: ignore[arg-type]
    led = Ledger.from_entries(snap.ledger)
    _spot_trade(led, s, "ignitor", t.qty, t.notional, "ignition")
    price = snap.price if t.last_price is None else t.last_price
    unfilled_qty, unfilled_usd = (0.0, t.unfilled) if by_notional else (t.unfilled, 0.0)
    dry = _side_empty(t.book, s)
    record = _record(
        snap,
        stage=0,
        price_after=price,
        ignition_qty=t.qty,
        ignition_notional=t.notional,
        ladder_qty=t.qty,
        unfilled_qty=unfilled_qty,
        unfilled_notional=unfilled_usd,
        book_dry=dry,
    )
    nxt = replace(
        snap,
        stage=1,
        book=t.book,
        price=price,
        ignition_qty=t.qty,
        ignition_notional=t.notional,
        cum_unfilled_qty=unfilled_qty,
        cum_unfilled_notional=unfilled_usd,
        dry_stage=0 if dry else -1,
        ledger=led.entries,
    )
    return record, nxt


_DUST = 1e-12  # relative size under which a remainder is floating-point dust

_ZERO_RECORD = {
    "trigger_price": math.nan,
    "n_tranches": 0,
    "liquidated_qty": 0.0,
    "liquidated_notional": 0.0,
    "trigger_notional": 0.0,
    "liquidation_vwap": math.nan,
    "hedge_qty": 0.0,
    "hedge_notional": 0.0,
    "ignition_qty": 0.0,
    "ignition_notional": 0.0,
    "fund_flow": 0.0,
    "fees": 0.0,
    "adl_qty": 0.0,
    "socialised_usd": 0.0,
    "forced_buy_notional": 0.0,
    "ladder_qty": 0.0,
    "unfilled_qty": 0.0,
    "unfilled_notional": 0.0,
}


def _record(snap: StageSnapshot, **values: Any) -> StageRecord:
    base = dict(_ZERO_RECORD)
    base.update(
        price_before=snap.price,
        pending_hedge_qty=snap.pending_qty,
        insurance_fund=snap.insurance_fund,
        cum_forced_buy_notional=snap.cum_forced_buy_notional,
        mm_perp=snap.mm_perp,
        mm_spot=snap.mm_spot,
    )
    base.update(values)
    return StageRecord(**base)


@dataclass(frozen=True)
class _Liquidation:
    n: int
    trigger_price: float
    qty: float
    filled: float
    notional: float
    ladder_qty: float
    trigger_notional: float
    fees: float
    fund_flow: float
    fund_after: float
    adl_qty: float
    dry_qty: float
    socialised_usd: float
    book: OrderBook
    last_price: float | None


@dataclass(frozen=True)
class _Walk:
    """Per-tranche result of one engine order (priority walk, see :func:`_walk_tranches`)."""

    ladder: FloatArray  # coins each tranche got from the ladder
    filled: FloatArray  # coins closed in the market (ladder + absorbed by the MM)
    notional: FloatArray  # USD of those fills
    dry: FloatArray  # coins the empty ladder could not take
    trade: _Trade


def _walk_tranches(book: OrderBook, side: int, order: FloatArray, w: float, p0: float) -> _Walk:
    """One engine market order for ``order`` coins per tranche, in trigger order.

    ``w * order`` walks the ladder; tranche i gets the slice of the walk between the
    cumulative quantities before and including it (the priority walk of
    :func:`perpsbook.liquidation.liquidate`: earlier tranches get the better prices, and if
    the ladder runs dry the last ones are unfilled). ``(1 - w) * order`` is absorbed by the
    MM at the opening price ``p0``.
    """
    cum = np.cumsum(w * order)
    t = _market(book, side, float(cum[-1]) if cum.size else 0.0)
    got = np.minimum(cum, t.qty)
    cost = book.cost_curve(side, got) if t.qty > 0 else np.zeros_like(got)
    ladder = np.diff(got, prepend=0.0)
    off = (1.0 - w) * order
    return _Walk(
        ladder=ladder,
        filled=ladder + off,
        notional=np.diff(cost, prepend=0.0) + off * p0,
        dry=np.maximum(w * order - ladder, 0.0),
        trade=t,
    )


def _net_settlement(
    book: OrderBook,
    side: int,
    orders: FloatArray,
    w: float,
    p0: float,
    bank: FloatArray,
    rate: float,
) -> FloatArray:
    """Surpluses minus deficits (USD) of each row of ``orders`` walked like
    :func:`_walk_tranches` (rows: candidate orders; columns: tranches), vectorised."""
    cum = np.cumsum(w * orders, axis=-1)
    available = book.total_ask_qty if side == 1 else book.total_bid_qty
    got = np.minimum(cum, available)
    cost = book.cost_curve(side, got) if available > 0 else np.zeros_like(got)
    off = (1.0 - w) * orders
    filled = np.diff(got, prepend=0.0, axis=-1) + off
    notional = np.diff(cost, prepend=0.0, axis=-1) + off * p0
    left = side * (filled * bank - notional)
    fee = np.minimum(rate * notional, np.maximum(left, 0.0))
    return (np.maximum(left, 0.0) - fee - np.maximum(-left, 0.0)).sum(axis=-1)


def _settle(
    side: int, walk: _Walk, bank: FloatArray, rate: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(fee, surplus, deficit) per tranche, USD: the rules of :mod:`perpsbook.liquidation`."""
    left = side * (walk.filled * bank - walk.notional)
    fee = np.minimum(rate * walk.notional, np.maximum(left, 0.0))
    return fee, np.maximum(left, 0.0) - fee, np.maximum(-left, 0.0)


def _liquidate(
    snap: StageSnapshot, tranches: Tranches, params: CascadeParams, led: Ledger
) -> _Liquidation | None:
    """Trigger, close in the market and settle every tranche the opening price reaches."""
    lo = snap.n_liquidated
    hi = max(tranches.n_triggered(snap.price), lo)
    if hi == lo:
        return None
    s, w, p0, k = params.side, params.perp_passthrough, snap.price, snap.stage
    trader, adl = _account_names(s)
    size = tranches.size[lo:hi]
    bank = tranches.bankruptcy_price[lo:hi]  # type: ignore[index]
    fund0 = snap.insurance_fund
    walk = _walk_tranches(snap.book, s, size, w, p0)
    fee, surplus, deficit = _settle(s, walk, bank, params.liquidation_fee_rate)
    dry = walk.dry
    adl_qty = dry
    need, available = math.fsum(deficit), fund0 + math.fsum(surplus)
    if params.deficit_rule == "adl" and need > available:
        # perpsbook.liquidation's rule: ADL takes the smallest quantity x, from the bankrupt
        # tranches in trigger (priority) order, for which walking the rest through the ladder
        # leaves the fund >= 0; what ADL takes is closed at the bankruptcy price.
        # The dry tail (coins the ladder could not take in the first walk) has no other way
        # out: it is ADL'd first and never sent to the ladder again -- otherwise the
        # liquidity ADL frees would go to the dry tail of later tranches, filled far past
        # their bankruptcy price, and the deficit would be socialised after all (issue 7).
        # A tranche's book order is cut to ``fillable``, whose ladder part ``w * fillable``
        # is what the ladder gave it (with w < 1 the dry coins' MM-absorbed share is ADL'd
        # with them).
        fillable = size - np.divide(dry, w, out=np.zeros_like(dry), where=dry > 0)
        fillable = np.maximum(fillable, 0.0)
        cap = np.where(deficit > 0, fillable, 0.0)
        rate = params.liquidation_fee_rate

        def fund_at(xs: FloatArray) -> FloatArray:
            orders = adl_book_orders(fillable, cap, xs)
            return fund0 + _net_settlement(snap.book, s, orders, w, p0, bank, rate)

        x = min_adl_quantity(fund_at, float(cap.sum()), size.size)
        orders = adl_book_orders(fillable, cap, np.array([x]))[0]
        walk = _walk_tranches(snap.book, s, orders, w, p0)
        dry = walk.dry
        adl_qty = size - walk.filled
        fee, surplus, deficit = _settle(s, walk, bank, rate)
    net = math.fsum(surplus) - math.fsum(deficit)
    paid = min(max(-net, 0.0), fund0)
    socialised = max(-net - paid, 0.0)
    fund_after = fund0 + net + socialised
    filled, notional = math.fsum(walk.filled), math.fsum(walk.notional)
    if filled > 0:
        buyer, seller = (trader, "market_maker") if s == 1 else ("market_maker", trader)
        led.trade(buyer, seller, filled, notional / filled, "perp", f"stage {k} liquidation")
    fees = math.fsum(fee)
    if fees > 0:
        led.fee(trader, fees, memo=f"stage {k} liquidation fee")
    if net > 0:
        led.transfer(trader, "insurance_fund", net, f"stage {k} margin left to the fund")
    if paid > 0:
        led.transfer("insurance_fund", trader, paid, f"stage {k} deficit paid by the fund")
    if socialised > 0:
        led.transfer(adl, trader, socialised, f"stage {k} deficit socialised")
    keep = adl_qty > _DUST * size
    if keep.any():
        # Closed against the profitable opposite side at the bankruptcy price (ADL).
        buyers, sellers = (trader, adl) if s == 1 else (adl, trader)
        led.trades(buyers, sellers, adl_qty[keep], bank[keep], "perp", f"stage {k} ADL")
    return _Liquidation(
        n=hi - lo,
        trigger_price=float(tranches.trigger_price[hi - 1]),
        qty=float(size.sum()),
        filled=filled,
        notional=notional,
        ladder_qty=math.fsum(walk.ladder),
        trigger_notional=float(np.sum(tranches.notional_at_trigger[lo:hi])),
        fees=fees,
        fund_flow=fund_after - fund0,
        fund_after=fund_after,
        adl_qty=math.fsum(np.where(keep, adl_qty, 0.0)),
        dry_qty=math.fsum(np.where(dry > _DUST * size, dry, 0.0)),
        socialised_usd=socialised,
        book=walk.trade.book,
        last_price=walk.trade.last_price,
    )


def _cascade_stage(
    snap: StageSnapshot, tranches: Tranches, params: CascadeParams
) -> tuple[StageRecord, StageSnapshot]:
    s, k = params.side, snap.stage
    led = Ledger.from_entries(snap.ledger)
    liq = _liquidate(snap, tranches, params, led)
    book, price = snap.book, snap.price
    ladder_qty = unfilled = 0.0
    if liq is not None:
        book = liq.book
        price = price if liq.last_price is None else liq.last_price
        ladder_qty += liq.ladder_qty
        unfilled += liq.dry_qty
    absorbed = (s * liq.filled, liq.notional / liq.filled) if liq and liq.filled > 0 else None
    step, queue = _hedge_step(params.market_maker, snap, absorbed, book)
    state, book = step.state, step.book_after
    hedge_qty = hedge_usd = 0.0
    if step.fill is not None:
        hedge_qty, hedge_usd = step.fill.qty, step.fill.notional
        _spot_trade(led, s, "market_maker", hedge_qty, hedge_usd, f"stage {k} hedge")
        price = step.fill.last_price
    ladder_qty += hedge_qty
    dry_total = snap.cum_unfilled_qty + unfilled
    # An unfilled hedge stays in the MM's queue (it still wants it): counted per stage,
    # and in the totals only if it is still queued when the cascade ends.
    unfilled += abs(state.unfilled_hedge)
    liq_notional = liq.notional if liq else 0.0
    forced = liq_notional + hedge_usd
    cum_forced = snap.cum_forced_buy_notional + forced
    fund = liq.fund_after if liq else snap.insurance_fund
    dry = _side_empty(book, s)
    record = _record(
        snap,
        stage=k,
        price_after=price,
        hedge_qty=hedge_qty,
        hedge_notional=hedge_usd,
        pending_hedge_qty=state.pending_total,
        insurance_fund=fund,
        forced_buy_notional=forced,
        cum_forced_buy_notional=cum_forced,
        ladder_qty=ladder_qty,
        unfilled_qty=unfilled,
        book_dry=dry,
        mm_perp=state.perp_position,
        mm_spot=state.spot_position,
        **(_liquidation_fields(liq) if liq else {}),
    )
    n_liq = snap.n_liquidated + (liq.n if liq else 0)
    remaining = snap.remaining
    if liq is not None:
        remaining = np.arange(tranches.n) >= n_liq
        remaining.setflags(write=False)
    nxt = replace(
        snap,
        stage=k + 1,
        book=book,
        price=price,
        remaining=remaining,
        n_liquidated=n_liq,
        mm=state,
        insurance_fund=fund,
        cum_liquidated_qty=snap.cum_liquidated_qty + (liq.qty if liq else 0.0),
        cum_liquidated_notional=snap.cum_liquidated_notional + liq_notional,
        cum_hedge_qty=snap.cum_hedge_qty + hedge_qty,
        cum_hedge_notional=snap.cum_hedge_notional + hedge_usd,
        cum_forced_buy_notional=cum_forced,
        cum_adl_qty=snap.cum_adl_qty + (liq.adl_qty if liq else 0.0),
        cum_socialised_usd=snap.cum_socialised_usd + (liq.socialised_usd if liq else 0.0),
        cum_fees=snap.cum_fees + (liq.fees if liq else 0.0),
        cum_unfilled_qty=dry_total,
        dry_stage=snap.dry_stage if snap.dry_stage >= 0 or not dry else k,
        ledger=led.entries,
        hedge_queue=queue,
    )
    return record, nxt


def _hedge_step(
    mm: MarketMaker,
    snap: StageSnapshot,
    absorbed: tuple[float, float] | None,
    book: OrderBook,
) -> tuple[Any, tuple[tuple[int, float], ...]]:
    """The MM's absorb + hedge for stage ``k``, with the queue kept as (due, coins) pairs.

    :class:`~perpsbook.hedging.MarketMaker` keeps ``lag + 1`` queue slots, one per future
    stage, which costs O(lag) per snapshot (``lag=10**6`` took 40 s and 7.8 GB). Only the
    slots that hold something matter, so the stage is run by a MarketMaker whose "lag" is
    the number of distinct due stages: slot 0 = due now, slot 1 = stage ``k + 1`` (where
    the MM puts an unfilled hedge), then the other queued due stages in order, and last
    ``k + lag`` (where this stage's absorb goes; it is always the latest due stage). The
    slots keep their order and values, so the arithmetic -- the inventory limit's
    earliest-first pull included -- is bit for bit that of the full queue.
    """
    k, lag = snap.stage, mm.lag
    queue = snap.hedge_queue
    due_now = math.fsum(q for d, q in queue if d <= k)
    future = [(d, q) for d, q in queue if d > k]
    if lag == 0:
        dues = [k]  # nothing can be queued beyond k: an unfilled hedge is due at k + 1
    else:
        dues = [k, k + 1] + [d for d, _ in future if d > k + 1]
        if k + lag > dues[-1]:
            dues.append(k + lag)
    slots = dict(future)
    pending = (due_now, *(slots.get(d, 0.0) for d in dues[1:]))
    local = _with_lag(mm, len(dues) - 1)
    state = _restate(snap.mm, pending=pending, stage=k)
    if absorbed is not None:
        state = local.absorb(state, *absorbed)
    step = local.hedge(state, book, k)
    # The state after hedge() holds the slots for dues[1:] plus one slot beyond: with
    # lag 0 that one is stage k + 1 and carries an unfilled hedge; otherwise it stays 0.
    rest = step.state.pending
    labels = [*dues[1:], dues[-1] + 1]
    new_queue = tuple((d, q) for d, q in zip(labels, rest, strict=True) if q != 0.0)
    total = math.fsum(rest)
    return step._replace(state=_restate(step.state, pending=(total,))), new_queue


@functools.lru_cache(maxsize=256)
def _with_lag(mm: MarketMaker, lag: int) -> MarketMaker:
    """``mm`` with another lag (validated once per distinct pair, then cached)."""
    return mm if mm.lag == lag else replace(mm, lag=lag)


def _restate(state: MarketMakerState, **changes: Any) -> MarketMakerState:
    """A copy of a validated state with already-valid fields changed, skipping re-validation.

    Only used with values MarketMaker itself produced (a tuple of floats, an int stage):
    re-running MarketMakerState's checks twice per stage cost a third of a cascade's time.
    """
    new = copy.copy(state)
    for name, value in changes.items():
        object.__setattr__(new, name, value)
    return new


def _liquidation_fields(liq: _Liquidation) -> dict[str, Any]:
    return {
        "trigger_price": liq.trigger_price,
        "n_tranches": liq.n,
        "liquidated_qty": liq.qty,
        "liquidated_notional": liq.notional,
        "trigger_notional": liq.trigger_notional,
        "liquidation_vwap": liq.notional / liq.filled if liq.filled > 0 else math.nan,
        "fund_flow": liq.fund_flow,
        "fees": liq.fees,
        "adl_qty": liq.adl_qty,
        "socialised_usd": liq.socialised_usd,
    }


def is_settled(snapshot: StageSnapshot, tranches: Tranches) -> bool:
    """True when the next stage would change nothing.

    That is: the ignition has run, the price triggers no tranche still open, and no hedge
    is queued -- or one is, but the side of the ladder it needs is empty.
    """
    _check_snapshot(snapshot)
    if not isinstance(tranches, Tranches):
        raise InvalidInputError(f"tranches must be a Tranches, got {type(tranches).__name__}")
    if snapshot.stage == 0 or tranches.n_triggered(snapshot.price) > snapshot.n_liquidated:
        return False
    return snapshot.pending_qty == 0 or _side_empty(snapshot.book, -tranches.side)


# --------------------------------------------------------------------------- result


@dataclass(frozen=True, eq=False)
class CascadeResult:
    """A whole cascade: per-stage records and arrays, snapshots, and the summary.

    Attributes
    ----------
    params : CascadeParams
    tranches : Tranches
    records : tuple of StageRecord
        One per stage, stage 0 (the ignition) first.
    stages : StageArrays
        The same as columns (``result.stages.price_after`` ...).
    snapshots : tuple of StageSnapshot
        ``snapshots[k]`` is the state at the start of stage ``k``;
        ``run_stage(snapshots[k], tranches, params)`` reproduces ``records[k]`` and
        ``snapshots[k + 1]``. The last one is the final state.
    initial_price, final_price : float
        USD per coin (initial: the book's mid).
    ignition_qty, ignition_notional : float
        Coins and USD the ignition filled.
    total_liquidated_qty, total_liquidated_notional : float
        Coins liquidated (in the market or by ADL) and USD the engine paid in the market.
    total_hedge_qty, total_hedge_notional : float
        MM hedge trades, coins and USD.
    total_forced_buy_notional : float
        Engine + hedge USD: the buying the cascade forced (selling, in a crash).
    amplification : float
        ``total_forced_buy_notional / ignition_notional`` (dimensionless).
    n_liquidated : int
        Tranches liquidated.
    mm_pnl : float
        The MM's profit (USD) marked at the final price.
    insurance_fund_final, insurance_fund_pnl : float
        Fund balance at the end and its change, USD.
    adl_qty, socialised_usd : float
        Coins closed by ADL and USD of deficits charged to the opposite side.
    fees : float
        Liquidation fees, USD.
    pnl : dict
        Profit or loss (USD) at the final price of every ledger account that starts the
        cascade flat: ``ignitor``, ``market_maker``, ``insurance_fund`` (its change),
        ``venue_fees``, ``makers`` and the ADL counterparties. The liquidated traders are
        left out: their positions were opened before the cascade, so the ledger holds only
        what closing them cost (see :attr:`ledger`).
    ledger : LedgerEntries
        Every posting.
    ledger_imbalance : float
        Largest absolute residual of the ledger's column sums (USD, coins); ~0.
    book_ran_dry : bool
        Some order met an empty ladder side.
    dry_stage : int or None
        First stage that left the ladder empty.
    unfilled_qty, unfilled_notional : float
        Coins (and USD of a by-notional ignition) that found no liquidity.
    truncated : bool
        Stopped by ``max_stages`` with work left.
    """

    params: CascadeParams
    tranches: Tranches
    records: tuple[StageRecord, ...]
    stages: StageArrays
    snapshots: tuple[StageSnapshot, ...]
    initial_price: float
    final_price: float
    ignition_qty: float
    ignition_notional: float
    total_liquidated_qty: float
    total_liquidated_notional: float
    total_hedge_qty: float
    total_hedge_notional: float
    total_forced_buy_notional: float
    amplification: float
    n_liquidated: int
    mm_pnl: float
    insurance_fund_final: float
    insurance_fund_pnl: float
    adl_qty: float
    socialised_usd: float
    fees: float
    pnl: dict[str, float]
    ledger: LedgerEntries
    ledger_imbalance: float
    book_ran_dry: bool
    dry_stage: int | None
    unfilled_qty: float
    unfilled_notional: float
    truncated: bool

    @property
    def n_stages(self) -> int:
        """Number of stages run, the ignition included."""
        return len(self.records)

    @property
    def price_path(self) -> FloatArray:
        """Initial price, then the price after each stage, USD per coin."""
        return np.concatenate(([self.initial_price], self.stages.price_after))

    def summary(self) -> dict[str, Any]:
        """The headline numbers as a JSON-able dict (no per-stage data)."""
        keys = (
            "initial_price",
            "final_price",
            "ignition_qty",
            "ignition_notional",
            "total_liquidated_qty",
            "total_liquidated_notional",
            "total_hedge_qty",
            "total_hedge_notional",
            "total_forced_buy_notional",
            "amplification",
            "n_liquidated",
            "mm_pnl",
            "insurance_fund_final",
            "insurance_fund_pnl",
            "adl_qty",
            "socialised_usd",
            "fees",
            "ledger_imbalance",
            "book_ran_dry",
            "dry_stage",
            "unfilled_qty",
            "unfilled_notional",
            "truncated",
        )
        out = {"side": self.params.side, "n_stages": self.n_stages}
        out.update({k: _jsonable(getattr(self, k)) for k in keys})
        return out

    def to_dict(self) -> dict[str, Any]:
        """Everything JSON-able: summary, parameters, account P&L and a list of stages."""
        out = self.summary()
        out["params"] = self.params.to_dict()
        out["pnl"] = {k: _jsonable(v) for k, v in self.pnl.items()}
        out["stages"] = [r.to_dict() for r in self.records]
        return out

    def stage_table(self) -> str:
        """Deterministic plain-text table of the stages, then the summary lines."""
        return _stage_table(self)

    def tranche_stages(self) -> npt.NDArray[np.int64]:
        """The stage in which each tranche was liquidated, -1 if it never was.

        Tranches are liquidated in order, so tranche ``i`` belongs to the first stage whose
        running count of liquidated tranches exceeds ``i``: one ``searchsorted`` on the
        cumulative ``stages.n_tranches`` column.

        Returns
        -------
        ndarray of int64, shape (tranches.n,)
            Stage index (0 = ignition, which never liquidates) or -1.
        """
        cum = np.cumsum(self.stages.n_tranches)
        idx = np.arange(1, self.tranches.n + 1)
        stage = np.searchsorted(cum, idx, side="left").astype(np.int64)
        stage[idx > self.n_liquidated] = -1
        return stage

    def headline(self) -> str:
        """The headline numbers as a few aligned, deterministic lines of text.

        Works for a rocket (``params.side = +1``: buying) and a crash (``-1``: selling),
        and for a cascade that liquidates nothing.

        Returns
        -------
        str
            Ignition (USD, coins, price move in USD per coin), tranches and coins
            liquidated, the market makers' hedges (coins, USD), the forced buying or selling
            (USD) and the amplification (forced USD per ignition USD), the final price (USD
            per coin) and the P&L (USD, marked at the final price) of the market makers, the
            insurance fund and the ignitor.
        """
        word = "buy" if self.params.side == 1 else "sell"
        first = self.records[0].price_after
        p0, p1 = self.initial_price, self.final_price
        pnl = self.pnl
        adl = f"; {self.adl_qty:,.0f} coins closed by ADL" if self.adl_qty > 0 else ""
        plural = "s" if self.n_stages != 1 else ""
        lines = [
            (
                "ignition",
                f"${self.ignition_notional:,.0f} of spot {word}ing "
                f"({self.ignition_qty:,.0f} coins): {p0:,.3f} -> {first:,.2f} USD per coin",
            ),
            (
                "liquidated",
                f"{self.n_liquidated} of {self.tranches.n} tranches, "
                f"{self.total_liquidated_qty:,.0f} coins; the engine's orders cost "
                f"${self.total_liquidated_notional:,.0f}{adl}",
            ),
            (
                "hedges",
                f"{self.total_hedge_qty:,.0f} coins of spot for ${self.total_hedge_notional:,.0f}",
            ),
            (
                f"forced {word}ing",
                f"${self.total_forced_buy_notional:,.0f} = "
                f"{self.amplification:,.1f} x the ignition",
            ),
            (
                "final price",
                f"{p1:,.2f} USD per coin ({p1 / p0 - 1.0:+.1%} from {p0:,.3f}), "
                f"after {self.n_stages} stage{plural}",
            ),
            (
                "P&L at the end",
                f"market makers {_signed_usd(pnl['market_maker'])}, insurance fund "
                f"{_signed_usd(pnl['insurance_fund'])}, ignitor {_signed_usd(pnl['ignitor'])}",
            ),
        ]
        width = max(len(k) for k, _ in lines)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in lines)

    def __repr__(self) -> str:
        kind = "rocket" if self.params.side == 1 else "crash"
        return (
            f"CascadeResult({kind}, {self.n_stages} stages, price {self.initial_price:.6g} -> "
            f"{self.final_price:.6g}, forced {self.total_forced_buy_notional:,.0f} USD, "
            f"amplification {self.amplification:.4g})"
        )


def run_cascade(book: OrderBook, tranches: Tranches, params: CascadeParams) -> CascadeResult:
    """Run the stage-by-stage cascade from the ignition until it settles.

    Parameters
    ----------
    book : OrderBook
        The market book (the shared ladder), both sides non-empty; its mid is the starting
        price, USD per coin.
    tranches : Tranches
        Positions to be liquidated: shorts (side -1) for ``params.side=+1``, longs for -1.
    params : CascadeParams

    Returns
    -------
    CascadeResult

    Raises
    ------
    InvalidInputError
        For inputs of the wrong type or tranches on the wrong side. The ladder running dry
        is a result (``book_ran_dry``), not an error.
    """
    snap = initial_snapshot(book, tranches, params)
    snaps = [snap]
    records: list[StageRecord] = []
    truncated = False
    while True:
        record, snap = run_stage(snap, tranches, params)
        records.append(record)
        snaps.append(snap)
        if is_settled(snap, tranches):
            break
        if snap.stage > params.max_stages:
            truncated = True
            break
    return assemble_result(book, tranches, params, tuple(records), tuple(snaps), truncated)


def assemble_result(
    book: OrderBook,
    tranches: Tranches,
    params: CascadeParams,
    records: tuple[StageRecord, ...],
    snaps: tuple[StageSnapshot, ...],
    truncated: bool,
) -> CascadeResult:
    """A :class:`CascadeResult` from the stages a run produced (records and the snapshots
    before and after them). Used by :func:`run_cascade` and by :mod:`perpsbook.rocket`, which
    reruns a cascade from one of its stages; not in ``__all__``: plumbing, not an API."""
    last = snaps[-1]
    ledger = last.ledger
    marks = {"spot": last.price, "perp": last.price}
    trader, _ = _account_names(params.side)
    pnl = {k: v for k, v in ledger.value(marks).items() if k != trader}
    imbalance = max((abs(v) for v in ledger.imbalance().values()), default=0.0)
    unfilled = last.cum_unfilled_qty
    if _side_empty(last.book, params.side):
        unfilled += abs(last.pending_qty)
    return CascadeResult(
        params=params,
        tranches=tranches,
        records=records,
        stages=StageArrays.from_records(records),
        snapshots=snaps,
        initial_price=snaps[0].price,
        final_price=last.price,
        ignition_qty=last.ignition_qty,
        ignition_notional=last.ignition_notional,
        total_liquidated_qty=last.cum_liquidated_qty,
        total_liquidated_notional=last.cum_liquidated_notional,
        total_hedge_qty=last.cum_hedge_qty,
        total_hedge_notional=last.cum_hedge_notional,
        total_forced_buy_notional=last.cum_forced_buy_notional,
        amplification=last.cum_forced_buy_notional / last.ignition_notional
        if last.ignition_notional > 0
        else 0.0,
        n_liquidated=last.n_liquidated,
        mm_pnl=last.mm.pnl(last.price, last.price),
        insurance_fund_final=last.insurance_fund,
        insurance_fund_pnl=last.insurance_fund - params.insurance_fund,
        adl_qty=last.cum_adl_qty,
        socialised_usd=last.cum_socialised_usd,
        fees=last.cum_fees,
        pnl=pnl,
        ledger=ledger,
        ledger_imbalance=imbalance,
        book_ran_dry=bool(last.book_dry or unfilled > 0 or last.cum_unfilled_notional > 0),
        dry_stage=None if last.dry_stage < 0 else last.dry_stage,
        unfilled_qty=unfilled,
        unfilled_notional=last.cum_unfilled_notional,
        truncated=truncated,
    )


_TABLE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    # (field, header, format)
    ("stage", "stage", "{:d}"),
    ("trigger_price", "trigger", "{:.2f}"),
    ("price_before", "p_before", "{:.4f}"),
    ("price_after", "p_after", "{:.4f}"),
    ("liquidated_qty", "liq_coins", "{:,.0f}"),
    ("liquidated_notional", "liq_usd", "{:,.0f}"),
    ("hedge_qty", "hedge_coins", "{:,.0f}"),
    ("hedge_notional", "hedge_usd", "{:,.0f}"),
    ("insurance_fund", "fund_usd", "{:,.0f}"),
    ("socialised_usd", "socialised_usd", "{:,.0f}"),
    ("cum_forced_buy_notional", "cum_forced_usd", "{:,.0f}"),
    ("unfilled_qty", "unfilled", "{:,.0f}"),
)


def _signed_usd(usd: float) -> str:
    # Rounded first so that a loss of a fraction of a dollar never prints as "-$0".
    usd = round(float(usd))
    return f"{'-' if usd < 0 else '+'}${abs(usd):,.0f}"


def _cell(fmt: str, value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "-"
    return fmt.format(value + 0 if isinstance(value, float) else value)


def _stage_table(result: CascadeResult) -> str:
    from perpsbook.tables import text_table

    rows = []
    for r in result.records:
        cells = [_cell(fmt, getattr(r, name)) for name, _, fmt in _TABLE_COLUMNS]
        if r.stage == 0:
            cells[1] = "ignition"
        rows.append(cells)
    headers = [h for _, h, _ in _TABLE_COLUMNS]
    table = text_table(rows, headers, align=[">"] * len(headers), rule="columns", max_width=None)
    lines = table.split("\n")
    kind = "forced buying" if result.params.side == 1 else "forced selling"
    lines += [
        "",
        f"ignition            {result.ignition_notional:,.0f} USD "
        f"({result.ignition_qty:,.0f} coins)",
        f"price               {result.initial_price:.4f} -> {result.final_price:.4f} USD",
        f"liquidated          {result.total_liquidated_notional:,.0f} USD "
        f"({result.total_liquidated_qty:,.0f} coins, {result.n_liquidated} tranches)",
        f"{kind:<20}{result.total_forced_buy_notional:,.0f} USD",
        f"amplification       {result.amplification:,.2f}x",
        f"MM P&L              {result.mm_pnl:,.0f} USD",
        f"insurance fund P&L  {result.insurance_fund_pnl:,.0f} USD",
        f"ledger imbalance    {result.ledger_imbalance:.3g}",
    ]
    if result.book_ran_dry:
        where = "" if result.dry_stage is None else f" at stage {result.dry_stage}"
        lines.append(
            f"book ran dry{where}: {result.unfilled_qty:,.0f} coins unfilled"
            + (
                f", {result.unfilled_notional:,.0f} USD of ignition unfilled"
                if result.unfilled_notional
                else ""
            )
        )
    if result.truncated:
        lines.append(f"stopped after max_stages={result.params.max_stages} with work left")
    return "\n".join(lines)


# --------------------------------------------------------------------------- mirror


def mirror_inputs(
    book: OrderBook, tranches: Tranches, params: CascadeParams, pivot: float
) -> tuple[OrderBook, Tranches, CascadeParams]:
    """Reflect a cascade's inputs about ``pivot`` USD/coin (rocket <-> crash).

    Prices go to ``2*pivot - p``, bids and asks swap, shorts become longs and the cascade's
    side flips. A by-notional ignition becomes the coins it fills on ``book`` (USD amounts
    are not reflection-invariant; coin amounts are), so that
    ``run_cascade(*mirror_inputs(...))`` is the mirror image of
    ``run_cascade(book, tranches, params)``: prices reflected, coin quantities equal (up
    to rounding), each fill's USD ``2 * pivot * qty - notional``. One exception: with
    ``deficit_rule="adl"`` and a liquidation fee, the fee (a fraction of USD notional)
    changes the fund's coverage and so the ADL quantities differ between the two.

    Parameters
    ----------
    book : OrderBook
    tranches : Tranches
    params : CascadeParams
    pivot : float
        USD per coin, > 0; must exceed half of every price in the book and the tranches.

    Returns
    -------
    (OrderBook, Tranches, CascadeParams)
    """
    _check_inputs(book, tranches, params)
    c = check_scalar("pivot", pivot, check_positive)
    p = params
    if p.ignition_notional is not None:
        t = _market(book, p.side, p.ignition_notional, by_notional=True)
        p = p.replace(ignition_qty=t.qty + 0.0) if t.qty > 0 else p
    return book.mirrored(c), tranches.mirrored(c), p.replace(side=-p.side)
