"""Who paid whom: a cascade's ledger grouped by role and marked to a stated price.

A cascade's ledger (:mod:`perpsbook.ledger`) records every trade and transfer, and each
instrument's balances sum to zero across accounts. This module turns it into the
question the source article ends on -- who funds whom -- in three steps:

1. **Openings.** The engines record the cascade's flows only: the liquidated shorts (and
   their counterparties, the longs) opened their positions before it. :func:`with_openings`
   prepends those opening trades at their entry prices, so that a trader's row is the
   whole P&L of the position, not just what closing it cost.
2. **Roles.** :func:`account_role` maps the engines' account names (one-ladder
   :mod:`perpsbook.cascade` and two-market ``perpsbook.twomarket``) onto the roles of
   :data:`ROLES`: ignitor, liquidated traders, ADL'd traders, the other side, market maker,
   basis arbitrageur, resting orders (the makers on the ladder), insurance fund, backstop
   vault, venue, funding pool.
3. **Marks.** Every role's value is ``cash + spot coins x p_spot + perp contracts x
   p_perp`` (:func:`marked_pnl`): its profit or loss if its coins and contracts are worth
   the stated prices. Because cash, coins and contracts each sum to zero, the values sum
   to zero at ANY pair of marks (:func:`pnl_curves` draws them against the mark); the
   marks only decide who is up and who is down on paper. Cash alone is what has really
   changed hands.

The accounting identity, in one line: for every instrument ``i``,
``sum over accounts of balance[a, i] = 0``, hence
``sum_a (usd_a + spot_a p_s + perp_a p_p) = 0 + 0 p_s + 0 p_p = 0``.

Sources: double-entry bookkeeping as in :mod:`perpsbook.ledger`; the liquidation and
insurance-fund postings as in :mod:`perpsbook.liquidation` (Binance, Bybit and Hyperliquid
documents cited there, read 2026-12-05); the question itself from danny (@agintender),
"Perpetual Futures' Liquidation Algorithm: The Prime Mover of the Altcoin Bull Market",
WuBlockchain, 2025.

Units: USD amounts in USD, quantities in coins, prices USD per coin.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from perpsbook.errors import (
    InvalidInputError,
    check_nonnegative,
    check_positive,
    check_scalar,
)
from perpsbook.ledger import INSTRUMENTS, Ledger, LedgerEntries
from perpsbook.tables import text_table

__all__ = [
    "ENTRY_PRICE",
    "POLICIES",
    "ROLES",
    "ZeroSum",
    "account_role",
    "cascade_zero_sum",
    "marked_pnl",
    "pnl_curves",
    "rocketcoin_zero_sum",
    "roles_table",
    "two_market_zero_sum",
    "unwind_value",
    "with_openings",
    "zero_sum",
]

FloatArray = npt.NDArray[np.float64]

ROLES: tuple[str, ...] = (
    "ignitor",
    "liquidated traders",
    "not liquidated",
    "ADL'd traders",
    "other side",
    "market maker",
    "basis arbitrageur",
    "resting orders",
    "insurance fund",
    "backstop vault",
    "venue",
    "funding pool",
    "opened before",
)
"""Roles in table order. ``not liquidated``: traders on the liquidated side whose
positions survive the cascade (marked at the final price); ``other side``: holders of the
opposite positions (the longs in a rocket) never auto-deleveraged; ``resting orders``: the
passive sellers (buyers in a crash) on the spot ladder; ``venue``: liquidation fees and
bad debt the venue paid; ``opened before``: the counterparty of :func:`with_openings`
(flat when the opened positions balance)."""

_FIXED = {
    "ignitor": "ignitor",
    "market_maker": "market maker",
    "arbitrageur": "basis arbitrageur",
    "makers": "resting orders",
    "spot_makers": "resting orders",
    "perp_book": "resting orders",
    "insurance_fund": "insurance fund",
    "backstop_vault": "backstop vault",
    "venue_fees": "venue",
    "venue": "venue",
    "funding_pool": "funding pool",
    "adl_longs": "ADL'd traders",
    "adl_shorts": "ADL'd traders",
    "other_side": "other side",
    "open_shorts": "not liquidated",
    "open_longs": "not liquidated",
    "opened_before": "opened before",
}

OPENING_MEMO = "opened before the cascade"


def _names(name: str, value: Any) -> list[str]:
    """``value`` (one account name or a sequence of them) as a list of non-empty strings."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, (Mapping, bytes)) or not isinstance(value, Sequence | np.ndarray):
        raise InvalidInputError(
            f"{name} must be an account name or a sequence of them, got {type(value).__name__}"
        )
    out = list(value)
    for a in out:
        if not isinstance(a, str) or not a:
            raise InvalidInputError(f"{name} must hold non-empty strings, got {a!r}")
    return out


