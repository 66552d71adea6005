"""Liquidation engine: trigger, forced market orders, fee, insurance fund, ADL.

One call of :func:`liquidate` is one *batch*: every position whose equity at the mark price
is at or below its maintenance margin is closed (or clipped) in the same instant, the
closing orders of each side are aggregated into ONE market order into the perp book, and
the money is settled against each position's bankruptcy price. Everything is vectorised
over the N positions (struct of arrays); the only Python loops are over the two sides and
over a venue's handful of margin tiers.

Units: prices in USD per coin, sizes in coins, notional / margin / fees / fund in USD,
rates as fractions. ``side`` +1 is a long, -1 a short. A short is closed by *buying* (lifting
the asks), a long by *selling* (hitting the bids).

Sources
-------
[B-LIQ] Binance, "Liquidation" (FAQ 360033525271),
    https://www.binance.com/en/support/faq/360033525271 -- liquidation when collateral <
    maintenance margin; a liquidation ("clearance") fee is charged on the amount liquidated
    only; liquidation orders are Immediate-or-Cancel; "for smaller position holders ... they
    are already bankrupt before the liquidation takes place", i.e. the fee cannot exceed what
    is left of the margin; an older version of the page
    (https://binance.zendesk.com/hc/en-us/articles/360033525271-Liquidation) quotes 0.3 %
    (BTCUSDT) / 0.5 % (other perpetuals) and says the fund accumulates from liquidations
    above the bankruptcy price.
[B-FEE] Binance USDⓈ-M API ``GET /fapi/v1/exchangeInfo``, per-symbol field ``liquidationFee``
    (BTCUSDT 0.0125 = 1.25 % in captured responses; the value used by
    :data:`perpsbook.margin.BINANCE`).
[B-IF] Binance, "Introduction to Futures Insurance Funds" (FAQ 360033525371),
    https://www.binance.com/en/support/faq/360033525371 -- the fund takes over bankrupt
    positions: losses below the bankruptcy price are paid by the fund, profits above it are
    kept by the fund; counterparty liquidation (ADL) when the fund cannot.
[B-ADL] Binance, "What Is Auto-Deleveraging (ADL) and How Does It Work" (FAQ 360033525471),
    https://www.binance.com/en/support/faq/360033525471 -- ADL only when the insurance fund
    cannot take the bankrupt position; opposite-side traders ranked by profit and leverage
    ("more profitable and higher leveraged traders will be liquidated first"); they are
    closed at the bankruptcy price of the liquidated order, without trading fee. The
    formula at the end of that page, as quoted on Binance's developer forum
    (https://dev.binance.vision/t/how-to-caculating-leverage-pnl-quantile/17801):
    ``PnL% = max(0, unrealised profit) / max(1, wallet balance)``,
    ``LeveragePnL = PnL% x margin ratio`` with ``margin ratio = MM / (wallet + uPnL)``.
[Y-IF] Bybit, "Insurance Fund", https://www.bybit.com/en/help-center/article/Insurance-Fund
    -- close better than bankruptcy: the remaining margin goes to the fund; worse: the fund
    covers the loss; insufficient fund: ADL.
[H-LIQ] Hyperliquid Docs, "Liquidations",
    https://hyperliquid.gitbook.io/hyperliquid-docs/trading/liquidations (as mirrored at
    https://hyperliquid-co.gitbook.io/wiki/architecture/hypercore/dex/clearinghouse/liquidations)
    and Hyperliquid's announcement of partial liquidations (Telegram channel
    hyperliquid_announcements, post 307) -- liquidations are market orders into the book;
    no clearance fee; the liquidated user keeps any remaining margin; for liquidatable
    positions above 100k USDC only 20 % is sent as a market liquidation order, followed by a
    30-second cooldown during which liquidation orders are for the entire position.

[B-LIQ-2] Binance's "Liquidation Protocol" as reproduced for Binance-based copy trading at
    https://docs.traderwagon.com/faq/futures-trading-introduction/liquidation-protocol
    (read 2026-12-05): "all liquidation orders are Immediate or Cancel orders"; a trader
    still margin deficient "will be closed at the bankruptcy price and the Insurance Fund
    will take over the position"; the fee is charged "on the amount liquidated only".
    Binance, "Insurance Fund" (FAQ 360033525371, dated 2019-09-09): the fund takes over
    bankrupt positions and offloads them onto the market, collects the liquidation fees of
    non-bankrupt liquidations, and counterparty liquidation (ADL) follows when the fund
    "is unable to accept positions". Limiting the IOC order at the bankruptcy price is our
    reading of these two statements (no page gives the limit price in so many words).
[Y-LIQ] Bybit, "Liquidation Process (USDT Contract)",
    https://help.bybit.com/hc/en-us/articles/900000167723 (and the inverse-contract version
    of 2024-01-24, bybitHC_Article id 000001098): lowest risk-limit tier -> cancel orders,
    then the liquidation engine takes the position over at its bankruptcy price; better
    than bankruptcy -> remaining margin to the insurance fund, worse -> the fund pays,
    fund insufficient -> ADL. Higher tiers first try to step down the risk limit with
    FillOrKill orders (not modelled: our Bybit snapshot has one tier).
[H-ADL] Hyperliquid Docs, "Auto-deleveraging" (read 2026-12-05): ADL when "a user's
    account value or isolated position value becomes negative"; opposite users ranked by
    unrealised PnL and leverage; closed at the previous oracle price (older wording) / mark
    price (current wording) against the underwater user.
[H-BACK] docs.trade.xyz, "Liquidations and Auto-Deleveraging" (summarising Hyperliquid's
    HyperCore rules, read 2026-12-05): "If the account equity drops below 2/3 of the
    maintenance margin without successful liquidation through market orders on the book, a
    backstop liquidation happens through the Hyperliquid liquidator vault ... the maintenance
    margin is not returned to the user"; market-order liquidations leave the remaining
    collateral with the trader.

Venue policies (``LiquidationConfig.policy``, one engine)
---------------------------------------------------------
``"market"``
    Every liquidated clip is one slice of an unlimited market order (the engine before
    venue policies; available by name). Deficits are paid by the fund, ADL (ranking
    ``adl_ranking``) for the dry tail and for what the fund cannot pay, at the bankruptcy
    price.
``"binance"`` [B-LIQ][B-LIQ-2][B-IF][B-ADL]
    Each position's order is Immediate-or-Cancel, *limited at its bankruptcy price*: it
    takes only the levels at or better than that price still left by the positions
    processed before it, so a fill never loses money beyond the margin. What does not fill
    is taken over by the insurance fund at the bankruptcy price (``events.qty_takeover``;
    the fund's account ``insurance_fund`` then holds that position). The clearance fee
    (``liquidation_fee_rate`` x filled notional, capped by the margin left) goes to the fund
    (``fee_to="insurance_fund"``). ADL when the fund cannot carry the takeover: the fund's
    cash after the batch plus the takeover's value at the mark (``events.takeover_upnl``)
    must stay >= 0; if not, the smallest number of taken-over coins (losing ones, deepest
    breach first) is deleveraged at the bankruptcy price instead. Binance publishes no
    numerical example of this flow; tests/test_policies.py derives one by hand.
``"bybit"`` [Y-LIQ][Y-IF][Y-ADL]
    The liquidation engine takes the position over at the bankruptcy price and closes it in
    the market: in money terms the "market" walk with no clearance fee (the margin left
    above bankruptcy goes to the fund, a loss below it is paid by the fund), ADL when the
    fund cannot pay, Bybit's ADL ranking.
``"hyperliquid"`` [H-LIQ][H-BACK][H-ADL]
    Positions with equity at the mark >= 2/3 of maintenance margin: market orders, 20 %
    clips above 100k USD unless in ``cooldown``, no fee, the trader keeps what is left.
    Equity in [0, 2/3 MM): the backstop liquidator vault (account ``backstop_vault``)
    takes the whole position at its bankruptcy price, i.e. with its remaining margin
    (``events.qty_backstop``). Equity < 0 (account value negative): ADL of the whole
    position against Hyperliquid's ranking at ``oracle_price``; the loss below bankruptcy
    (``side x (oracle - bankruptcy)`` per coin) is paid from ``insurance_fund`` (read as
    the vault's loss capital, Hyperliquid has no insurance fund) and is bad debt beyond it
    (our choice: the docs say the platform has none). Dry book tails and ADL coins without
    a counterparty go to the vault.

ADL internals (rankings, queue matching, the minimal-quantity solver) live in
:mod:`perpsbook.adl`; ``adl_ranking``, ``adl_scores``, ``adl_book_orders`` and
``min_adl_quantity`` are re-exported here so older imports keep working.

Design decisions (each documented where it is implemented)
----------------------------------------------------------
* **Priority.** Liquidated positions are processed deepest breach first: breach depth =
  ``side * (liquidation price - mark)`` USD per coin, i.e. the order in which a monotone
  price path would have crossed their liquidation prices (lowest liquidation price first
  for shorts in a rising market, highest first for longs in a falling one). Ties keep the
  input order. :func:`liquidation_priority`.
* **Fills: priority walk, not pro-rata.** Each side's aggregated order walks the book once;
  position k receives the slice of that walk between the cumulative quantities of the
  positions before it and including it, so early positions get the better prices and, if
  the book runs dry, the last ones are the unfilled ones. A slice's USD is the difference of
  :meth:`~perpsbook.book.OrderBook.cost_curve` at its two cumulative ends, so the ADL solver
  below and the final walk price every slice with the same arithmetic.
* **Fee.** ``fee = min(rate x filled notional, max(remaining margin, 0))``: charged on the
  quantity actually liquidated in the book, from what is left of the position's margin at
  its fill, never driving the trader negative [B-LIQ]. ADL quantities pay no fee [B-ADL].
  The fee goes to the account ``venue_fees``, or to the fund under the Binance policy
  (``LiquidationConfig.fee_to``).
* **Settlement at the bankruptcy price.** The closed slice's margin left after the fill and
  the fee (``side * (notional - qty * bankruptcy_price) - fee``) is the *surplus* and goes to
  the insurance fund (``surplus_to="insurance_fund"``, Binance/Bybit [B-IF][Y-IF]) or stays
  with the trader (``surplus_to="trader"``, Hyperliquid [H-LIQ]; added to the margin of a
  position that stays open). A negative value is a *deficit*, paid by the fund.
* **The fund is settled per batch.** The batch's surpluses are available to its deficits
  (both sides of the book share one fund).
* **ADL (minimal quantity).** If the walk of every clip through the book leaves the fund
  negative, the smallest number of coins ``x`` is taken out of the book order and closed
  against opposite-side profitable positions (ranked by :func:`perpsbook.adl.adl_ranking`
  with the config's ``adl_ranking``: Binance LeveragePnL by default) at the bankrupt
  position's bankruptcy price, as venues do only for what the fund cannot take [B-ADL].
  Coins for ADL come from the *bankrupt* positions (deficit in the all-in-the-book walk) in
  the priority order above: the deepest-breached one is emptied first, then the next. The
  liquidated trader is indifferent (the margin is gone either way); per coin, ADL spares the
  fund the last walk price minus the bankruptcy price, largest for the deepest breach
  (lowest bankruptcy price of the shorts, highest of the longs, within one MMR bracket).
  The book order ``q - x`` is walked again and ``x`` solves
  ``F(x) = fund + surpluses(q - x) - deficits(q - x) = 0``: ``F`` is continuous and, up to
  fees and positions crossing from deficit to surplus, non-decreasing (every coin removed
  lets the rest of the walk fill earlier, at the same or a better price), so the solver
  (:func:`min_adl_quantity`) evaluates ``F`` on a grid of ``x`` in one vectorised pass of
  ``cost_curve`` and keeps the first sign change, then narrows that bracket with
  midpoint-and-secant rounds (vectorised too) to ``1e-10`` of the ADL capacity and takes
  the secant root, exact on a linear piece of ``F``. The ``x`` kept always has
  ``F(x) >= 0`` computed with the same arithmetic as the final walk, while the bracket's
  bottom, at most ``1e-10`` x capacity coins less, has ``F < 0``. So **after ADL the fund
  ends at zero to that tolerance** (``0 <= fund``, and in practice ``fund <= 1e-12`` x the
  walk's notional), never below. ADL capacity per side is the size of the eligible
  counterparties minus the dry tail (below); if even the whole capacity leaves ``F < 0``,
  all of it is used and the rest is bad debt.
* **Book runs dry.** Nothing raises: the unfilled tail is taken by ADL (if enabled) at the
  bankruptcy price, otherwise (or if ADL counterparties run out) it stays open in
  ``positions_after`` with its share of the margin and is reported in
  ``events.qty_unfilled``.
* **Bad debt.** A deficit the fund cannot pay and ADL could not avoid (ADL disabled or no
  profitable counterparty left) is *bad debt*, paid by the account ``venue`` and reported;
  the fund floors at exactly zero and the bad debt is shared by the deficits pro rata (a
  batch is one instant). Never silently dropped.
* **Partial clips** (``partial_fraction``, Hyperliquid-style): positions whose notional at
  the mark exceeds ``partial_threshold_notional`` and that are not in ``cooldown`` close
  only ``partial_fraction`` of their size; the rest stays open with the proportional share
  of the margin (the bankruptcy price of the remainder is unchanged). The engine has no
  clock: pass the ``cooldown`` mask (e.g. ``result.events.partial`` mapped to positions
  from the previous batch) to get Hyperliquid's "then the entire position" rule.
* **Indices stay stable.** ``remaining_size`` / ``remaining_margin`` / ``active`` have the
  input's length N; ``positions_after`` holds only the active ones (a :class:`Positions`
  cannot hold size 0) and ``active_index`` maps its rows back to input indices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from perpsbook.adl import (
    ADL_POLICIES,
    adl_book_orders,
    adl_ranking,
    adl_scores,
    check_policy,
    match_queues,
    min_adl_quantity,
    queue_capacity,
)
from perpsbook.book import Fill, OrderBook
from perpsbook.errors import (
    InvalidInputError,
    check_finite,
    check_nonnegative,
    check_positive,
    check_scalar,
)
from perpsbook.ledger import ENTRY_KINDS, INSTRUMENTS, LedgerEntries
from perpsbook.margin import BINANCE, TierSchedule, Venue, liquidatable, venue_by_name
from perpsbook.positions import Positions

__all__ = [
    "ADL_POLICIES",
    "FEE_DESTINATIONS",
    "HYPERLIQUID_BACKSTOP_FRACTION",
    "HYPERLIQUID_PARTIAL_FRACTION",
    "HYPERLIQUID_PARTIAL_THRESHOLD",
    "LIQUIDATION_POLICIES",
    "SURPLUS_DESTINATIONS",
    "AdlEvents",
    "LiquidationConfig",
    "LiquidationEvents",
    "LiquidationResult",
    "adl_book_orders",
    "adl_ranking",
    "adl_scores",
    "liquidate",
    "liquidation_priority",
    "min_adl_quantity",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SURPLUS_DESTINATIONS = ("insurance_fund", "trader")
"""Where the margin left above the bankruptcy price goes (see :class:`LiquidationConfig`)."""

FEE_DESTINATIONS = ("venue_fees", "insurance_fund")
"""Where the liquidation (clearance) fee goes (see :class:`LiquidationConfig`)."""

LIQUIDATION_POLICIES = ("market", "binance", "bybit", "hyperliquid")
"""How liquidated coins leave the book: module docstring, "Venue policies"."""

_POLICY_RANKING = {
    "market": "binance",
    "binance": "binance",
    "bybit": "bybit",
    "hyperliquid": "hyperliquid",
}

HYPERLIQUID_BACKSTOP_FRACTION = 2.0 / 3.0
"""Equity / maintenance margin below which Hyperliquid's backstop vault takes over [H-LIQ]."""

