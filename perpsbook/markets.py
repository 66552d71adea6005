"""Two books, three prices: the spot index, the perpetual's last price and its mark price.

A venue does not liquidate on the price of the last perp trade. It compares each
position's margin with its maintenance margin at the **mark price**, a smoothed blend of
the **index** (spot prices on several exchanges) and the perp's own book. This module
holds the price rules as pure functions of their inputs, so the two-market engine
(:mod:`perpsbook.twomarket`) and a reader's notebook compute them the same way.

Prices
------
* **index** -- :func:`index_price`: a weighted mean (Binance) or weighted median
  (Hyperliquid's oracle) of spot prices on several books. With one spot book it is that
  book's last traded price.
* **last** -- the perp book's last traded price.
* **mark** -- :func:`mark_price`, by a rule of :data:`MARK_RULES`:

  ``"last"``
      mark = last perp price (the one-ladder model's rule; no venue uses it for
      liquidations).
  ``"index"``
      mark = index (an oracle-only mark: the squeeze in the perp book cannot trigger
      anything until spot moves).
  ``"binance"``
      Binance USDⓈ-M perpetuals [B-MARK]::

          Price 1 = index * (1 + last funding rate * time to next funding / interval)
          Price 2 = index + moving average of (perp mid - index)      (the "MA basis")
          mark    = median(Price 1, Price 2, last perp price)

  ``"hyperliquid"``
      Hyperliquid perps [H-MARK]::

          C1 = oracle + EMA(perp mid - oracle)          (150-second EMA)
          C2 = median(best bid, best ask, last trade)   (Hyperliquid's own book)
          C3 = median of the external CEX perp mids     (Binance, OKX, Bybit, ...)
          mark = median(C1, C2, C3)

      The external perps are an *input* here (``external_perp``): in a one-venue model
      nothing sets them. When it is None the docs' rule for a missing component is
      used: "if only two of the three exist, a 30-second EMA of Hyperliquid's
      median(bid, ask, last) is added" -- carried as ``book_ema``.

Averages across stages
----------------------
Venues average the basis over wall-clock time (Binance: a moving average over five
minutes; Hyperliquid: a 150-second EMA). A stage of the cascade has no fixed duration, so
both averages are carried as one exponential average per stage, O(1) memory:
``avg <- (1 - w) * avg + w * sample`` with ``w = basis_weight`` in (0, 1]. ``w = 1``
is no smoothing (the mark follows the mid at once); small ``w`` is a mark that lags the
perp book by about ``1 / w`` stages. The averages start at 0 basis (the cascade starts
from a quiet market where the perp trades at the index). The Hyperliquid book EMA starts
at the book's median before the first stage.

Sources of the price rules
--------------------------
[B-MARK] Binance, "What Are Mark Price and Price Index in USDⓈ-M Margined Futures?"
    (FAQ 360033525071), https://www.binance.com/en/support/faq/360033525071 (stored copy
    read 2026-12-05): the price index is a weighted average of the spot prices on several
    exchanges ("Sum of (Weight Percent of Exchange A * The Symbol's Spot Price on Exchange
    A + ...)"); the mark price is built from the contract's last price, the bid1/ask1
    series, the funding rate and the index. The formula itself, mark = median(Price 1,
    Price 2, last/contract price) with Price 1 = index x (1 + last funding rate x time
    until funding / interval) and Price 2 = index + moving average of
    ((bid1 + ask1)/2 - index), is spelled out on Binance's COIN-margined page (FAQ
    fff6ec1b3f5845d19f1fb924644a0877, same date: "if Price 1 < Price 2 < contract
    price, take Price 2"; a 2.5-minute window there) and, for USDⓈ-M with a 5-minute
    window, on the earlier version of the USDⓈ-M page as quoted by exchanges that copy
    it (e.g. docs.ebi.xyz "Mark price calculation"). We use that formula; the averaging
    window becomes the per-stage weight (Averages across stages, above).
[H-MARK] Hyperliquid Docs, "Robust price indices" and "Oracle"
    (https://hyperliquid.gitbook.io/hyperliquid-docs/trading/robust-price-indices,
    https://hyperliquid.gitbook.io/hyperliquid-docs/hypercore/oracle, as stored on
    2026-12-05; summary with a worked example at
    https://hyperliquid-co.gitbook.io/wiki/architecture/hypercore/dex/oracle): the oracle
    is a weighted median of spot mids on Binance (3), OKX (2), Bybit (2), Kraken, Kucoin,
    Gate IO, MEXC, Hyperliquid (1 each); the mark is the median of oracle + 150 s EMA of
    (mid - oracle), median(best bid, best ask, last trade) and the median of CEX perp mids
    (Binance 3, OKX 2, Bybit 2, Gate IO 1, MEXC 1); with only two components a 30-second
    EMA of the book median is added. The mark drives margining and liquidations.

Units: prices USD per coin; weights dimensionless; funding rate a fraction per interval.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from perpsbook.book import OrderBook
from perpsbook.errors import (
    InvalidInputError,
    check_finite,
    check_nonnegative,
    check_positive,
    check_real,
)

__all__ = [
    "INDEX_METHODS",
    "MARK_RULES",
    "MarkRule",
    "MarkState",
    "binance_mark",
    "book_quotes",
    "hyperliquid_mark",
    "index_price",
    "mark_price",
    "median3",
]

MARK_RULES = ("last", "index", "binance", "hyperliquid")
"""Accepted mark-price rules (see the module docstring)."""

INDEX_METHODS = ("mean", "median")
"""How :func:`index_price` combines several spot prices: Binance's weighted mean or
Hyperliquid's weighted median."""