def _tol(tol: Any) -> float:
    return check_scalar("tol", tol, check_nonnegative)


def _is_position(name: str) -> bool:
    return name in ("shorts", "longs") or name.startswith(("short:", "long:", "trader:"))


def account_role(account: str, entries: LedgerEntries | None = None) -> str:
    """The role (one of :data:`ROLES`) of a ledger account.

    Position accounts (``shorts``/``longs`` of the one-ladder engine, ``short:<id>`` /
    ``long:<id>`` of the two-market engine) are ``liquidated traders`` if a liquidation
    posting touches them in ``entries``, else ``ADL'd traders`` if an ADL posting does,
    else ``not liquidated`` if they share the liquidated traders' side (prefix), else
    ``other side``. An unknown name is its own role (so nothing is dropped).

    Parameters
    ----------
    account : str
    entries : LedgerEntries, optional
        Needed to classify position accounts (without it they are ``other side``).

    Returns
    -------
    str
    """
    if not isinstance(account, str) or not account:
        raise InvalidInputError(f"account must be a non-empty string, got {account!r}")
    if entries is not None and not isinstance(entries, LedgerEntries):
        raise InvalidInputError(
            f"entries must be a LedgerEntries or None, got {type(entries).__name__}"
        )
    if account in _FIXED:
        return _FIXED[account]
    if not _is_position(account):
        return account
    if entries is None:
        return "other side"
    liq, adl = _touched(entries)
    if account in liq:
        return "liquidated traders"
    if account in adl:
        return "ADL'd traders"
    prefix = account.split(":", 1)[0]
    if ":" in account and any(a.startswith(prefix + ":") for a in liq):
        return "not liquidated"
    return "other side"


def _touched(entries: LedgerEntries) -> tuple[set[str], set[str]]:
    """Accounts touched by liquidation postings and by ADL postings."""
    cache: dict[str, Any] = entries._cache  # type: ignore[attr-defined]
    if "touched" in cache:
        return cache["touched"]
    liq: set[str] = set()
    adl: set[str] = set()
    names = entries.accounts
    for m, s, d in zip(entries.memo, entries.src.tolist(), entries.dst.tolist(), strict=True):
        if "ADL" in m:
            adl.update((names[s], names[d]))
        elif "liquidation" in m or "deficit" in m:
            liq.update((names[s], names[d]))
    cache["touched"] = (liq, adl)
    return liq, adl