HYPERLIQUID_PARTIAL_FRACTION = 0.2
"""Fraction of a large position sent as the first liquidation order on Hyperliquid [H-LIQ]."""

HYPERLIQUID_PARTIAL_THRESHOLD = 100_000.0
"""Notional (USDC) above which Hyperliquid liquidates partially [H-LIQ]."""

_SNAP = 1e-12  # relative tolerance under which a remainder is floating-point dust


# --------------------------------------------------------------------------- config
@dataclass(frozen=True)
class LiquidationConfig:
    """Rules of the liquidation engine.

    Parameters
    ----------
    venue : Venue or TierSchedule
        Margin rules (maintenance margin, liquidation price). A bare
        :class:`~perpsbook.margin.TierSchedule` is wrapped in a Binance-style venue
        (maintenance margin on the mark-price notional). Default
        :data:`perpsbook.margin.BINANCE`.
    liquidation_fee_rate : float, optional
        Fee as a fraction of the liquidated notional, in [0, 1). Default: the venue's
        ``liquidation_fee_rate`` (Binance BTCUSDT 0.0125 [B-FEE]; Bybit and Hyperliquid 0:
        Bybit keeps the margin above the bankruptcy price in its fund instead [Y-IF],
        Hyperliquid charges no clearance fee [H-LIQ]).
    partial_fraction : float, optional
        If set, in (0, 1]: positions whose notional at the mark exceeds
        ``partial_threshold_notional`` close only this fraction of their size per batch
        (Hyperliquid: 0.2 [H-LIQ]). None (default) closes every position in full.
    partial_threshold_notional : float
        USD, >= 0; default 100,000 (Hyperliquid's 100k USDC [H-LIQ]).
    adl : bool
        Auto-deleverage when the insurance fund cannot cover a deficit or the book runs dry
        (default True). False leaves uncovered deficits as bad debt paid by the venue and
        book-dry remainders open.
    surplus_to : {"insurance_fund", "trader"}, optional
        Who keeps the margin left above the bankruptcy price after the fee. Default: the
        policy's (the fund for Binance, Bybit and "market" [B-IF][Y-IF]; the trader for
        Hyperliquid [H-LIQ]).
    policy : {"market", "binance", "bybit", "hyperliquid"}, optional
        How liquidated coins leave (module docstring, "Venue policies"). Default: the
        venue's own policy when the venue is one of the presets of that name (``binance``,
        ``binance-2021``, ``bybit``, ``hyperliquid``; a venue with ``mm_basis ==
        "half_initial"`` counts as Hyperliquid), else ``"market"`` (an unlimited walk of
        the book: the engine before venue policies, kept by name).
    adl_ranking : {"binance", "bybit", "hyperliquid", "pro_rata"}, optional
        ADL ranking (:mod:`perpsbook.adl`). Default: the policy's venue (``"binance"`` for
        ``"market"``).
    fee_to : {"venue_fees", "insurance_fund"}, optional
        Where the liquidation (clearance) fee goes. Default ``"insurance_fund"`` under the
        Binance policy ("the clearance fee feeds the insurance fund" [B-IF]), else
        ``"venue_fees"``.
    backstop_fraction : float
        Hyperliquid policy: positions whose equity at the mark is below this fraction of
        their maintenance margin go to the backstop liquidator vault (default 2/3 [H-LIQ]),
        in (0, 1].

    Notes
    -----
    ``partial_fraction=None`` means "the policy's default": 0.2 under Hyperliquid, no clips
    otherwise. Pass ``partial_fraction=1.0`` to switch Hyperliquid's clips off.

    Raises
    ------
    InvalidInputError
        Any parameter out of range or of the wrong type (the message names it).
    """

    venue: Any = BINANCE
    liquidation_fee_rate: float | None = None
    partial_fraction: float | None = None
    partial_threshold_notional: float = HYPERLIQUID_PARTIAL_THRESHOLD
    adl: bool = True
    surplus_to: str | None = None
    policy: str | None = None
    adl_ranking: str | None = None
    fee_to: str | None = None
    backstop_fraction: float = HYPERLIQUID_BACKSTOP_FRACTION

    def __post_init__(self) -> None:
        venue = self.venue
        if isinstance(venue, TierSchedule):
            venue = Venue(
                name=venue.name or "schedule",
                schedule=venue,
                mm_basis="liquidation",
                liquidation_fee_rate=0.0,
                source="TierSchedule passed to LiquidationConfig",
            )
        if not isinstance(venue, Venue):
            raise InvalidInputError(
                f"venue must be a perpsbook.margin.Venue or TierSchedule, got "
                f"{type(venue).__name__}"
            )
        object.__setattr__(self, "venue", venue)
        if self.liquidation_fee_rate is None:
            fee = venue.liquidation_fee_rate
        else:
            fee = check_scalar("liquidation_fee_rate", self.liquidation_fee_rate, check_finite)
            if not 0.0 <= fee < 1.0:
                raise InvalidInputError(f"liquidation_fee_rate must lie in [0, 1), got {fee!r}")
        object.__setattr__(self, "liquidation_fee_rate", float(fee))
        if self.partial_fraction is not None:
            frac = check_scalar("partial_fraction", self.partial_fraction, check_finite)
            if not 0.0 < frac <= 1.0:
                raise InvalidInputError(
                    f"partial_fraction must be None or lie in (0, 1], got {self.partial_fraction!r}"
                )
            object.__setattr__(self, "partial_fraction", frac)
        threshold = check_scalar(
            "partial_threshold_notional", self.partial_threshold_notional, check_nonnegative
        )
        object.__setattr__(self, "partial_threshold_notional", threshold)
        if not isinstance(self.adl, (bool, np.bool_)):
            raise InvalidInputError(f"adl must be True or False, got {self.adl!r}")
        object.__setattr__(self, "adl", bool(self.adl))
        policy = _venue_policy(venue) if self.policy is None else self.policy
        if not isinstance(policy, str) or policy not in LIQUIDATION_POLICIES:
            raise InvalidInputError(
                f"policy must be one of {LIQUIDATION_POLICIES}, got {self.policy!r}"
            )
        object.__setattr__(self, "policy", policy)
        if self.partial_fraction is None and policy == "hyperliquid":
            object.__setattr__(self, "partial_fraction", HYPERLIQUID_PARTIAL_FRACTION)
        surplus_to = self.surplus_to
        if surplus_to is None:
            surplus_to = "trader" if policy == "hyperliquid" else "insurance_fund"
        if surplus_to not in SURPLUS_DESTINATIONS:
            raise InvalidInputError(
                f"surplus_to must be one of {SURPLUS_DESTINATIONS}, got {self.surplus_to!r}"
            )
        object.__setattr__(self, "surplus_to", surplus_to)
        ranking = _POLICY_RANKING[policy] if self.adl_ranking is None else self.adl_ranking
        object.__setattr__(self, "adl_ranking", check_policy(ranking))
        fee_to = self.fee_to
        if fee_to is None:
            fee_to = "insurance_fund" if policy == "binance" else "venue_fees"
        if fee_to not in FEE_DESTINATIONS:
            raise InvalidInputError(f"fee_to must be one of {FEE_DESTINATIONS}, got {fee_to!r}")
        object.__setattr__(self, "fee_to", fee_to)
        frac = check_scalar("backstop_fraction", self.backstop_fraction, check_finite)
        if not 0.0 < frac <= 1.0:
            raise InvalidInputError(f"backstop_fraction must lie in (0, 1], got {frac!r}")
        object.__setattr__(self, "backstop_fraction", frac)

    @property
    def schedule(self) -> TierSchedule:
        """The venue's maintenance-margin schedule."""
        return self.venue.schedule

    @classmethod
    def for_venue(cls, venue: Any, **overrides: Any) -> LiquidationConfig:
        """The venue's own liquidation policy, with optional overrides.

        ``venue`` is a :class:`~perpsbook.margin.Venue` or a preset name
        (:func:`perpsbook.margin.venue_by_name`). Same as ``LiquidationConfig(venue=venue,
        **overrides)``: the policy, clips, fee and surplus destinations follow the venue
        (class docstring).
        """
        if isinstance(venue, str):
            venue = venue_by_name(venue)
        if not isinstance(venue, Venue):
            raise InvalidInputError(f"venue must be a Venue, got {type(venue).__name__}")
        return cls(venue=venue, **overrides)


