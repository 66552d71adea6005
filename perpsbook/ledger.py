"""A double-entry ledger: who paid whom, checkably zero-sum.

Every movement is a *posting*: ``amount`` of one instrument leaves account ``src`` and
arrives in account ``dst``. An entry is one or more postings recorded together — a trade
has two (cash buyer -> seller, coins seller -> buyer), a transfer or fee has one. Because
each posting adds to one account exactly what it removes from another, the balances of
every instrument sum to zero across accounts; :meth:`LedgerEntries.imbalance` measures how
far from zero they are after floating-point rounding (balances are summed with
:func:`math.fsum`, so the residual is a few ulps, far below ``1e-9 x`` the USD moved).

Instruments
-----------
``"USD"``
    Cash (USD/USDT).
``"spot"``
    Coins of the underlying.
``"perp"``
    Perpetual contracts in coins, signed: a short account holds a negative balance. A perp
    trade records the notional ``qty x price`` moving from buyer to seller as if it were
    paid in full. No venue moves that cash (margin does the work), but the convention makes
    ``USD + perp x mark`` equal to the account's perp P&L, and once a position is closed its
    net cash equals realised P&L — so losers-fund-winners is read straight off the USD
    column.

All accounts start at zero, so each account's mark-to-market value is its profit or loss,
and the values sum to zero: what one account wins, others lose.

Units: USD amounts in USD, quantities in coins, prices USD per coin.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from perpsbook.errors import InvalidInputError, check_nonnegative, check_positive, readonly

__all__ = ["ENTRY_KINDS", "INSTRUMENTS", "Ledger", "LedgerEntries"]

INSTRUMENTS: tuple[str, ...] = ("USD", "spot", "perp")
"""Instrument names, in column order; a posting stores the index into this tuple."""

ENTRY_KINDS: tuple[str, ...] = ("transfer", "trade", "fee", "reversal")
"""Entry kinds; a posting stores the index into this tuple."""

_USD, _SPOT, _PERP = 0, 1, 2
_TRANSFER, _TRADE, _FEE, _REVERSAL = 0, 1, 2, 3
_TRADABLE = {"spot": _SPOT, "perp": _PERP}


def _instrument_code(instrument: Any, *, tradable: bool = False) -> int:
    allowed = _TRADABLE if tradable else {name: i for i, name in enumerate(INSTRUMENTS)}
    if isinstance(instrument, str) and instrument in allowed:
        return allowed[instrument]
    raise InvalidInputError(f"instrument must be one of {sorted(allowed)}, got {instrument!r}")


def _check_account(name: Any, what: str = "account") -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError(f"{what} must be a non-empty string, got {name!r}")
    return name


def _check_memo(memo: Any) -> str:
    if not isinstance(memo, str):
        raise InvalidInputError(f"memo must be a string, got {memo!r}")
    return memo


def _clean(x: float) -> float:
    """Return ``x`` with negative zero turned into zero (tables never show ``-0.00``)."""
    return x + 0.0


@dataclass(frozen=True, eq=False)
class LedgerEntries:
    """Immutable struct-of-arrays of postings, with the ledger's queries.

    Attributes
    ----------
    accounts : tuple of str
        Account names in first-use order; ``src`` and ``dst`` index into it.
    entry : int64[M]
        Entry number of each posting; the two legs of a trade share one.
    kind : int8[M]
        Index into :data:`ENTRY_KINDS`.
    src, dst : int32[M]
        Paying and receiving account of each posting.
    instrument : int8[M]
        Index into :data:`INSTRUMENTS`.
    amount : float64[M]
        Amount moved, >= 0: USD for cash, coins for ``spot`` and ``perp``.
    memo : tuple of str
        One note per posting.
    """

    accounts: tuple[str, ...]
    entry: npt.NDArray[np.int64]
    kind: npt.NDArray[np.int8]
    src: npt.NDArray[np.int32]
    dst: npt.NDArray[np.int32]
    instrument: npt.NDArray[np.int8]
    amount: npt.NDArray[np.float64]
    memo: tuple[str, ...]

    def __post_init__(self) -> None:
        accounts = tuple(_check_account(a) for a in self.accounts)
        if len(set(accounts)) != len(accounts):
            raise InvalidInputError(f"accounts must be unique, got {accounts!r}")
        object.__setattr__(self, "accounts", accounts)
        arrays = {
            "entry": np.int64,
            "kind": np.int8,
            "src": np.int32,
            "dst": np.int32,
            "instrument": np.int8,
            "amount": np.float64,
        }
        for name, dtype in arrays.items():
            value = getattr(self, name)
            try:
                arr = readonly(value, dtype)
            except (TypeError, ValueError, OverflowError) as exc:
                raise InvalidInputError(
                    f"{name} must be a 1-D numeric array ({np.dtype(dtype).name}), got "
                    f"{type(value).__name__}"
                ) from exc
            if arr.ndim != 1:
                raise InvalidInputError(
                    f"{name} must be a 1-D numeric array, got shape {arr.shape}"
                )
            object.__setattr__(self, name, arr)
        m = self.amount.shape[0]
        for name in arrays:
            if getattr(self, name).shape != (m,):
                raise InvalidInputError(
                    f"{name} must have {m} entries like amount, got {getattr(self, name).shape}"
                )
        memo = tuple(self.memo)
        if len(memo) != m or not all(isinstance(s, str) for s in memo):
            raise InvalidInputError(f"memo must be {m} strings, got {len(memo)} items")
        object.__setattr__(self, "memo", memo)
        check_nonnegative("amount", self.amount)
        n_acc = len(accounts)
        for name in ("src", "dst"):
            codes = getattr(self, name)
            if m and not (codes.min() >= 0 and codes.max() < n_acc):
                raise InvalidInputError(f"{name} must index into accounts (0..{n_acc - 1})")
        if m and not (self.instrument.min() >= 0 and self.instrument.max() < len(INSTRUMENTS)):
            raise InvalidInputError(f"instrument codes must index into {INSTRUMENTS}")
        if m and not (self.kind.min() >= 0 and self.kind.max() < len(ENTRY_KINDS)):
            raise InvalidInputError(f"kind codes must index into {ENTRY_KINDS}")
        if np.any(self.src == self.dst):
            raise InvalidInputError("a posting's src and dst accounts must differ")
        object.__setattr__(self, "_cache", {})

    # ------------------------------------------------------------------ views

    @classmethod
    def empty(cls, accounts: Iterable[str] = ()) -> LedgerEntries:
        """A ledger with no postings (and optionally pre-registered accounts)."""
        return cls(tuple(accounts), [], [], [], [], [], [], ())

    @property
    def n_postings(self) -> int:
        """Number of postings (a trade counts two)."""
        return int(self.amount.shape[0])

    @property
    def n_entries(self) -> int:
        """Number of distinct entries."""
        return int(np.unique(self.entry).shape[0])

    @property
    def src_names(self) -> npt.NDArray[np.str_]:
        """Paying account name of each posting."""
        return np.asarray(self.accounts, dtype=str)[self.src] if self.n_postings else _no_str()

    @property
    def dst_names(self) -> npt.NDArray[np.str_]:
        """Receiving account name of each posting."""
        return np.asarray(self.accounts, dtype=str)[self.dst] if self.n_postings else _no_str()

    @property
    def instrument_names(self) -> npt.NDArray[np.str_]:
        """Instrument name of each posting."""
        return np.asarray(INSTRUMENTS, dtype=str)[self.instrument]

    @property
    def kind_names(self) -> npt.NDArray[np.str_]:
        """Entry kind of each posting."""
        return np.asarray(ENTRY_KINDS, dtype=str)[self.kind]

    # ------------------------------------------------------------------ sums

    def _balance_matrix(self) -> npt.NDArray[np.float64]:
        """(n_accounts, 3) balances, each an exactly rounded sum of its postings."""
        cache: dict[str, Any] = self._cache  # type: ignore[attr-defined]
        if "balances" in cache:
            return cache["balances"]
        n_acc, n_ins = len(self.accounts), len(INSTRUMENTS)
        ins = self.instrument.astype(np.int64)
        keys = np.concatenate([self.dst * n_ins + ins, self.src * n_ins + ins])
        vals = np.concatenate([self.amount, -self.amount])
        order = np.argsort(keys, kind="stable")
        keys, vals = keys[order], vals[order]
        bounds = np.searchsorted(keys, np.arange(n_acc * n_ins + 1))
        flat = np.zeros(n_acc * n_ins)
        # One fsum per (account, instrument) group, never per posting: groups are few.
        for g in np.flatnonzero(np.diff(bounds)):
            flat[g] = math.fsum(vals[bounds[g] : bounds[g + 1]])
        out = flat.reshape(n_acc, n_ins) + 0.0
        out.flags.writeable = False
        cache["balances"] = out
        return out

    def balances(self) -> dict[str, dict[str, float]]:
        """Balance of every account in every instrument.

        Returns
        -------
        dict
            ``{account: {"USD": usd, "spot": coins, "perp": signed contracts}}``, accounts
            in first-use order.
        """
        mat = self._balance_matrix()
        return {
            acc: {ins: float(mat[a, i]) for i, ins in enumerate(INSTRUMENTS)}
            for a, acc in enumerate(self.accounts)
        }

    def balance(self, account: str, instrument: str = "USD") -> float:
        """Balance of one account in one instrument (0 for an account never used)."""
        i = _instrument_code(instrument)
        if account not in self.accounts:
            _check_account(account)
            return 0.0
        return float(self._balance_matrix()[self.accounts.index(account), i])

    def imbalance(self) -> dict[str, float]:
        """Sum over accounts of each instrument's balances: zero up to rounding.

        Returns
        -------
        dict
            ``{instrument: residual}`` in USD / coins. Each posting removes from one account
            exactly what it adds to another, so a non-zero residual is rounding alone (a
            few ulps of the largest balance).
        """
        mat = self._balance_matrix()
        return {ins: _clean(math.fsum(mat[:, i])) for i, ins in enumerate(INSTRUMENTS)}

    def value(self, marks: Mapping[str, float] | None = None) -> dict[str, float]:
        """Mark-to-market value of each account in USD: ``USD + spot x p_spot + perp x p_perp``.

        Since every account starts at zero, this is each account's profit or loss, and the
        values sum to zero (up to rounding).

        Parameters
        ----------
        marks : mapping, optional
            ``{"spot": USD per coin, "perp": USD per coin}``, each > 0. A mark may be left
            out only if no account holds that instrument.

        Returns
        -------
        dict
            ``{account: USD}``.
        """
        marks = {} if marks is None else marks
        if not isinstance(marks, Mapping):
            raise InvalidInputError(f"marks must be a mapping like {{'spot': p}}, got {marks!r}")
        mat = self._balance_matrix()
        prices = np.zeros(len(INSTRUMENTS))
        prices[_USD] = 1.0
        for name, price in marks.items():
            code = _instrument_code(name, tradable=True)
            mark = check_positive(f"marks[{name!r}]", price)
            if np.ndim(mark):
                raise InvalidInputError(f"marks[{name!r}] must be a scalar, got {price!r}")
            prices[code] = mark
        for name, code in _TRADABLE.items():
            if name not in marks and np.any(mat[:, code] != 0):
                raise InvalidInputError(
                    f"marks must include {name!r}: accounts hold {name} balances"
                )
        return {acc: _clean(math.fsum(mat[a] * prices)) for a, acc in enumerate(self.accounts)}

    def total_volume(self, instrument: str | None = None) -> float:
        """Traded notional in USD: the cash leg of every trade entry (reversals excluded).

        Parameters
        ----------
        instrument : {"spot", "perp"}, optional
            Count only trades in this instrument.

        Returns
        -------
        float
            USD.
        """
        is_trade = self.kind == _TRADE
        if instrument is None:
            coin_legs = is_trade & (self.instrument != _USD)
        else:
            coin_legs = is_trade & (self.instrument == _instrument_code(instrument, tradable=True))
        cash_legs = (
            is_trade & (self.instrument == _USD) & np.isin(self.entry, self.entry[coin_legs])
        )
        return math.fsum(self.amount[cash_legs])

    def gross_usd(self) -> float:
        """Every USD amount moved, summed (trades, transfers, fees, reversals); USD.

        The natural scale for :meth:`imbalance`'s USD residual.
        """
        return math.fsum(self.amount[self.instrument == _USD])

    def summary_table(self, marks: Mapping[str, float] | None = None, decimals: int = 2) -> str:
        """Deterministic plain-text table of balances (and values if ``marks`` is given).

        Rows follow account first-use order; the last row is the column total (the
        imbalance, zero up to rounding, so it prints as 0).

        Parameters
        ----------
        marks : mapping, optional
            Marks for a ``value`` column, as in :meth:`value`.
        decimals : int
            Decimal places, 0..12.

        Returns
        -------
        str
        """
        if not isinstance(decimals, (int, np.integer)) or not 0 <= decimals <= 12:
            raise InvalidInputError(f"decimals must be an integer in 0..12, got {decimals!r}")
        mat = self._balance_matrix()
        headers = ["account", *INSTRUMENTS]
        rows = [[acc, *(float(x) for x in mat[a])] for a, acc in enumerate(self.accounts)]
        totals: list[Any] = ["TOTAL", *self.imbalance().values()]
        if marks is not None:
            values = self.value(marks)
            headers.append("value_usd")
            for row, acc in zip(rows, self.accounts, strict=True):
                row.append(values[acc])
            totals.append(math.fsum(values.values()))
        rows.append(totals)

        def fmt(x: Any) -> str:
            if isinstance(x, str):
                return x
            s = f"{x:,.{decimals}f}"
            return s[1:] if s.startswith("-") and float(s[1:].replace(",", "")) == 0 else s

        cells = [[fmt(x) for x in row] for row in rows]
        from perpsbook.tables import text_table

        # no width limit: a ledger with many accounts and a value column may pass 80
        return text_table(cells, headers, rule="columns", max_width=None)


def _no_str() -> npt.NDArray[np.str_]:
    return np.zeros(0, dtype=str)


class Ledger:
    """Append-only double-entry ledger (a mutable accumulator).

    Record with :meth:`transfer`, :meth:`trade` / :meth:`trades`, :meth:`fee` and
    :meth:`reverse`; read with :meth:`balances`, :meth:`imbalance`, :meth:`value`,
    :meth:`summary_table`. :attr:`entries` returns an immutable :class:`LedgerEntries`
    snapshot (struct of arrays); :meth:`from_entries` rebuilds a ledger from one.

    Parameters
    ----------
    accounts : iterable of str, optional
        Accounts to register up front, fixing their row order in tables; others are added
        on first use.

    Examples
    --------
    >>> led = Ledger()
    >>> led.trade("market_maker", "spot_makers", qty=2.0, price=100.0, instrument="spot")
    0
    >>> led.balances()["market_maker"]
    {'USD': -200.0, 'spot': 2.0, 'perp': 0.0}
    """

    def __init__(self, accounts: Iterable[str] = ()) -> None:
        self._accounts: list[str] = []
        self._index: dict[str, int] = {}
        self._entry: list[int] = []
        self._kind: list[int] = []
        self._src: list[int] = []
        self._dst: list[int] = []
        self._instrument: list[int] = []
        self._amount: list[float] = []
        self._memo: list[str] = []
        self._n_entries = 0
        self._snapshot: LedgerEntries | None = None
        if isinstance(accounts, str) or not isinstance(accounts, Iterable):
            raise InvalidInputError(
                f"accounts must be an iterable of account names (str), got "
                f"{type(accounts).__name__}: {accounts!r}"
            )
        for name in accounts:
            self._code(name)

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_entries(cls, entries: LedgerEntries) -> Ledger:
        """A ledger holding the postings of ``entries``, ready for more."""
        if not isinstance(entries, LedgerEntries):
            raise InvalidInputError(
                f"entries must be a LedgerEntries, got {type(entries).__name__}"
            )
        led = cls(entries.accounts)
        led._entry = entries.entry.tolist()
        led._kind = entries.kind.tolist()
        led._src = entries.src.tolist()
        led._dst = entries.dst.tolist()
        led._instrument = entries.instrument.tolist()
        led._amount = entries.amount.tolist()
        led._memo = list(entries.memo)
        led._n_entries = int(entries.entry.max()) + 1 if entries.n_postings else 0
        return led

    def _code(self, name: Any, what: str = "account") -> int:
        _check_account(name, what)
        if name not in self._index:
            self._index[name] = len(self._accounts)
            self._accounts.append(name)
        return self._index[name]

    def _codes(self, names: Any, n: int, what: str) -> npt.NDArray[np.int64]:
        """Account codes for one name or ``n`` names; new names registered in first-use order."""
        if isinstance(names, str):
            return np.full(n, self._code(names, what), dtype=np.int64)
        if not isinstance(names, Iterable):
            raise InvalidInputError(
                f"{what} must be one account name (str) or a sequence of {n} names, got "
                f"{type(names).__name__}: {names!r}"
            )
        listed = list(names)
        arr = np.empty(len(listed), dtype=object)
        arr[:] = listed
        if arr.shape != (n,):
            raise InvalidInputError(f"{what} must be one name or {n} names, got {arr.shape[0]}")
        try:
            uniq, first, inverse = np.unique(arr, return_index=True, return_inverse=True)
        except TypeError as exc:
            raise InvalidInputError(f"{what} must all be strings") from exc
        codes = np.empty(len(uniq), dtype=np.int64)
        for u in np.argsort(first, kind="stable").tolist():
            codes[u] = self._code(uniq[u], what)
        return codes[inverse.reshape(-1)]

    def _post(
        self, kind: int, src: int, dst: int, instrument: int, amount: float, memo: str
    ) -> None:
        self._entry.append(self._n_entries)
        self._kind.append(kind)
        self._src.append(src)
        self._dst.append(dst)
        self._instrument.append(instrument)
        self._amount.append(amount)
        self._memo.append(memo)

    def _close_entry(self) -> int:
        self._snapshot = None
        self._n_entries += 1
        return self._n_entries - 1

    def _distinct(self, a: str, b: str, what: str) -> None:
        if a == b:
            raise InvalidInputError(f"{what} must be two different accounts, got {a!r} twice")

    # ------------------------------------------------------------------ recording

    def transfer(
        self, src: str, dst: str, usd: float, memo: str = "", *, instrument: str = "USD"
    ) -> int:
        """Move ``usd`` (or coins of ``instrument``) from ``src`` to ``dst``.

        Parameters
        ----------
        src, dst : str
            Paying and receiving accounts (different).
        usd : float
            Amount, >= 0: USD, or coins if ``instrument`` is ``"spot"``/``"perp"``.
        memo : str
            Note stored with the posting.
        instrument : str
            ``"USD"`` (default), ``"spot"`` or ``"perp"``.

        Returns
        -------
        int
            Entry number.
        """
        amount = check_nonnegative("usd", usd)
        if np.ndim(amount):
            raise InvalidInputError(f"usd must be a scalar, got {usd!r}")
        code = _instrument_code(instrument)
        _check_memo(memo)
        self._distinct(_check_account(src, "src"), _check_account(dst, "dst"), "src and dst")
        self._post(_TRANSFER, self._code(src), self._code(dst), code, float(amount), memo)
        return self._close_entry()

    def fee(self, payer: str, usd: float, to: str = "venue_fees", memo: str = "") -> int:
        """``payer`` pays a fee of ``usd`` (>= 0) to ``to`` (default ``"venue_fees"``).

        Returns
        -------
        int
            Entry number.
        """
        amount = check_nonnegative("usd", usd)
        if np.ndim(amount):
            raise InvalidInputError(f"usd must be a scalar, got {usd!r}")
        _check_memo(memo)
        self._distinct(_check_account(payer, "payer"), _check_account(to, "to"), "payer and to")
        self._post(_FEE, self._code(payer), self._code(to), _USD, float(amount), memo)
        return self._close_entry()

    def trade(
        self,
        buyer: str,
        seller: str,
        qty: float,
        price: float,
        instrument: str = "spot",
        memo: str = "",
    ) -> int:
        """Record a trade: cash ``qty x price`` buyer -> seller, ``qty`` coins seller -> buyer.

        Parameters
        ----------
        buyer, seller : str
            The two (different) accounts.
        qty : float
            Coins (or perp contracts in coins), > 0.
        price : float
            USD per coin, > 0.
        instrument : {"spot", "perp"}
            What changes hands against the cash.
        memo : str
            Note stored with both postings.

        Returns
        -------
        int
            Entry number (shared by the two postings).
        """
        q = check_positive("qty", qty)
        p = check_positive("price", price)
        if np.ndim(q) or np.ndim(p):
            raise InvalidInputError("qty and price must be scalars; use trades() for arrays")
        code = _instrument_code(instrument, tradable=True)
        _check_memo(memo)
        b = _check_account(buyer, "buyer")
        s = _check_account(seller, "seller")
        self._distinct(b, s, "buyer and seller")
        bi, si = self._code(b), self._code(s)
        self._post(_TRADE, bi, si, _USD, q * p, memo)
        self._post(_TRADE, si, bi, code, q, memo)
        return self._close_entry()

    def trades(
        self,
        buyers: str | Sequence[str],
        sellers: str | Sequence[str],
        qty: Any,
        price: Any,
        instrument: str = "spot",
        memo: str = "",
    ) -> npt.NDArray[np.int64]:
        """Record many trades at once (vectorised :meth:`trade`).

        Parameters
        ----------
        buyers, sellers : str or sequence of str
            One name for all trades, or one per trade.
        qty, price : float or array
            Coins (> 0) and USD per coin (> 0), broadcast to a common length.
        instrument : {"spot", "perp"}
        memo : str

        Returns
        -------
        ndarray of int64
            Entry number of each trade.
        """
        q = np.atleast_1d(check_positive("qty", qty))
        p = np.atleast_1d(check_positive("price", price))
        try:
            q, p = np.broadcast_arrays(q, p)
        except ValueError as exc:
            raise InvalidInputError(
                f"qty and price must broadcast, got shapes {q.shape} and {p.shape}"
            ) from exc
        if q.ndim != 1:
            raise InvalidInputError(f"qty and price must be 1-D, got shape {q.shape}")
        n = q.shape[0]
        code = _instrument_code(instrument, tradable=True)
        _check_memo(memo)
        bi = self._codes(buyers, n, "buyers")
        si = self._codes(sellers, n, "sellers")
        same = np.flatnonzero(bi == si)
        if same.size:
            raise InvalidInputError(
                f"buyer and seller must differ, but trade {int(same[0])} has "
                f"{self._accounts[bi[same[0]]]!r} on both sides"
            )
        ids = self._n_entries + np.arange(n, dtype=np.int64)
        cash = (q * p).tolist()
        # Interleave cash and coin legs so each trade's postings stay adjacent.
        self._entry.extend(np.repeat(ids, 2).tolist())
        self._kind.extend([_TRADE] * (2 * n))
        self._src.extend(np.column_stack([bi, si]).reshape(-1).tolist())
        self._dst.extend(np.column_stack([si, bi]).reshape(-1).tolist())
        self._instrument.extend([_USD, code] * n)
        self._amount.extend(np.column_stack([cash, q]).reshape(-1).tolist())
        self._memo.extend([memo] * (2 * n))
        self._n_entries += n
        self._snapshot = None
        return ids

    def reverse(self, entry: int, memo: str | None = None) -> int:
        """Append an entry undoing ``entry`` (every posting with src and dst swapped).

        Returns
        -------
        int
            Entry number of the reversal (kind ``"reversal"``).
        """
        if not isinstance(entry, (int, np.integer)) or not 0 <= entry < self._n_entries:
            raise InvalidInputError(
                f"entry must be an entry number in 0..{self._n_entries - 1}, got {entry!r}"
            )
        note = f"reversal of #{int(entry)}" if memo is None else _check_memo(memo)
        rows = np.flatnonzero(np.asarray(self._entry) == entry)
        for r in rows.tolist():
            self._post(
                _REVERSAL, self._dst[r], self._src[r], self._instrument[r], self._amount[r], note
            )
        return self._close_entry()

    def reverse_all(self) -> npt.NDArray[np.int64]:
        """Reverse every entry recorded so far, one reversal entry each; returns their numbers."""
        snap = self.entries
        offset = self._n_entries
        self._entry.extend((snap.entry + offset).tolist())
        self._kind.extend([_REVERSAL] * snap.n_postings)
        self._src.extend(snap.dst.tolist())
        self._dst.extend(snap.src.tolist())
        self._instrument.extend(snap.instrument.tolist())
        self._amount.extend(snap.amount.tolist())
        self._memo.extend(f"reversal of #{e}" for e in snap.entry.tolist())
        self._n_entries += offset
        self._snapshot = None
        return offset + np.arange(offset, dtype=np.int64)

    # ------------------------------------------------------------------ reading

    @property
    def entries(self) -> LedgerEntries:
        """Immutable struct-of-arrays snapshot of every posting so far."""
        if self._snapshot is None:
            self._snapshot = LedgerEntries(
                accounts=tuple(self._accounts),
                entry=self._entry,
                kind=self._kind,
                src=self._src,
                dst=self._dst,
                instrument=self._instrument,
                amount=self._amount,
                memo=tuple(self._memo),
            )
        return self._snapshot

    def snapshot(self) -> LedgerEntries:
        """Same as :attr:`entries`: an immutable copy unaffected by later recording."""
        return self.entries

    @property
    def accounts(self) -> tuple[str, ...]:
        """Account names in first-use order."""
        return tuple(self._accounts)

    def __len__(self) -> int:
        return self._n_entries

    def balances(self) -> dict[str, dict[str, float]]:
        """See :meth:`LedgerEntries.balances`."""
        return self.entries.balances()

    def balance(self, account: str, instrument: str = "USD") -> float:
        """See :meth:`LedgerEntries.balance`."""
        return self.entries.balance(account, instrument)

    def imbalance(self) -> dict[str, float]:
        """See :meth:`LedgerEntries.imbalance`."""
        return self.entries.imbalance()

    def value(self, marks: Mapping[str, float] | None = None) -> dict[str, float]:
        """See :meth:`LedgerEntries.value`."""
        return self.entries.value(marks)

    def total_volume(self, instrument: str | None = None) -> float:
        """See :meth:`LedgerEntries.total_volume`."""
        return self.entries.total_volume(instrument)

    def gross_usd(self) -> float:
        """See :meth:`LedgerEntries.gross_usd`."""
        return self.entries.gross_usd()

    def summary_table(self, marks: Mapping[str, float] | None = None, decimals: int = 2) -> str:
        """See :meth:`LedgerEntries.summary_table`."""
        return self.entries.summary_table(marks, decimals)