def with_openings(
    entries: LedgerEntries,
    accounts: Sequence[str],
    side: npt.ArrayLike,
    size: npt.ArrayLike,
    entry_price: npt.ArrayLike,
    counterparty: str | Sequence[str] = "opened_before",
) -> LedgerEntries:
    """Prepend the opening trades of positions held before the cascade.

    Position ``j`` (``side[j]`` +1 long / -1 short, ``size[j]`` coins, opened at
    ``entry_price[j]`` USD per coin) is recorded as a perp trade between ``accounts[j]``
    and ``counterparty`` at its entry price: a short sells, a long buys. When the longs
    and shorts opened at one price balance, ``counterparty`` ends flat in cash and
    contracts; otherwise it holds the difference, shown, not hidden.

    Parameters
    ----------
    entries : LedgerEntries
        The cascade's ledger.
    accounts : sequence of str
        Ledger account of each position (need not be in ``entries`` yet).
    side : array_like of int
        +1 or -1 per position.
    size : array_like
        Coins, > 0.
    entry_price : array_like
        USD per coin, > 0 (one value or one per position).
    counterparty : str or sequence of str
        Account on the other side of the opening trades (one, or one per position).

    Returns
    -------
    LedgerEntries
        Openings first, then every posting of ``entries`` (account order: ``entries``'s
        accounts first). Still zero-sum per instrument.
    """
    if not isinstance(entries, LedgerEntries):
        raise InvalidInputError(f"entries must be a LedgerEntries, got {type(entries).__name__}")
    names = _names("accounts", accounts)
    n = len(names)
    try:
        sd = np.asarray(side)
    except (TypeError, ValueError):  # ragged nested lists
        sd = np.asarray(None)
    if sd.shape == ():
        sd = np.full(n, sd)
    if (
        sd.shape != (n,)
        or sd.dtype.kind not in "iuf"
        or isinstance(side, (bool, np.bool_))
        or not np.all(np.isin(sd, (-1, 1)))
    ):
        raise InvalidInputError(f"side must be +1 or -1 for each of the {n} accounts, got {side!r}")
    q = _per_account("size", size, n)
    p = _per_account("entry_price", entry_price, n)
    cps = (
        [counterparty] * n
        if isinstance(counterparty, str)
        else _names("counterparty", counterparty)
    )
    if len(cps) != n:
        raise InvalidInputError(f"counterparty must be one name or {n} names, got {len(cps)}")
    led = Ledger(dict.fromkeys((*entries.accounts, *names, *cps)))
    if n:
        own = np.asarray(names, dtype=object)
        other = np.asarray(cps, dtype=object)
        buyers = np.where(sd > 0, own, other)
        sellers = np.where(sd > 0, other, own)
        led.trades(list(buyers), list(sellers), q, p, "perp", OPENING_MEMO)
    opened = led.entries
    off = opened.n_entries
    acc = list(opened.accounts)
    idx = np.asarray([acc.index(a) for a in entries.accounts], dtype=np.int64)
    return LedgerEntries(
        accounts=opened.accounts,
        entry=np.concatenate([opened.entry, entries.entry + off]),
        kind=np.concatenate([opened.kind, entries.kind]),
        src=np.concatenate([opened.src, idx[entries.src] if entries.n_postings else []]),
        dst=np.concatenate([opened.dst, idx[entries.dst] if entries.n_postings else []]),
        instrument=np.concatenate([opened.instrument, entries.instrument]),
        amount=np.concatenate([opened.amount, entries.amount]),
        memo=(*opened.memo, *entries.memo),
    )


def _per_account(name: str, value: Any, n: int) -> np.ndarray:
    """``value`` (> 0) as one float per account: one value, or exactly ``n`` of them."""
    x = np.asarray(check_positive(name, value), dtype=np.float64)
    if x.shape not in ((), (n,), (1,)):
        raise InvalidInputError(
            f"{name} must be one value or one per account ({n}), got shape {x.shape}"
        )
    return np.broadcast_to(x, (n,))


def _mark(name: str, price: Any) -> float:
    x = check_positive(name, price)
    if np.ndim(x):
        raise InvalidInputError(f"{name} must be a single price (USD per coin), got {price!r}")
    return float(x)