def _venue_policy(venue: Venue) -> str:
    """The liquidation policy a venue preset implies (``"market"`` if none)."""
    if venue.mm_basis == "half_initial":
        return "hyperliquid"
    head = venue.name.strip().lower().split("-")[0].split("_")[0]
    return head if head in LIQUIDATION_POLICIES else "market"


def _check_mark(mark_price: Any) -> float:
    return check_scalar("mark_price", mark_price, check_positive)


# --------------------------------------------------------------------------- ranking helpers
def liquidation_priority(
    positions: Positions, mark_price: float, venue: Venue = BINANCE, mask: Any = None
) -> IntArray:
    """Order in which liquidated positions are processed: deepest breach first.

    Breach depth = ``side * (liquidation price - mark)`` (USD per coin): how far the mark has
    gone past the liquidation price, which is the order in which a monotone price path would
    have triggered them. Within one side this is lowest liquidation price first for shorts
    and highest first for longs. Ties keep the input order (stable).

    Parameters
    ----------
    positions : Positions
        N positions.
    mark_price : float
        Mark price, USD per coin, > 0.
    venue : Venue
        Rules for the liquidation price (default Binance).
    mask : bool array (N,), optional
        Only these positions are ranked (default all).

    Returns
    -------
    ndarray of int64
        Position indices, first processed first.
    """
    pos = Positions.check(positions)
    mark = _check_mark(mark_price)
    if not isinstance(venue, Venue):
        raise InvalidInputError(
            f"venue must be a perpsbook.margin.Venue, got {type(venue).__name__}"
        )
    sel = pos.selection("mask", mask, default=True)
    idx = np.flatnonzero(sel).astype(np.int64)
    if idx.size == 0:
        return idx
    lp = np.atleast_1d(
        venue.liquidation_price(pos.side[idx], pos.size[idx], pos.entry_price[idx], pos.margin[idx])
    )
    depth = pos.side[idx] * (lp - mark)
    return idx[np.lexsort((idx, -depth))]