def _scalar(name: str, value: Any, check: Any = check_finite) -> float:
    return check_real(name, value, check)


def median3(a: float, b: float, c: float) -> float:
    """The median of three prices (one of them, exactly), USD per coin.

    Raises
    ------
    InvalidInputError
        An argument that is not a finite real number (named ``a``, ``b`` or ``c``).
    """
    a, b, c = _scalar("a", a), _scalar("b", b), _scalar("c", c)
    # exactly one of the three (no arithmetic, so no rounding)
    return max(min(a, b), min(max(a, b), c))


def index_price(prices: Any, weights: Any = None, method: str = "mean") -> float:
    """The index (oracle) price from spot prices on several books.

    Parameters
    ----------
    prices : float or array_like, shape (M,)
        Spot prices, USD per coin, finite and > 0.
    weights : array_like, shape (M,), optional
        Non-negative weights, at least one > 0 (default equal). Binance publishes
        percentage weights per exchange; Hyperliquid integer weights (3, 2, 2, 1, ...).
    method : {"mean", "median"}
        ``"mean"``: weighted average (Binance's price index [B-MARK]); ``"median"``:
        weighted median, the smallest price at which the cumulative weight reaches half
        the total (Hyperliquid's oracle [H-MARK]).

    Returns
    -------
    float
        USD per coin.

    Raises
    ------
    InvalidInputError
        Empty or non-positive prices, bad weights (shape, sign, all zero), unknown method.
    """
    p = np.atleast_1d(check_positive("prices", prices)).astype(np.float64)
    if p.ndim != 1 or p.size == 0:
        raise InvalidInputError(f"prices must be a non-empty 1-D array, got shape {p.shape}")
    if weights is None:
        w = np.ones_like(p)
    else:
        w = np.atleast_1d(check_nonnegative("weights", weights)).astype(np.float64)
        if w.shape != p.shape:
            raise InvalidInputError(
                f"weights has shape {w.shape} but prices has {p.shape}; give one weight per price"
            )
        if not w.sum() > 0:
            raise InvalidInputError(f"weights must not all be 0, got {weights!r}")
    if method not in INDEX_METHODS:
        raise InvalidInputError(f"method must be one of {INDEX_METHODS}, got {method!r}")
    if method == "mean":
        return float(np.dot(p, w) / w.sum())
    order = np.argsort(p, kind="stable")
    cum = np.cumsum(w[order])
    return float(p[order][np.searchsorted(cum, 0.5 * cum[-1], side="left")])


def book_quotes(book: OrderBook, last: float) -> tuple[float, float, float]:
    """(best bid, best ask, mid) of a book, USD per coin, with ``last`` standing in for a side.

    A cascade can empty one side of a book. Then the missing quote is replaced by the
    last traded price ``last`` (USD per coin), so the mid and the book median stay
    defined; a venue would do the same by dropping the stale component [H-MARK].
    """
    if not isinstance(book, OrderBook):
        raise InvalidInputError(f"book must be an OrderBook, got {type(book).__name__}")
    lp = _scalar("last", last, check_positive)
    bid = float(book.bid_prices[0]) if book.bid_prices.size else lp
    ask = float(book.ask_prices[0]) if book.ask_prices.size else lp
    return bid, ask, 0.5 * (bid + ask)