def marked_pnl(
    entries: LedgerEntries, spot_price: float, perp_price: float | None = None
) -> dict[str, float]:
    """Every account's P&L with coins marked at ``spot_price`` and contracts at ``perp_price``.

    ``usd + spot x spot_price + perp x perp_price`` (USD), each an exactly rounded sum;
    the values sum to zero up to rounding whatever the prices. Unlike
    :meth:`perpsbook.ledger.LedgerEntries.value` both marks are always given.

    Parameters
    ----------
    entries : LedgerEntries
    spot_price : float
        USD per coin, > 0.
    perp_price : float, optional
        USD per coin, > 0; default ``spot_price`` (one price, as in the one-ladder model).

    Returns
    -------
    dict
        ``{account: USD}`` in account order.
    """
    if not isinstance(entries, LedgerEntries):
        raise InvalidInputError(f"entries must be a LedgerEntries, got {type(entries).__name__}")
    ps = _mark("spot_price", spot_price)
    pp = ps if perp_price is None else _mark("perp_price", perp_price)
    return entries.value({"spot": ps, "perp": pp})


def pnl_curves(
    entries: LedgerEntries, prices: npt.ArrayLike, basis: float = 0.0
) -> tuple[tuple[str, ...], FloatArray]:
    """P&L of every account against the mark, vectorised over a grid of prices.

    Parameters
    ----------
    entries : LedgerEntries
    prices : array_like, shape (P,)
        Spot marks, USD per coin, > 0.
    basis : float
        Perp mark = ``price x (1 + basis)``; default 0 (one price).

    Returns
    -------
    (accounts, values)
        ``values[k, a]`` = account ``a``'s P&L (USD) at ``prices[k]``; every row sums to
        zero up to rounding.
    """
    if not isinstance(entries, LedgerEntries):
        raise InvalidInputError(f"entries must be a LedgerEntries, got {type(entries).__name__}")
    p = np.atleast_1d(np.asarray(check_positive("prices", prices), dtype=np.float64))
    if p.ndim != 1:
        raise InvalidInputError(f"prices must be 1-D, got shape {p.shape}")
    b = check_scalar("basis", basis)
    if b < -1.0:
        raise InvalidInputError(f"basis must be >= -1 (a perp mark >= 0), got {basis!r}")
    mat = entries._balance_matrix()  # (A, 3): USD, spot, perp
    values = mat[:, 0] + np.outer(p, mat[:, 1]) + np.outer(p * (1.0 + b), mat[:, 2])
    return entries.accounts, values