# --------------------------------------------------------------------------- results
def _freeze(record: Any) -> None:
    """Make every ndarray attribute of a frozen record read-only."""
    for value in vars(record).values():
        if isinstance(value, np.ndarray):
            value.flags.writeable = False


@dataclass(frozen=True, eq=False)
class LiquidationEvents:
    """One row per liquidated position, in processing (priority) order; struct of arrays.

    Attributes
    ----------
    index : int64
        Position index in the input :class:`Positions`.
    side : int8
        +1 long (closed by selling), -1 short (closed by buying).
    size : float64
        Size before the batch, coins.
    clip : float64
        Coins the engine set out to close (the whole size, or the partial clip).
    partial : bool
        True where ``clip`` is a partial clip.
    qty_filled : float64
        Coins closed in the book.
    qty_adl : float64
        Coins closed by ADL against opposite positions at the bankruptcy price.
    qty_unfilled : float64
        Coins of the clip left open (book dry and no ADL counterparty).
    mark : float64
        Mark price of the batch, USD per coin.
    entry_price : float64
        USD per coin.
    liquidation_price, bankruptcy_price : float64
        USD per coin.
    fill_vwap : float64
        USD per coin of this position's slice of the book walk; 0 where nothing was filled.
    fill_notional : float64
        USD traded in the book for this position.
    fee : float64
        Liquidation fee paid, USD (to ``venue_fees``).
    insurance_delta : float64
        USD into (+, surplus) or out of (-, deficit paid) the insurance fund, not counting
        the fee (which also goes to the fund when ``config.fee_to == "insurance_fund"``).
    bad_debt : float64
        USD of deficit neither the fund nor ADL covered, paid by the venue.
    trader_credit : float64
        USD of surplus kept by the trader (``surplus_to="trader"``), else 0.
    margin_released : float64
        USD of margin allocated to the closed coins (``margin * closed / size``).
    qty_takeover : float64
        Coins taken over by the insurance fund at the bankruptcy price (Binance policy:
        what the IOC order limited at the bankruptcy price did not fill and ADL did not
        take [B-LIQ][B-IF]); they become the account ``insurance_fund``'s position. 0 under
        the other policies.
    qty_backstop : float64
        Coins taken over by Hyperliquid's backstop liquidator vault (account
        ``backstop_vault``) at the bankruptcy price, i.e. together with the position's
        remaining equity [H-LIQ]. 0 under the other policies.
    adl_price : float64
        USD per coin of this event's ADL trades: the bankruptcy price (Binance, Bybit,
        market) or the oracle price (Hyperliquid [H-ADL]); the bankruptcy price where there
        was no ADL.
    """

    index: IntArray
    side: npt.NDArray[np.int8]
    size: FloatArray
    clip: FloatArray
    partial: npt.NDArray[np.bool_]
    qty_filled: FloatArray
    qty_adl: FloatArray
    qty_unfilled: FloatArray
    mark: FloatArray
    entry_price: FloatArray
    liquidation_price: FloatArray
    bankruptcy_price: FloatArray
    fill_vwap: FloatArray
    fill_notional: FloatArray
    fee: FloatArray
    insurance_delta: FloatArray
    bad_debt: FloatArray
    trader_credit: FloatArray
    margin_released: FloatArray
    qty_takeover: FloatArray
    qty_backstop: FloatArray
    adl_price: FloatArray

    def __post_init__(self) -> None:
        _freeze(self)

    @property
    def n(self) -> int:
        """Number of liquidated positions."""
        return int(self.index.shape[0])

    def __len__(self) -> int:
        return self.n

    @property
    def qty_closed(self) -> FloatArray:
        """Coins closed: book + ADL + fund takeover + backstop vault."""
        return self.qty_filled + self.qty_adl + self.qty_takeover + self.qty_backstop

    @property
    def realised_pnl(self) -> FloatArray:
        """USD realised on the closed coins: book slice at its VWAP, ADL at ``adl_price``,
        takeovers (fund, backstop vault) at the bankruptcy price."""
        book = self.fill_notional - self.qty_filled * self.entry_price
        adl = self.qty_adl * (self.adl_price - self.entry_price)
        taken = (self.qty_takeover + self.qty_backstop) * (self.bankruptcy_price - self.entry_price)
        return self.side * (book + adl + taken)

    @property
    def takeover_upnl(self) -> FloatArray:
        """USD: the taker's (fund's or vault's) unrealised PnL at the mark on the coins it
        took over at the bankruptcy price, ``side * (qty_takeover + qty_backstop) * (mark -
        bankruptcy price)``; negative when the mark is past the bankruptcy price."""
        return (
            self.side
            * (self.qty_takeover + self.qty_backstop)
            * (self.mark - self.bankruptcy_price)
        )


@dataclass(frozen=True, eq=False)
class AdlEvents:
    """Auto-deleveraging trades, struct of arrays, in execution order.

    Attributes
    ----------
    event : int64
        Row in :class:`LiquidationEvents` of the liquidated position served.
    index : int64
        Index of the liquidated (bankrupt) position.
    counterparty : int64
        Index of the deleveraged opposite position.
    side : int8
        Side of the counterparty (opposite of the liquidated position).
    qty : float64
        Coins closed, > 0.
    price : float64
        Bankruptcy price of the liquidated position, USD per coin.
    realised_pnl : float64
        Counterparty's realised PnL on these coins, ``side * qty * (price - entry)``, USD.
    margin_released : float64
        Counterparty's margin share of these coins, USD.
    """

    event: IntArray
    index: IntArray
    counterparty: IntArray
    side: npt.NDArray[np.int8]
    qty: FloatArray
    price: FloatArray
    realised_pnl: FloatArray
    margin_released: FloatArray

    def __post_init__(self) -> None:
        _freeze(self)

    @property
    def n(self) -> int:
        """Number of ADL trades."""
        return int(self.qty.shape[0])

    def __len__(self) -> int:
        return self.n