def binance_mark(
    index: float,
    last: float,
    basis_average: float,
    funding_rate: float = 0.0,
    time_to_funding: float = 1.0,
) -> float:
    """Binance's USDⓈ-M mark price [B-MARK]: ``median(Price 1, Price 2, last)``.

    Parameters
    ----------
    index : float
        Price index, USD per coin, > 0.
    last : float
        Last perp price, USD per coin, > 0.
    basis_average : float
        Moving average of ``perp mid - index``, USD per coin (any sign).
    funding_rate : float
        Last funding rate, fraction per interval.
    time_to_funding : float
        Time to the next funding as a fraction of the interval, in [0, 1].

    Returns
    -------
    float
        USD per coin.

    Examples
    --------
    Index 100, funding 0.01 % with half the interval to go, basis MA +0.50, last 101:
    Price 1 = 100.005, Price 2 = 100.5, so the mark is 100.5.

    >>> binance_mark(100.0, 101.0, 0.5, 0.0001, 0.5)
    100.5
    """
    i = _scalar("index", index, check_positive)
    lp = _scalar("last", last, check_positive)
    b = _scalar("basis_average", basis_average)
    f = _scalar("funding_rate", funding_rate)
    t = _scalar("time_to_funding", time_to_funding)
    if not 0.0 <= t <= 1.0:
        raise InvalidInputError(f"time_to_funding must lie in [0, 1], got {time_to_funding!r}")
    return median3(i * (1.0 + f * t), i + b, lp)


def hyperliquid_mark(
    oracle: float,
    basis_ema: float,
    best_bid: float,
    best_ask: float,
    last: float,
    external: float | None = None,
    book_ema: float | None = None,
) -> float:
    """Hyperliquid's mark price [H-MARK]: median of three components.

    Parameters
    ----------
    oracle : float
        Oracle (index) price, USD per coin, > 0.
    basis_ema : float
        EMA of ``perp mid - oracle``, USD per coin.
    best_bid, best_ask, last : float
        Hyperliquid's book: best bid, best ask, last trade, USD per coin, > 0.
    external : float, optional
        Median of the external CEX perp mids, USD per coin. If None, the third component
        is ``book_ema`` (the docs' rule when only two components exist).
    book_ema : float, optional
        EMA of ``median(bid, ask, last)``, USD per coin; required when ``external`` is None.

    Returns
    -------
    float
        USD per coin.

    Examples
    --------
    The docs' worked example: oracle 10,000, EMA of (mid - oracle) +20, book median
    10,010, external perps 10,015: the mark is 10,015.

    >>> hyperliquid_mark(10_000.0, 20.0, 10_005.0, 10_015.0, 10_010.0, external=10_015.0)
    10015.0
    """
    o = _scalar("oracle", oracle, check_positive)
    c1 = o + _scalar("basis_ema", basis_ema)
    c2 = median3(
        _scalar("best_bid", best_bid, check_positive),
        _scalar("best_ask", best_ask, check_positive),
        _scalar("last", last, check_positive),
    )
    if external is not None:
        c3 = _scalar("external", external, check_positive)
    elif book_ema is not None:
        c3 = _scalar("book_ema", book_ema, check_positive)
    else:
        raise InvalidInputError("give external (CEX perp median) or book_ema, got neither")
    return median3(c1, c2, c3)