@dataclass(frozen=True, eq=False)
class ZeroSum:
    """A ledger grouped by role and marked to stated prices (see module docstring).

    Attributes
    ----------
    roles : tuple of str
        Roles present (:data:`ROLES` order; an unknown account is its own role, last).
    usd, spot, perp : ndarray, shape (R,)
        Each role's cash (USD), coins and contracts (coins, signed).
    value : ndarray, shape (R,)
        P&L at the marks, USD.
    funding : ndarray, shape (R,)
        Net funding received, USD (already inside ``usd``).
    spot_price, perp_price : float
        The marks, USD per coin.
    entries : LedgerEntries
        The ledger (openings included).
    """

    roles: tuple[str, ...]
    usd: FloatArray
    spot: FloatArray
    perp: FloatArray
    value: FloatArray
    funding: FloatArray
    spot_price: float
    perp_price: float
    entries: LedgerEntries

    def totals(self) -> dict[str, float]:
        """Column sums (exactly rounded): ``usd``, ``spot``, ``perp``, ``value``, ``funding``.

        Each is zero up to rounding: the identity the chapter shows.
        """
        return {
            name: math.fsum(getattr(self, name)) + 0.0
            for name in ("usd", "spot", "perp", "value", "funding")
        }

    def pnl(self) -> dict[str, float]:
        """``{role: P&L in USD}`` at the marks."""
        return {r: float(v) for r, v in zip(self.roles, self.value, strict=True)}

    def winners(self, tol: float = 0.5) -> dict[str, float]:
        """Roles up by more than ``tol`` USD, largest gain first."""
        tol = _tol(tol)
        pairs = sorted(((v, r) for r, v in self.pnl().items() if v > tol), reverse=True)
        return {r: v for v, r in pairs}

    def losers(self, tol: float = 0.5) -> dict[str, float]:
        """Roles down by more than ``tol`` USD, largest loss first."""
        tol = _tol(tol)
        pairs = sorted((v, r) for r, v in self.pnl().items() if v < -tol)
        return {r: v for v, r in pairs}

    def gross(self) -> float:
        """Sum of the gains, USD: the money the losers fund (= minus the sum of losses)."""
        return math.fsum(v for v in self.value if v > 0)

    def table(self, title: str | None = None) -> str:
        """The ledger by role with a total row: cash, coins, contracts, P&L at the marks.

        The ``opened before`` row is left out when it is flat (it always counts in TOTAL).
        """
        if title is not None and not isinstance(title, str):
            raise InvalidInputError(f"title must be a string or None, got {type(title).__name__}")
        rows: list[list[Any]] = [
            [r, u, s, c, v]
            for r, u, s, c, v in zip(
                self.roles, self.usd, self.spot, self.perp, self.value, strict=True
            )
            # the openings' counterparty is shown only when it is not flat
            if r != "opened before" or max(abs(u), abs(s), abs(c), abs(v)) > 1e-6
        ]
        t = self.totals()
        rows.append(["TOTAL", t["usd"], t["spot"], t["perp"], t["value"]])
        cols = ["role", "cash (USD)", "spot (coins)", "perp (coins)", "P&L (USD)"]

        def num(x: float) -> str:
            s = f"{x:,.0f}"
            return "0" if s in ("-0", "0") else s

        head = f"marked at spot {self.spot_price:,.2f}, perp {self.perp_price:,.2f} USD per coin"
        return text_table(
            rows,
            cols,
            [str, num, num, num, num],
            title=head if title is None else f"{title}\n{head}",
            rule="columns",
        )


def zero_sum(
    entries: LedgerEntries,
    spot_price: float,
    perp_price: float | None = None,
    *,
    roles: Mapping[str, str] | None = None,
) -> ZeroSum:
    """Group ``entries`` by role (:func:`account_role`) and mark it to the given prices.

    Parameters
    ----------
    entries : LedgerEntries
    spot_price : float
        USD per coin, > 0.
    perp_price : float, optional
        USD per coin, > 0; default ``spot_price``.
    roles : mapping account -> role, optional
        Overrides :func:`account_role` for some accounts.

    Returns
    -------
    ZeroSum
    """
    values = marked_pnl(entries, spot_price, perp_price)
    ps = float(spot_price)
    pp = ps if perp_price is None else float(perp_price)
    if roles is not None and not isinstance(roles, Mapping):
        raise InvalidInputError(
            f"roles must be a mapping account -> role or None, got {type(roles).__name__}"
        )
    over = {} if roles is None else dict(roles)
    for k, v in over.items():
        if not isinstance(k, str) or not isinstance(v, str) or not v:
            raise InvalidInputError(
                f"roles must map account names to non-empty role names, got {k!r}: {v!r}"
            )
    role_of = [over.get(a) or account_role(a, entries) for a in entries.accounts]
    extra = [r for r in dict.fromkeys(role_of) if r not in ROLES]
    present = [r for r in ROLES if r in role_of] + extra
    mat = entries._balance_matrix()
    is_fund = np.asarray(["funding" in m for m in entries.memo], dtype=bool)
    fund_in = np.zeros(len(entries.accounts))
    if is_fund.any():
        usd = entries.instrument == INSTRUMENTS.index("USD")
        sel = is_fund & usd
        np.add.at(fund_in, entries.dst[sel], entries.amount[sel])
        np.subtract.at(fund_in, entries.src[sel], entries.amount[sel])
    cols: dict[str, list[float]] = {k: [] for k in ("usd", "spot", "perp", "value", "fund")}
    for r in present:
        members = [a for a, ra in enumerate(role_of) if ra == r]
        cols["usd"].append(math.fsum(mat[members, 0]))
        cols["spot"].append(math.fsum(mat[members, 1]))
        cols["perp"].append(math.fsum(mat[members, 2]))
        cols["value"].append(math.fsum(values[entries.accounts[a]] for a in members))
        cols["fund"].append(math.fsum(fund_in[members]))
    arr = {k: np.asarray(v, dtype=np.float64) + 0.0 for k, v in cols.items()}
    return ZeroSum(
        roles=tuple(present),
        usd=arr["usd"],
        spot=arr["spot"],
        perp=arr["perp"],
        value=arr["value"],
        funding=arr["fund"],
        spot_price=ps,
        perp_price=pp,
        entries=entries,
    )