@dataclass(frozen=True, eq=False)
class LiquidationResult:
    """Everything one :func:`liquidate` batch did.

    Attributes
    ----------
    events : LiquidationEvents
    adl : AdlEvents
    positions_after : Positions
        The positions still open (rows of ``active``), sizes and margins updated.
    active_index : ndarray of int64
        Input index of each row of ``positions_after``.
    remaining_size, remaining_margin : ndarray (N,)
        Coins and USD of every input position after the batch (0 where closed).
    active : bool ndarray (N,)
        Positions still open.
    book_after : OrderBook
        The perp book after both forced orders.
    buy_fill, sell_fill : Fill or None
        The aggregated forced buy (closing shorts) and sell (closing longs), if any.
    insurance_fund_before, insurance_fund_after : float
        USD; ``after >= 0`` always.
    mark_price : float
        USD per coin.
    config : LiquidationConfig
    oracle_price : float
        USD per coin (the mark unless given): Hyperliquid's ADL price.

    Notes
    -----
    ``insurance_fund_after`` is the fund's USD balance from fees, surpluses and deficits.
    Coins the fund takes over (``events.qty_takeover``, Binance) are an open position of
    the fund, entered at the bankruptcy price: their USD and coin legs are in
    :meth:`ledger_entries` (account ``insurance_fund``), their value at the mark is
    ``events.takeover_upnl``; they are not in ``insurance_fund_after``.
    """

    events: LiquidationEvents
    adl: AdlEvents
    positions_after: Positions
    active_index: IntArray
    remaining_size: FloatArray
    remaining_margin: FloatArray
    active: npt.NDArray[np.bool_]
    book_after: OrderBook
    buy_fill: Fill | None
    sell_fill: Fill | None
    insurance_fund_before: float
    insurance_fund_after: float
    mark_price: float
    config: LiquidationConfig
    oracle_price: float = float("nan")

    def __post_init__(self) -> None:
        if not np.isfinite(self.oracle_price):
            object.__setattr__(self, "oracle_price", float(self.mark_price))
        _freeze(self)

    @property
    def takeover_qty(self) -> float:
        """Coins the insurance fund took over at bankruptcy prices (Binance policy)."""
        return float(self.events.qty_takeover.sum())

    @property
    def backstop_qty(self) -> float:
        """Coins Hyperliquid's backstop vault took over at bankruptcy prices."""
        return float(self.events.qty_backstop.sum())

    # ------------------------------------------------------------------ totals
    @property
    def n_liquidated(self) -> int:
        """Positions liquidated (fully or partly) in this batch."""
        return self.events.n

    @property
    def total_fee(self) -> float:
        """USD of liquidation fees."""
        return float(self.events.fee.sum())

    @property
    def total_bad_debt(self) -> float:
        """USD of bad debt paid by the venue."""
        return float(self.events.bad_debt.sum())

    @property
    def insurance_fund_delta(self) -> float:
        """Change of the insurance fund, USD."""
        return self.insurance_fund_after - self.insurance_fund_before

    @property
    def forced_buy_qty(self) -> float:
        """Coins bought in the book to close shorts."""
        return 0.0 if self.buy_fill is None else self.buy_fill.qty

    @property
    def forced_sell_qty(self) -> float:
        """Coins sold in the book to close longs."""
        return 0.0 if self.sell_fill is None else self.sell_fill.qty

    @property
    def forced_buy_notional(self) -> float:
        """USD paid in the book to close shorts."""
        return 0.0 if self.buy_fill is None else self.buy_fill.notional

    @property
    def forced_sell_notional(self) -> float:
        """USD received in the book to close longs."""
        return 0.0 if self.sell_fill is None else self.sell_fill.notional

    @property
    def adl_qty(self) -> float:
        """Coins closed by ADL."""
        return float(self.adl.qty.sum())

    @property
    def unfilled_qty(self) -> float:
        """Coins the engine meant to close but left open."""
        return float(self.events.qty_unfilled.sum())

    def totals(self) -> dict[str, float]:
        """The batch in a few numbers (USD, coins)."""
        return {
            "n_liquidated": float(self.n_liquidated),
            "forced_buy_qty": self.forced_buy_qty,
            "forced_buy_notional": self.forced_buy_notional,
            "forced_sell_qty": self.forced_sell_qty,
            "forced_sell_notional": self.forced_sell_notional,
            "fees": self.total_fee,
            "insurance_fund_delta": self.insurance_fund_delta,
            "bad_debt": self.total_bad_debt,
            "adl_qty": self.adl_qty,
            "unfilled_qty": self.unfilled_qty,
            "takeover_qty": self.takeover_qty,
            "backstop_qty": self.backstop_qty,
        }

    # ------------------------------------------------------------------ accounting
    def ledger_entries(
        self,
        *,
        trader_prefix: str = "trader:",
        book_account: str = "perp_book",
        fund_account: str = "insurance_fund",
        fee_account: str = "venue_fees",
        venue_account: str = "venue",
        backstop_account: str = "backstop_vault",
    ) -> LedgerEntries:
        """The batch's money and contract movements as double-entry postings.

        Accounts: ``f"{trader_prefix}{i}"`` for position i (liquidated traders and ADL
        counterparties), ``book_account`` (the resting orders the forced orders hit),
        ``fund_account``, ``fee_account`` and ``venue_account`` (bad debt). Entries, grouped
        by kind and in event order within a kind (zero amounts are not recorded):

        * ``trade`` (perp): the book slice, ``qty_filled`` coins for ``fill_notional`` USD
          between the trader and the book (a short buys, a long sells);
        * ``trade`` (perp): each ADL trade, at the bankruptcy price, with the counterparty;
        * ``trade`` (perp): coins taken over at the bankruptcy price by ``fund_account``
          (Binance) or ``backstop_account`` (Hyperliquid), which then hold the position;
        * ``fee``: trader -> ``fee_account`` (or ``fund_account`` when
          ``config.fee_to == "insurance_fund"``);
        * ``transfer``: surplus trader -> fund; deficit fund -> trader; bad debt venue ->
          trader.

        Only this batch's flows are recorded (every account starts at zero), so for a
        liquidated trader ``USD + (margin released - side * closed * entry)`` is what the
        trader gets back (0 unless ``surplus_to="trader"``), which the tests check.

        Returns
        -------
        perpsbook.ledger.LedgerEntries
            Zero-sum per instrument by construction: ``imbalance()`` is rounding only.
        """
        ev, adl = self.events, self.adl
        trader = np.char.add(trader_prefix, ev.index.astype(str))
        book = np.full(ev.n, book_account, dtype=object)
        short = ev.side < 0
        groups: list[list[_Leg]] = []

        def trade(buyer: Any, seller: Any, qty: FloatArray, usd: FloatArray, memo: str) -> None:
            groups.append(
                [
                    _Leg("trade", buyer, seller, "USD", usd, memo),
                    _Leg("trade", seller, buyer, "perp", qty, memo),
                ]
            )

        def transfer(kind: str, src: Any, dst: Any, usd: FloatArray, memo: str) -> None:
            groups.append([_Leg(kind, src, dst, "USD", usd, memo)])

        trade(
            np.where(short, trader, book),
            np.where(short, book, trader),
            ev.qty_filled,
            ev.fill_notional,
            "liquidation fill",
        )
        if adl.n:
            liq = np.char.add(trader_prefix, adl.index.astype(str))
            cp = np.char.add(trader_prefix, adl.counterparty.astype(str))
            cp_long = adl.side > 0
            trade(
                np.where(cp_long, liq, cp),
                np.where(cp_long, cp, liq),
                adl.qty,
                adl.qty * adl.price,
                "ADL at bankruptcy price",
            )
        for taker, qty, memo in (
            (fund_account, ev.qty_takeover, "insurance fund takeover at bankruptcy price"),
            (backstop_account, ev.qty_backstop, "backstop vault takeover at bankruptcy price"),
        ):
            taker_col = np.full(ev.n, taker, dtype=object)
            trade(
                np.where(short, trader, taker_col),
                np.where(short, taker_col, trader),
                qty,
                qty * ev.bankruptcy_price,
                memo,
            )
        fee_dst = fund_account if self.config.fee_to == "insurance_fund" else fee_account
        transfer("fee", trader, fee_dst, ev.fee, "liquidation fee")
        surplus = np.maximum(ev.insurance_delta, 0.0)
        paid = np.maximum(-ev.insurance_delta, 0.0)
        transfer("transfer", trader, fund_account, surplus, "surplus to insurance fund")
        transfer("transfer", fund_account, trader, paid, "deficit paid by insurance fund")
        transfer("transfer", venue_account, trader, ev.bad_debt, "bad debt paid by venue")
        return _postings(groups)


class _Leg(NamedTuple):
    kind: str
    src: Any  # account name or array of names
    dst: Any
    instrument: str
    amount: FloatArray
    memo: str