@dataclass(frozen=True)
class MarkRule:
    """How the mark price is formed, stage by stage.

    Parameters
    ----------
    name : {"last", "index", "binance", "hyperliquid"}
        The rule (module docstring).
    basis_weight : float, default 0.5
        Weight ``w`` of the newest sample in the per-stage exponential averages of the
        basis (Binance's MA, Hyperliquid's 150 s EMA) and of Hyperliquid's book median,
        in (0, 1].
    external_perp : float or "index", optional
        Hyperliquid only: the external CEX perp median, USD per coin, held fixed;
        ``"index"``: the external perps trade at the index (arbitraged there: the
        squeeze is on this venue only); None: use the book-median EMA instead (the docs'
        rule for a missing component, see the module docstring).
    time_to_funding : float, default 1.0
        Binance only: time to the next funding as a fraction of the interval, in [0, 1],
        used in Price 1 (1.0: funding was just paid; 0: about to be).

    Raises
    ------
    InvalidInputError
        Unknown rule or a parameter out of range (the message names it).
    """

    name: str = "last"
    basis_weight: float = 0.5
    external_perp: float | str | None = None
    time_to_funding: float = 1.0

    def __post_init__(self) -> None:
        if self.name not in MARK_RULES:
            raise InvalidInputError(f"mark rule must be one of {MARK_RULES}, got {self.name!r}")
        w = _scalar("basis_weight", self.basis_weight)
        if not 0.0 < w <= 1.0:
            raise InvalidInputError(f"basis_weight must lie in (0, 1], got {self.basis_weight!r}")
        object.__setattr__(self, "basis_weight", w)
        if self.external_perp is not None and not (
            isinstance(self.external_perp, str) and self.external_perp == "index"
        ):
            ext = _scalar("external_perp", self.external_perp, check_positive)
            object.__setattr__(self, "external_perp", ext)
        t = _scalar("time_to_funding", self.time_to_funding)
        if not 0.0 <= t <= 1.0:
            raise InvalidInputError(
                f"time_to_funding must lie in [0, 1], got {self.time_to_funding!r}"
            )
        object.__setattr__(self, "time_to_funding", t)

    def initial_state(self, perp_book: OrderBook, perp_last: float) -> MarkState:
        """The averages before the first stage: zero basis, book EMA at the book median."""
        bid, ask, _ = book_quotes(perp_book, perp_last)
        return MarkState(basis_average=0.0, book_average=median3(bid, ask, perp_last))

    def update(
        self,
        state: MarkState,
        *,
        index: float,
        perp_book: OrderBook,
        perp_last: float,
        funding_rate: float = 0.0,
    ) -> tuple[float, MarkState]:
        """Fold one stage's sample into the averages and return ``(mark, new_state)``.

        Parameters
        ----------
        state : MarkState
        index : float
            Index price at the end of the stage, USD per coin.
        perp_book : OrderBook
            Perp book at the end of the stage.
        perp_last : float
            Last perp price, USD per coin.
        funding_rate : float
            Last funding rate, fraction per interval (Binance's Price 1).

        Returns
        -------
        (float, MarkState)
            Mark price (USD per coin) and the updated averages.
        """
        if not isinstance(state, MarkState):
            raise InvalidInputError(f"state must be a MarkState, got {type(state).__name__}")
        i = _scalar("index", index, check_positive)
        bid, ask, mid = book_quotes(perp_book, perp_last)
        w = self.basis_weight
        basis = (1.0 - w) * state.basis_average + w * (mid - i)
        book_avg = (1.0 - w) * state.book_average + w * median3(bid, ask, perp_last)
        new = replace(state, basis_average=basis, book_average=book_avg)
        return mark_price(
            self, index=i, last=perp_last, best_bid=bid, best_ask=ask, state=new,
            funding_rate=funding_rate,
        ), new  # fmt: skip


@dataclass(frozen=True)
class MarkState:
    """The running averages behind a mark price (O(1) memory).

    Attributes
    ----------
    basis_average : float
        Per-stage exponential average of ``perp mid - index``, USD per coin.
    book_average : float
        Per-stage exponential average of ``median(bid, ask, last)``, USD per coin.
    """

    basis_average: float = 0.0
    book_average: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "basis_average", _scalar("basis_average", self.basis_average))
        object.__setattr__(self, "book_average", _scalar("book_average", self.book_average))


def mark_price(
    rule: MarkRule | str,
    *,
    index: float,
    last: float,
    best_bid: float | None = None,
    best_ask: float | None = None,
    state: MarkState | None = None,
    funding_rate: float = 0.0,
) -> float:
    """The mark price by ``rule`` from today's prices and the running averages.

    Parameters
    ----------
    rule : MarkRule or str
        A :class:`MarkRule` or one of :data:`MARK_RULES`.
    index : float
        Index (oracle) price, USD per coin.
    last : float
        Last perp price, USD per coin.
    best_bid, best_ask : float, optional
        Perp book quotes, USD per coin (Hyperliquid; default ``last``).
    state : MarkState, optional
        Averages (default: zero basis, book average = ``last``).
    funding_rate : float
        Last funding rate, fraction per interval (Binance).

    Returns
    -------
    float
        USD per coin.
    """
    r = MarkRule(rule) if isinstance(rule, str) else rule
    if not isinstance(r, MarkRule):
        raise InvalidInputError(f"rule must be a MarkRule or a name, got {type(rule).__name__}")
    i = _scalar("index", index, check_positive)
    lp = _scalar("last", last, check_positive)
    st = MarkState(0.0, lp) if state is None else state
    if not isinstance(st, MarkState):
        raise InvalidInputError(
            f"state must be a perpsbook.markets.MarkState or None, got {type(state).__name__}"
        )
    if r.name == "last":
        return lp
    if r.name == "index":
        return i
    if r.name == "binance":
        return binance_mark(i, lp, st.basis_average, funding_rate, r.time_to_funding)
    bid = lp if best_bid is None else best_bid
    ask = lp if best_ask is None else best_ask
    ext = i if r.external_perp == "index" else r.external_perp
    return hyperliquid_mark(i, st.basis_average, bid, ask, lp, ext, st.book_average)