def cascade_zero_sum(
    result: Any, entry_price: float, *, spot_price: float | None = None
) -> ZeroSum:
    """The whole-game ledger of a one-ladder cascade (:class:`perpsbook.cascade.CascadeResult`).

    Every tranche (``result.tranches.size`` coins in all) is opened at ``entry_price``
    against the longs who hold the other side of the same contracts: the coins later
    auto-deleveraged against the ADL account, the rest against ``other_side``; the
    tranches the cascade never reached are held by ``open_shorts`` (``open_longs`` in a
    crash, role ``not liquidated``). So every row is a whole P&L; then every role is marked at
    ``spot_price`` (default the final price) -- one price for spot and perp, as the
    one-ladder model has.

    Parameters
    ----------
    result : CascadeResult
    entry_price : float
        USD per coin, > 0, where the liquidated positions were opened.
    spot_price : float, optional
        The mark, USD per coin; default ``result.final_price``.

    Returns
    -------
    ZeroSum
    """
    from perpsbook.cascade import CascadeResult

    if not isinstance(result, CascadeResult):
        raise InvalidInputError(f"result must be a CascadeResult, got {type(result).__name__}")
    entry_price = _mark("entry_price", entry_price)
    side = result.tranches.side
    trader, adl = ("shorts", "adl_longs") if side == -1 else ("longs", "adl_shorts")
    # The ADL'd traders held part of the other side: their share of the opening is theirs.
    adl_qty = abs(result.ledger.balance(adl, "perp"))
    total = result.tranches.total_size
    done = result.tranches.size_between(0, result.n_liquidated)
    # (account, coins, counterparty): the liquidated and the surviving positions, the
    # other side split into the part later auto-deleveraged and the rest.
    legs = [
        (trader, done - min(adl_qty, done), "other_side"),
        (trader, min(adl_qty, done), adl),
        (f"open_{trader}", total - done, "other_side"),
    ]
    legs = [leg for leg in legs if leg[1] > 0]
    if legs:
        entries = with_openings(
            result.ledger,
            [a for a, _, _ in legs],
            side,
            [q for _, q, _ in legs],
            entry_price,
            counterparty=[c for _, _, c in legs],
        )
    else:  # pragma: no cover - tranches always hold coins
        entries = result.ledger
    p = result.final_price if spot_price is None else spot_price
    return zero_sum(entries, p)


def two_market_zero_sum(
    result: Any,
    positions: Any,
    *,
    spot_price: float | None = None,
    perp_price: float | None = None,
) -> ZeroSum:
    """The whole-game ledger of a two-market cascade (``perpsbook.twomarket``).

    Every position of ``positions`` (:class:`perpsbook.positions.Positions`, the
    population the cascade ran on; position ``i`` is account ``short:i`` or ``long:i``)
    is opened at its entry price; coins are marked at ``spot_price`` (default the final
    spot price) and contracts at ``perp_price`` (default the final mark price).

    Parameters
    ----------
    result : TwoMarketResult
        Anything with ``ledger``, ``final_spot`` and ``final_mark``.
    positions : Positions
    spot_price, perp_price : float, optional
        USD per coin.

    Returns
    -------
    ZeroSum
    """
    from perpsbook.positions import Positions

    if not isinstance(positions, Positions):
        raise InvalidInputError(
            f"positions must be a perpsbook.positions.Positions, got {type(positions).__name__}"
        )
    ledger = getattr(result, "ledger", None)
    if not isinstance(ledger, LedgerEntries):
        raise InvalidInputError(
            f"result must be a two-market result with a ledger, got {type(result).__name__}"
        )
    side = np.asarray(positions.side)
    names = [f"{'long' if s > 0 else 'short'}:{i}" for i, s in enumerate(side.tolist())]
    entries = with_openings(ledger, names, side, positions.size, positions.entry_price)
    ps = float(result.final_spot) if spot_price is None else spot_price
    pp = float(result.final_mark) if perp_price is None else perp_price
    return zero_sum(entries, ps, pp)