def _postings(groups: list[list[_Leg]]) -> LedgerEntries:
    """Assemble LedgerEntries column-wise; the legs of a group share entry numbers."""
    cols: dict[str, list[Any]] = {k: [] for k in ("kind", "src", "dst", "ins", "amt", "memo", "id")}
    next_entry = 0
    for legs in groups:
        keep = np.asarray(legs[0].amount) > 0  # zero amounts are not recorded
        n_keep = int(np.count_nonzero(keep))
        ids = next_entry + np.arange(n_keep, dtype=np.int64)
        next_entry += n_keep
        for leg in legs:
            size = np.asarray(leg.amount).shape[0]
            cols["kind"].append(np.full(n_keep, ENTRY_KINDS.index(leg.kind), dtype=np.int8))
            cols["src"].append(np.broadcast_to(np.asarray(leg.src, dtype=object), (size,))[keep])
            cols["dst"].append(np.broadcast_to(np.asarray(leg.dst, dtype=object), (size,))[keep])
            cols["ins"].append(np.full(n_keep, INSTRUMENTS.index(leg.instrument), dtype=np.int8))
            cols["amt"].append(np.asarray(leg.amount, dtype=np.float64)[keep])
            cols["memo"].append(np.full(n_keep, leg.memo, dtype=object))
            cols["id"].append(ids)
    entry = np.concatenate(cols["id"])
    order = np.argsort(entry, kind="stable")  # a trade's cash and coin legs stay adjacent
    src = np.concatenate(cols["src"]).astype(str)[order]
    dst = np.concatenate(cols["dst"]).astype(str)[order]
    m = order.size
    uniq, first, inverse = np.unique(
        np.concatenate([src, dst]), return_index=True, return_inverse=True
    )
    by_first_use = np.argsort(first, kind="stable")
    rank = np.empty(uniq.size, dtype=np.int64)
    rank[by_first_use] = np.arange(uniq.size)
    codes = rank[inverse.reshape(-1)]
    return LedgerEntries(
        accounts=tuple(uniq[by_first_use].tolist()),
        entry=entry[order],
        kind=np.concatenate(cols["kind"])[order],
        src=codes[:m],
        dst=codes[m:],
        instrument=np.concatenate(cols["ins"])[order],
        amount=np.concatenate(cols["amt"])[order],
        memo=tuple(np.concatenate(cols["memo"])[order].tolist()),
    )


# --------------------------------------------------------------------------- the walk
def _slice_usd(book: OrderBook, order_side: int, qty: FloatArray, got: float) -> FloatArray:
    """USD of each request's slice of one aggregated walk; requests along the last axis.

    Slice k is the walk between the cumulative quantities before request k and including it,
    capped at ``got`` coins (what the book can fill). Priced by ``cost_curve`` at the
    cumulative ends, so a batch of candidate orders (rows) costs one vectorised call.
    """
    ends = np.minimum(np.cumsum(qty, axis=-1), got)
    cost = book.cost_curve(order_side, ends, partial=True)
    return np.diff(cost, axis=-1, prepend=0.0)


def _slice_usd_both(book: OrderBook, sides: npt.NDArray[np.int8], qty: FloatArray) -> FloatArray:
    """:func:`_slice_usd` of the shorts' buy order and the longs' sell order (last axis)."""
    usd = np.zeros_like(qty)
    for pos_side in (-1, 1):
        sel = sides == pos_side
        depth = book.total_ask_qty if pos_side < 0 else book.total_bid_qty
        if sel.any() and depth > 0:
            usd[..., sel] = _slice_usd(book, -pos_side, qty[..., sel], np.inf)
    return usd


def _walk_side(
    book: OrderBook, order_side: int, qty: FloatArray
) -> tuple[FloatArray, FloatArray, Fill | None]:
    """One aggregated market order of ``sum(qty)`` coins, sliced among the requests in order.

    Returns the coins and USD each request got and the Fill (None if nothing was sent or
    the side of the book is empty). Request k gets the part of the walk between the
    cumulative quantities before it and including it; a dry book leaves the tail unfilled.
    """
    filled = np.zeros_like(qty)
    notional = np.zeros_like(qty)
    total = float(qty.sum())
    depth = book.total_ask_qty if order_side > 0 else book.total_bid_qty
    if total <= 0 or depth <= 0:
        return filled, notional, None
    fill = book.market_order(order_side, total, partial=True)
    if fill.unfilled > 0:
        got = fill.qty
        end = np.cumsum(qty)
        filled = np.where(end <= got, qty, np.clip(got - (end - qty), 0.0, qty))
    else:
        # An order within QTY_RTOL of a level's depth takes the level exactly, so got may
        # differ from total by dust: the requests are filled in full, priced uncapped.
        got = np.inf
        filled = qty.copy()
    notional = np.where(filled > 0, _slice_usd(book, order_side, qty, got), 0.0)
    return filled, notional, fill


def _walk_both(
    book: OrderBook, sides: npt.NDArray[np.int8], qty: FloatArray
) -> tuple[FloatArray, FloatArray, Fill | None, Fill | None, OrderBook]:
    """Shorts' buy order then longs' sell order (they touch different sides of the book)."""
    filled = np.zeros_like(qty)
    notional = np.zeros_like(qty)
    fills: dict[int, Fill | None] = {}
    current = book
    for pos_side in (-1, 1):
        sel = sides == pos_side
        f, n, fill = _walk_side(current, -pos_side, qty[sel])
        filled[sel], notional[sel] = f, n
        fills[-pos_side] = fill
        if fill is not None:
            current = fill.book_after
    return filled, notional, fills[1], fills[-1], current


def _snap_to(x: FloatArray, target: FloatArray) -> FloatArray:
    """Replace values within floating-point dust of ``target`` by ``target`` itself."""
    return np.where(np.abs(x - target) <= _SNAP * np.maximum(np.abs(target), 1e-300), target, x)


def _cap_cumulative(cap: FloatArray, room: float) -> FloatArray:
    """Trim a queue of capacities (in order) so that together they never exceed ``room``."""
    cum = np.minimum(np.cumsum(cap), room)
    return np.minimum(np.diff(cum, prepend=0.0), cap)