def unwind_value(book: Any, qty: float, side: int = -1) -> tuple[float, float]:
    """What closing ``qty`` coins into ``book`` really pays: a market order, partial allowed.

    The mark-to-market gain of a holder is paper until it trades; selling (``side=-1``)
    into the bids that are left after a cascade is what the ignitor would get.

    Parameters
    ----------
    book : OrderBook
        The book after the cascade.
    qty : float
        Coins, > 0.
    side : {-1, +1}
        -1 sell into the bids (default), +1 buy from the asks.

    Returns
    -------
    (filled_qty, usd)
        Coins filled (less than ``qty`` if that side runs out) and USD received (paid).
    """
    from perpsbook.book import OrderBook

    if not isinstance(book, OrderBook):
        raise InvalidInputError(
            f"book must be a perpsbook.book.OrderBook, got {type(book).__name__}"
        )
    q = check_positive("qty", qty)
    if np.ndim(q):
        raise InvalidInputError(f"qty must be a single number of coins, got {qty!r}")
    if side not in (-1, 1):
        raise InvalidInputError(f"side must be -1 (sell) or +1 (buy), got {side!r}")
    fill = book.market_order(side, float(q), partial=True)
    return float(fill.qty), float(fill.notional)


POLICIES: tuple[str, ...] = ("market", "binance", "bybit", "hyperliquid")
"""Venue liquidation policies compared in the two-market model
(:data:`perpsbook.liquidation.LIQUIDATION_POLICIES`): ``"market"`` is Binance's margin
venue with the plain market-order engine (every liquidated coin walks the book, fees to
the venue), the others each venue's own rules."""

ENTRY_PRICE = 10.0
"""Where RocketCoin's shorts (and their counterparties) opened, USD per coin: the article's
spot price before the ignition (and the two-market scenario's entry)."""


def rocketcoin_zero_sum(
    policy: str | None = None,
    *,
    ignition: float = 200_000.0,
    hedge_ratio: float = 1.0,
    stage_seconds: float | None = None,
    entry_price: float = ENTRY_PRICE,
    **kwargs: Any,
) -> tuple[ZeroSum, Any]:
    """RocketCoin's whole-game ledger by role, in the one-ladder or the two-market model.

    ``policy=None`` runs the article's one-ladder cascade
    (:func:`perpsbook.scenarios.rocketcoin`) and :func:`cascade_zero_sum` (shorts opened at
    ``entry_price``, marked at the final price). A policy of :data:`POLICIES` runs
    ``perpsbook.scenarios.rocketcoin_two_market`` under that venue's liquidation rules and
    :func:`two_market_zero_sum` (coins marked at the final spot price, contracts at the
    final mark); ``stage_seconds`` gives the stages a duration and so turns funding on.

    Parameters
    ----------
    policy : {None, "market", "binance", "bybit", "hyperliquid"}
    ignition : float
        USD of the ignition's spot buy, > 0.
    hedge_ratio : float
        Spot coins the market maker buys per perp coin it sells, in [0, 2].
    stage_seconds : float, optional
        Seconds per stage (two-market only).
    entry_price : float
        One-ladder only: USD per coin.
    **kwargs
        Passed to the scenario function.

    Returns
    -------
    (ZeroSum, result)
        The ledger by role and the engine's result.
    """
    from perpsbook.scenarios import rocketcoin

    if policy is None:
        if stage_seconds is not None:
            raise InvalidInputError(
                "stage_seconds needs the two-market model (give a policy): the one-ladder "
                "model has one price, so no premium and no funding"
            )
        result = rocketcoin(ignition=ignition, hedge_ratio=hedge_ratio, **kwargs).run()
        return cascade_zero_sum(result, entry_price), result
    if not isinstance(policy, str) or policy not in POLICIES:
        raise InvalidInputError(f"policy must be None or one of {POLICIES}, got {policy!r}")
    from perpsbook.liquidation import LiquidationConfig
    from perpsbook.margin import venue_by_name
    from perpsbook.scenarios import rocketcoin_two_market  # type: ignore[attr-defined]

    venue = "binance" if policy == "market" else policy
    cfg = LiquidationConfig(venue=venue_by_name(venue), policy=policy)
    scenario = rocketcoin_two_market(
        venue,
        ignition=ignition,
        hedge_ratio=hedge_ratio,
        stage_seconds=stage_seconds,
        liquidation=cfg,
        **kwargs,
    )
    result = scenario.run()
    return two_market_zero_sum(result, scenario.positions), result