# --------------------------------------------------------------------------- the engine
def liquidate(
    positions: Positions,
    mark_price: float,
    book: OrderBook,
    insurance_fund: float,
    config: LiquidationConfig | None = None,
    *,
    cooldown: Any = None,
    oracle_price: float | None = None,
) -> LiquidationResult:
    """Liquidate every position at or below maintenance margin at ``mark_price``.

    How the liquidated coins leave depends on ``config.policy`` (module docstring, with
    sources): ``"market"`` and ``"bybit"`` walk the book without limit, ``"binance"`` sends
    IOC orders limited at each bankruptcy price and the insurance fund takes over the rest,
    ``"hyperliquid"`` walks the book in clips, hands positions below 2/3 of maintenance to
    the backstop vault and deleverages negative accounts at the oracle price.

    Parameters
    ----------
    positions : Positions
        N isolated positions (sizes in coins, entry prices USD per coin, margins USD).
    mark_price : float
        Mark price, USD per coin, finite and > 0: the trigger price [B-LIQ][H-LIQ].
    book : OrderBook
        The perp order book the forced orders trade against (prices USD per coin).
    insurance_fund : float
        Fund balance before the batch, USD, >= 0. Under the Hyperliquid policy this is the
        capital the liquidator vault puts up for losses (Hyperliquid has no insurance fund).
    config : LiquidationConfig, optional
        Default ``LiquidationConfig()`` (Binance BTCUSDT, Binance policy, ADL on).
    cooldown : bool array (N,), optional
        Positions inside Hyperliquid's post-partial cooldown: closed in full even when a
        partial clip would apply [H-LIQ]. A caller counting stages passes the positions
        clipped in the previous stage(s) (``events.partial`` mapped back by
        ``events.index``).
    oracle_price : float, optional
        USD per coin, > 0; the price of Hyperliquid's ADL [H-ADL]. Default: the mark.

    Returns
    -------
    LiquidationResult
        Events, ADL trades, positions/book/fund after, fills and a ledger view.

    Raises
    ------
    InvalidInputError
        ``positions`` not a Positions, ``book`` not an OrderBook, mark/oracle price
        NaN/inf/<= 0 or not a single number, insurance fund NaN/inf/< 0, a malformed
        ``cooldown`` mask or ``config``.
    """
    pos = Positions.check(positions)
    mark = _check_mark(mark_price)
    oracle = (
        mark if oracle_price is None else check_scalar("oracle_price", oracle_price, check_positive)
    )
    if not isinstance(book, OrderBook):
        raise InvalidInputError(
            f"book must be a perpsbook.book.OrderBook, got {type(book).__name__}"
        )
    fund0 = check_scalar("insurance_fund", insurance_fund, check_nonnegative)
    cfg = LiquidationConfig() if config is None else config
    if not isinstance(cfg, LiquidationConfig):
        raise InvalidInputError(f"config must be a LiquidationConfig, got {type(cfg).__name__}")
    cool = pos.selection("cooldown", cooldown, default=False)
    venue = cfg.venue
    n = pos.n

    hit = (
        np.atleast_1d(liquidatable(pos, venue, mark)).astype(bool) if n else np.zeros(0, dtype=bool)
    )
    idx = liquidation_priority(pos, mark, venue, hit)
    side = pos.side[idx]
    sd = side.astype(np.float64)
    size, entry, margin = pos.size[idx], pos.entry_price[idx], pos.margin[idx]
    lp = np.atleast_1d(venue.liquidation_price(side, size, entry, margin)).astype(np.float64)
    bk = entry - sd * margin / size
    zeros = np.zeros(idx.size)

    # Hyperliquid: who goes to the backstop vault, who to ADL, who to the book [H-LIQ][H-ADL]
    to_backstop = np.zeros(idx.size, dtype=bool)
    to_adl_neg = np.zeros(idx.size, dtype=bool)
    if cfg.policy == "hyperliquid" and idx.size:
        equity = margin + sd * size * (mark - entry)
        mm = np.atleast_1d(venue.maintenance_at(side, size, entry, mark)).astype(np.float64)
        to_adl_neg = (equity < 0) & cfg.adl
        to_backstop = ~to_adl_neg & (equity < cfg.backstop_fraction * mm)

    partial = np.zeros(idx.size, dtype=bool)
    if cfg.partial_fraction is not None and cfg.partial_fraction < 1.0:
        partial = (size * mark > cfg.partial_threshold_notional) & ~cool[idx]
        partial &= ~(to_backstop | to_adl_neg)  # taken over / deleveraged whole
    clip = np.where(partial, size * (cfg.partial_fraction or 1.0), size)

    rate = cfg.liquidation_fee_rate
    to_fund = cfg.surplus_to == "insurance_fund"
    fee_to_fund = cfg.fee_to == "insurance_fund"

    def settle(
        f: FloatArray, usd: FloatArray, extra: FloatArray | float = 0.0
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        # margin left on the filled coins after the fill, measured against bankruptcy;
        # ``extra``: USD left (signed) on coins closed outside the book (ADL off bankruptcy)
        left = sd * (usd - f * bk) + extra
        fee = np.minimum(rate * usd, np.maximum(left, 0.0))
        return fee, np.maximum(left, 0.0) - fee, np.maximum(-left, 0.0)

    ranked = _adl_queues(pos, mark, hit, cfg) if cfg.adl else {}
    q_take = zeros.copy()
    q_back = zeros.copy()
    adl_price_ev = bk.copy()
    adl_event = np.empty(0, np.int64)
    adl_cp = np.empty(0, np.int64)
    adl_qty = np.empty(0)

    if cfg.policy == "binance":
        # IOC limited at the bankruptcy price; the fund takes over what does not fill [B-LIQ]
        f_lim = _limited_fills(book, side, clip, bk)
        f2, n2, buy_fill, sell_fill, book_after = _walk_both(book, side, f_lim)
        fee, surplus, deficit = settle(f2, n2)
        rest = np.maximum(clip - f2, 0.0)
        rest = np.where(rest <= _SNAP * clip, 0.0, rest)
        cash = fund0 + (float(surplus.sum()) if to_fund else 0.0) - float(deficit.sum())
        cash += float(fee.sum()) if fee_to_fund else 0.0
        per_coin = sd * (mark - bk)  # the fund's uPnL per coin taken over, at the mark
        want = np.zeros_like(rest)
        shortfall = -(cash + float((rest * per_coin).sum()))
        if cfg.adl and shortfall > 0:
            # ADL only what the fund cannot carry [B-IF][B-ADL]: losing coins, deepest first
            cap = np.where(per_coin < 0, rest, 0.0)
            for liq_side, queue in ranked.items():
                sel = side == liq_side
                cap[sel] = _cap_cumulative(cap[sel], float(pos.size[queue].sum()))
            gain = cap * -per_coin
            before = np.cumsum(gain) - gain
            take = np.clip((shortfall - before) / np.where(gain > 0, -per_coin, 1.0), 0.0, cap)
            want = np.where(gain > 0, take, 0.0)
        adl_event, adl_cp, adl_qty = _adl_all(ranked, pos, side, want, cfg.adl_ranking)
        matched = np.bincount(adl_event, weights=adl_qty, minlength=idx.size)
        matched = _snap_to(np.minimum(matched, want), want)
        q_take = np.maximum(rest - matched, 0.0)
        adl_total = matched
        unfilled = zeros.copy()
        extra = 0.0
    elif cfg.policy == "hyperliquid":
        # market clips for the rest; dry tails and ADL leftovers go to the backstop vault
        g = np.where(to_backstop | to_adl_neg, 0.0, clip)
        f2, n2, buy_fill, sell_fill, book_after = _walk_both(book, side, g)
        dry = np.maximum(g - f2, 0.0)
        dry = np.where(dry <= _SNAP * clip, 0.0, dry)
        want = np.where(to_adl_neg, size, 0.0)
        adl_event, adl_cp, adl_qty = _adl_all(ranked, pos, side, want, cfg.adl_ranking)
        matched = np.bincount(adl_event, weights=adl_qty, minlength=idx.size)
        matched = _snap_to(np.minimum(matched, want), want)
        adl_price_ev = np.full(idx.size, oracle)
        q_back = np.where(to_backstop, clip, 0.0) + dry + np.maximum(want - matched, 0.0)
        adl_total = matched
        unfilled = zeros.copy()
        extra = sd * matched * (oracle - bk)
        fee, surplus, deficit = settle(f2, n2, extra)
    else:
        f2, n2, buy_fill, sell_fill, book_after, adl_event, adl_cp, adl_qty, adl_total, unfilled = (
            _market_policy(book, pos, side, clip, bk, ranked, cfg, settle, fund0)
        )
        fee, surplus, deficit = settle(f2, n2)

    fund_raw = fund0 + (float(surplus.sum()) if to_fund else 0.0) - float(deficit.sum())
    fund_raw += float(fee.sum()) if fee_to_fund else 0.0
    if fund_raw >= 0 or float(deficit.sum()) <= 0:
        bad = np.zeros_like(deficit)
        fund_after = max(fund_raw, 0.0)
    else:
        bad = deficit * min(1.0, -fund_raw / float(deficit.sum()))
        fund_after = 0.0
    ins_delta = (surplus if to_fund else 0.0) - (deficit - bad)
    credit = np.zeros_like(surplus) if to_fund else surplus

    closed = f2 + adl_total + q_take + q_back
    unfilled = np.where(unfilled <= _SNAP * clip, 0.0, unfilled)
    size_left = np.where(clip == size, unfilled, size - closed)
    size_left = np.where(size_left <= _SNAP * size, 0.0, size_left)
    margin_released = margin * closed / size

    remaining_size = pos.size.copy()
    remaining_margin = pos.margin.copy()
    remaining_size[idx] = size_left
    remaining_margin[idx] = np.where(size_left > 0, margin - margin_released + credit, 0.0)

    adl = _adl_events(pos, idx, adl_price_ev, adl_event, adl_cp, adl_qty)
    if adl.n:
        cp_taken = np.bincount(adl.counterparty, weights=adl.qty, minlength=n)
        touched = cp_taken > 0
        left = pos.size - cp_taken
        left = np.where(left <= _SNAP * pos.size, 0.0, left)
        remaining_size = np.where(touched, left, remaining_size)
        remaining_margin = np.where(touched, pos.margin * left / pos.size, remaining_margin)
    remaining_margin = np.where(remaining_size > 0, remaining_margin, 0.0)
    active = remaining_size > 0
    active_index = np.flatnonzero(active).astype(np.int64)
    positions_after = Positions(
        side=pos.side[active],
        size=remaining_size[active],
        entry_price=pos.entry_price[active],
        margin=remaining_margin[active],
    )
    events = LiquidationEvents(
        index=idx,
        side=side,
        size=size,
        clip=clip,
        partial=partial,
        qty_filled=f2,
        qty_adl=adl_total,
        qty_unfilled=unfilled,
        mark=np.full(idx.size, mark),
        entry_price=entry,
        liquidation_price=lp,
        bankruptcy_price=bk,
        fill_vwap=np.where(f2 > 0, n2 / np.where(f2 > 0, f2, 1.0), 0.0),
        fill_notional=n2,
        fee=fee,
        insurance_delta=ins_delta,
        bad_debt=bad,
        trader_credit=credit,
        margin_released=margin_released,
        qty_takeover=q_take,
        qty_backstop=q_back,
        adl_price=np.where(adl_total > 0, adl_price_ev, bk),
    )
    return LiquidationResult(
        events=events,
        adl=adl,
        positions_after=positions_after,
        active_index=active_index,
        remaining_size=remaining_size,
        remaining_margin=remaining_margin,
        active=active,
        book_after=book_after,
        buy_fill=buy_fill,
        sell_fill=sell_fill,
        insurance_fund_before=fund0,
        insurance_fund_after=float(fund_after),
        mark_price=mark,
        config=cfg,
        oracle_price=oracle,
    )


def _market_policy(
    book: OrderBook,
    pos: Positions,
    side: npt.NDArray[np.int8],
    clip: FloatArray,
    bk: FloatArray,
    ranked: dict[int, IntArray],
    cfg: LiquidationConfig,
    settle: Any,
    fund0: float,
) -> tuple[Any, ...]:
    """Unlimited market orders; ADL for the dry tail and for what the fund cannot pay.

    The module docstring's "ADL (minimal quantity)" and "Book runs dry" rules.
    """
    to_fund = cfg.surplus_to == "insurance_fund"
    fee_to_fund = cfg.fee_to == "insurance_fund"

    def fund_if_walked(g: FloatArray) -> FloatArray:
        # fund after the book order g (rows: candidate orders, columns: events) and no more
        fee, surplus, deficit = settle(g, _slice_usd_both(book, side, g))
        out = fund0 + (surplus.sum(axis=-1) if to_fund else 0.0) - deficit.sum(axis=-1)
        return out + (fee.sum(axis=-1) if fee_to_fund else 0.0)

    # Pass 1: everything to the book, to find the bankrupt positions and the dry tails.
    f1, n1, *_ = _walk_both(book, side, clip)
    _, _, deficit1 = settle(f1, n1)
    dry = clip - f1
    want_dry = dry if cfg.adl else np.zeros_like(f1)

    # ADL for deficits: the smallest x the fund cannot do without (module docstring).
    want_def = np.zeros_like(f1)
    if cfg.adl and clip.size and float(fund_if_walked(f1[None, :])[0]) < 0.0:
        cap = np.where(deficit1 > 0, f1, 0.0)
        for liq_side, queue in ranked.items():
            sel = side == liq_side
            room = float(pos.size[queue].sum()) - float(want_dry[sel].sum())
            cap[sel] = _cap_cumulative(cap[sel], max(room, 0.0))
        x = min_adl_quantity(
            lambda xs: fund_if_walked(adl_book_orders(f1, cap, xs)), float(cap.sum()), clip.size
        )
        want_def = f1 - adl_book_orders(f1, cap, np.array([x]))[0]

    # ADL: serve each liquidated side from the opposite side's ranking.
    want = want_dry + want_def
    adl_event, adl_cp, adl_qty = _adl_all(ranked, pos, side, want, cfg.adl_ranking)
    matched = np.bincount(adl_event, weights=adl_qty, minlength=clip.size)
    matched = _snap_to(np.minimum(matched, want), want)
    m_dry = np.minimum(matched, want_dry)  # the dry tail has no other way out: served first
    m_def = _snap_to(matched - m_dry, want_def)

    # Pass 2: the book gets what ADL did not take; the walk only gets shorter.
    g = np.maximum(f1 - m_def, 0.0)
    f2, n2, buy_fill, sell_fill, book_after = _walk_both(book, side, g)
    # dry tail ADL could not take, plus any dust the second walk could not fill
    unfilled = np.maximum(dry - m_dry, 0.0) + np.maximum(g - f2, 0.0)
    return (
        f2,
        n2,
        buy_fill,
        sell_fill,
        book_after,
        adl_event,
        adl_cp,
        adl_qty,
        m_dry + m_def,
        unfilled,
    )


def _limited_fills(
    book: OrderBook, sides: npt.NDArray[np.int8], clip: FloatArray, limit: FloatArray
) -> FloatArray:
    """Coins each IOC order limited at ``limit`` gets, orders of a side sent in event order.

    Earlier orders of a side have taken the best ``F`` coins; order k can take the coins
    priced at or better than its limit that are left: ``min(clip_k, max(0, Q(limit_k) - F))``
    with ``Q(p)`` the book's depth up to price p. One pass per side (a recurrence).
    """
    out = np.zeros_like(clip)
    for pos_side in (-1, 1):
        rows = np.flatnonzero(sides == pos_side)
        if rows.size == 0:
            continue
        order_side = -pos_side
        prices, cum_qty, _ = book.cumulative_depth(order_side)
        cum0 = np.concatenate([[0.0], cum_qty])
        key = prices if order_side > 0 else -prices  # ascending in trading order
        lim = limit[rows] if order_side > 0 else -limit[rows]
        depth = cum0[np.searchsorted(key, lim, side="right")]
        taken = 0.0
        for j, r in enumerate(rows):
            got = min(float(clip[r]), max(0.0, float(depth[j]) - taken))
            out[r] = got
            taken += got
    return out


def _adl_queues(
    pos: Positions, mark: float, hit: npt.NDArray[np.bool_], cfg: LiquidationConfig
) -> dict[int, IntArray]:
    """For each liquidated side, the opposite side's ADL queue (liquidated positions excluded).

    Ranked by ``cfg.adl_ranking`` (:func:`perpsbook.adl.adl_ranking`).
    """
    return {
        liq_side: adl_ranking(
            pos, mark, side=-liq_side, exclude=hit, policy=cfg.adl_ranking, venue=cfg.venue
        )[0]
        for liq_side in (-1, 1)
    }


def _adl_all(
    ranked: dict[int, IntArray],
    pos: Positions,
    ev_side: npt.NDArray[np.int8],
    demand: FloatArray,
    policy: str,
) -> tuple[IntArray, IntArray, FloatArray]:
    """ADL trades for both liquidated sides: (event row, counterparty index, coins).

    Queue policies empty each counterparty before the next; ``"pro_rata"`` takes the same
    fraction of every counterparty (:func:`perpsbook.adl.queue_capacity`).
    """
    rows, cps, qtys = [], [], []
    for liq_side, queue in ranked.items():
        ev_rows = np.flatnonzero((ev_side == liq_side) & (demand > 0))
        if ev_rows.size == 0 or queue.size == 0:
            continue
        supply = queue_capacity(pos, queue, float(demand[ev_rows].sum()), policy)
        d_row, s_row, q = match_queues(demand[ev_rows], supply)
        rows.append(ev_rows[d_row])
        cps.append(queue[s_row])
        qtys.append(q)
    if not rows:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    row, cp, q = np.concatenate(rows), np.concatenate(cps), np.concatenate(qtys)
    order = np.argsort(row, kind="stable")  # execution order follows the event order
    return row[order], cp[order], q[order]


def _adl_events(
    pos: Positions,
    idx: IntArray,
    price_ev: FloatArray,
    event: IntArray,
    cp: IntArray,
    qty: FloatArray,
) -> AdlEvents:
    price = price_ev[event]
    cp_side = pos.side[cp]
    return AdlEvents(
        event=event,
        index=idx[event],
        counterparty=cp,
        side=cp_side,
        qty=qty,
        price=price,
        realised_pnl=cp_side * qty * (price - pos.entry_price[cp]),
        margin_released=pos.margin[cp] * qty / pos.size[cp],
    )