def roles_table(
    ledgers: Mapping[str, ZeroSum],
    column: str = "value",
    *,
    title: str | None = None,
    tol: float = 0.5,
) -> str:
    """One column per ledger, one row per role, and a TOTAL row: the side-by-side check.

    Parameters
    ----------
    ledgers : mapping name -> ZeroSum
        Columns, in mapping order (e.g. one per venue policy or per mark).
    column : {"value", "usd", "funding"}
        What each cell shows: P&L at the ledger's marks, cash, or funding received (USD).
    title : str, optional
    tol : float
        Roles within ``tol`` USD of zero in every column are left out (they still count
        in the total, which is an exactly rounded sum of every role).

    Returns
    -------
    str
        A fixed-width table; the last row is each column's total (zero up to rounding).
    """
    if not isinstance(ledgers, Mapping) or not ledgers:
        raise InvalidInputError("ledgers must be a non-empty mapping name -> ZeroSum")
    tol = _tol(tol)
    if title is not None and not isinstance(title, str):
        raise InvalidInputError(f"title must be a string or None, got {type(title).__name__}")
    if not isinstance(column, str) or column not in ("value", "usd", "funding"):
        raise InvalidInputError(
            f"column must be one of ('value', 'usd', 'funding'), got {column!r}"
        )
    for k, v in ledgers.items():
        if not isinstance(v, ZeroSum):
            raise InvalidInputError(f"ledgers[{k!r}] must be a ZeroSum, got {type(v).__name__}")
    roles: list[str] = []
    for zs in ledgers.values():
        roles += [r for r in zs.roles if r not in roles]
    order = {r: i for i, r in enumerate(ROLES)}
    roles.sort(key=lambda r: order.get(r, len(ROLES)))
    cells = {
        name: dict(zip(zs.roles, getattr(zs, column).tolist(), strict=True))
        for name, zs in ledgers.items()
    }
    rows: list[list[Any]] = []
    for r in roles:
        vals = [cells[name].get(r, 0.0) for name in ledgers]
        if max(abs(v) for v in vals) > tol:
            rows.append([r, *vals])
    rows.append(["TOTAL", *(math.fsum(cells[name].values()) for name in ledgers)])

    def num(x: float) -> str:
        s = f"{x:,.0f}"
        return "0" if s in ("-0", "0") else s

    unit = {"value": "P&L", "usd": "cash", "funding": "funding received"}[column]
    return text_table(
        rows,
        ["role", *ledgers],
        [str, *([num] * len(ledgers))],
        title=f"{unit} by role, USD" if title is None else title,
        rule="columns",
    )
