"""Many perpetual-futures positions as one struct of arrays.

A :class:`Positions` holds N isolated-margin positions in four parallel arrays, so every
quantity the book needs (notional, unrealised PnL, equity, leverage) is one numpy
expression over all N at once, with no Python object per trader.

Units: prices in USD per coin, sizes in coins, notional / PnL / margin in USD. ``side`` is
+1 for a long and -1 for a short. ``margin`` is the isolated margin: the part of the
trader's wallet balance allocated to that position.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from perpsbook.errors import (
    InvalidInputError,
    LeverageError,
    check_finite,
    check_nonnegative,
    check_positive,
    readonly,
    side_array,
)

__all__ = ["Positions"]

_FIELDS = ("side", "size", "entry_price", "margin")


def _one_d(name: str, value: Any) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise InvalidInputError(
            f"{name} must be a scalar or a 1-D array, got a ragged sequence {value!r:.60}"
        ) from exc
    if arr.ndim > 1:
        raise InvalidInputError(
            f"{name} must be a scalar or a 1-D array, got an array of shape {arr.shape}"
        )
    return arr


def _common_length(arrays: dict[str, np.ndarray]) -> int:
    lengths = {name: a.shape[0] for name, a in arrays.items() if a.ndim == 1}
    distinct = set(lengths.values())
    if len(distinct) > 1:
        shown = ", ".join(f"{k}={v}" for k, v in lengths.items())
        raise InvalidInputError(f"position arrays must all have the same length, got {shown}")
    return distinct.pop() if distinct else 1


@dataclass(frozen=True, eq=False)
class Positions:
    """N isolated-margin perpetual positions, struct-of-arrays, immutable.

    Parameters
    ----------
    side : int8 array (N,)
        +1 long, -1 short (strings ``"long"``/``"short"`` are accepted for a scalar).
    size : float64 array (N,)
        Position size in coins; every entry finite and > 0.
    entry_price : float64 array (N,)
        Average entry price in USD per coin; finite and > 0.
    margin : float64 array (N,)
        Isolated margin in USD; finite and >= 0.

    Each argument may be a scalar or a 1-D array; all 1-D arrays must have the same length
    N and scalars are repeated to that length (if every argument is a scalar, N = 1).
    ``N = 0`` is allowed: an empty container (from ``Positions.empty()``, an empty ``take``
    or empty input arrays) on which every method returns empty arrays.

    The stored arrays are read-only copies; derive new containers with :meth:`replace`,
    :meth:`take` or :meth:`concat`.

    Raises
    ------
    InvalidSideError
        A side is not +1 or -1.
    InvalidInputError
        NaN/inf, a size or entry price <= 0, a negative margin, a 2-D argument, or arrays
        of different lengths.
    """

    side: npt.NDArray[np.int8]
    size: npt.NDArray[np.float64]
    entry_price: npt.NDArray[np.float64]
    margin: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        raw = {
            "side": _one_d("side", side_array("side", self.side)),
            "size": _one_d("size", check_positive("size", self.size)),
            "entry_price": _one_d("entry_price", check_positive("entry_price", self.entry_price)),
            "margin": _one_d("margin", check_nonnegative("margin", self.margin)),
        }
        n = _common_length(raw)
        dtypes = {"side": np.int8}
        for name, arr in raw.items():
            frozen = readonly(np.broadcast_to(arr, (n,)), dtypes.get(name, np.float64))
            object.__setattr__(self, name, frozen)

    # ----------------------------------------------------------------- constructors
    @classmethod
    def from_leverage(cls, side: Any, size: Any, entry_price: Any, leverage: Any) -> Positions:
        """Positions whose margin is the initial margin at ``leverage``.

        Parameters
        ----------
        side : int or array
            +1 long / -1 short.
        size : float or array
            Coins, > 0.
        entry_price : float or array
            USD per coin, > 0.
        leverage : float or array
            Entry notional / margin, >= 1 (venues let a trader pick 1x up to their maximum;
            to post more margin than the notional, build ``Positions`` with ``margin``
            directly).

        Returns
        -------
        Positions
            ``margin = size * entry_price / leverage`` (USD).
        """
        lev = check_finite("leverage", leverage)
        if not np.all(np.asarray(lev) >= 1.0):
            raise LeverageError(
                f"leverage must be >= 1 (1x = margin equal to the notional), got {leverage!r}"
            )
        sz = check_positive("size", size)
        px = check_positive("entry_price", entry_price)
        notional = np.asarray(sz) * np.asarray(px)
        try:
            margin = notional / np.asarray(lev)
        except ValueError as exc:
            raise InvalidInputError(
                f"size, entry_price and leverage do not broadcast: {exc}"
            ) from exc
        return cls(side=side, size=sz, entry_price=px, margin=margin)

    @staticmethod
    def check(value: Any, name: str = "positions") -> Positions:
        """Return ``value`` if it is a :class:`Positions`, else raise InvalidInputError.

        The one check the functions that take positions (margin, ADL, liquidation) share;
        the message names ``name`` and the type received.
        """
        if not isinstance(value, Positions):
            raise InvalidInputError(
                f"{name} must be a perpsbook.positions.Positions, got {type(value).__name__}"
            )
        return value

    def selection(self, name: str, value: Any, *, default: bool) -> npt.NDArray[np.bool_]:
        """A boolean array (N,) over these positions: ``value``, or all ``default`` if None.

        Raises InvalidInputError naming ``name`` unless ``value`` is None or a bool array of
        shape (N,) (integer indices are not accepted: a mask says yes/no per position).
        """
        if not isinstance(default, (bool, np.bool_)):
            raise InvalidInputError(f"default must be True or False, got {default!r}")
        if value is None:
            return np.full(self.n, default, dtype=bool)
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError):  # ragged nested lists
            arr = np.asarray(None)
        if arr.dtype != bool or arr.shape != (self.n,):
            raise InvalidInputError(
                f"{name} must be a boolean array of shape ({self.n},), got dtype {arr.dtype} "
                f"and shape {arr.shape}"
            )
        return arr

    @classmethod
    def empty(cls) -> Positions:
        """An empty container (N = 0)."""
        return cls(
            side=np.empty(0, np.int8),
            size=np.empty(0),
            entry_price=np.empty(0),
            margin=np.empty(0),
        )

    @classmethod
    def concat(cls, items: Iterable[Positions]) -> Positions:
        """Join several containers end to end (order preserved); no items -> empty."""
        if isinstance(items, (Positions, str, bytes)) or not isinstance(items, Iterable):
            raise InvalidInputError(
                f"items must be an iterable of Positions (a list or tuple), got "
                f"{type(items).__name__}"
            )
        parts = list(items)
        for p in parts:
            if not isinstance(p, Positions):
                raise InvalidInputError(f"concat takes Positions objects, got {type(p).__name__}")
        if not parts:
            return cls.empty()
        return cls(**{f: np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS})

    # ----------------------------------------------------------------- views
    @property
    def n(self) -> int:
        """Number of positions N."""
        return int(self.size.shape[0])

    def __len__(self) -> int:
        return self.n

    @property
    def entry_notional(self) -> npt.NDArray[np.float64]:
        """USD notional at entry, ``size * entry_price``, shape (N,)."""
        return self.size * self.entry_price

    @property
    def leverage(self) -> npt.NDArray[np.float64]:
        """Effective leverage at entry, ``entry notional / margin`` (dimensionless).

        A position with zero margin has infinite leverage (``inf``, never NaN).
        """
        notional = self.entry_notional
        out = np.full(self.n, np.inf)
        np.divide(notional, self.margin, out=out, where=self.margin > 0)
        return out

    def _mark(self, mark: Any) -> np.ndarray:
        m = np.asarray(check_positive("mark", mark))
        if m.ndim > 1 or (m.ndim == 1 and m.shape[0] != self.n):
            raise InvalidInputError(
                f"mark must be a scalar or an array of length N={self.n}, got shape {m.shape}"
            )
        return m

    def notional(self, mark: Any) -> npt.NDArray[np.float64]:
        """USD notional at the mark price (USD per coin, scalar or (N,)), shape (N,)."""
        return self.size * self._mark(mark)

    def upnl(self, mark: Any) -> npt.NDArray[np.float64]:
        """Unrealised PnL in USD, ``side * size * (mark - entry_price)``, shape (N,)."""
        return self.side * self.size * (self._mark(mark) - self.entry_price)

    def equity(self, mark: Any) -> npt.NDArray[np.float64]:
        """Position equity (margin balance) in USD, ``margin + upnl(mark)``, shape (N,)."""
        return self.margin + self.upnl(mark)

    # ----------------------------------------------------------------- derived copies
    def take(self, indices: Any) -> Positions:
        """A new container with the positions selected by ``indices``.

        ``indices`` may be integer positions, a boolean mask of length N or a slice; the
        result is always 1-D (a single integer gives N = 1).
        """
        if isinstance(indices, slice):
            idx: Any = indices
        else:
            idx = _one_d("indices", indices)
            if idx.dtype == bool:
                if idx.shape != (self.n,):
                    raise InvalidInputError(
                        f"a boolean mask must have shape ({self.n},), got {idx.shape}"
                    )
            elif idx.dtype.kind not in "iu":
                raise InvalidInputError(
                    f"indices must be integers, a boolean mask or a slice, got dtype {idx.dtype}"
                )
            elif idx.size and (idx.max() >= self.n or idx.min() < -self.n):
                raise InvalidInputError(f"indices out of range for N={self.n}: {indices!r}")
            idx = np.atleast_1d(idx)
        return Positions(**{f: getattr(self, f)[idx] for f in _FIELDS})

    def replace(self, **arrays: Any) -> Positions:
        """A validated copy with some of the four arrays replaced (same names as the fields)."""
        unknown = sorted(set(arrays) - set(_FIELDS))
        if unknown:
            raise InvalidInputError(
                f"replace() got unknown fields {unknown}; allowed: {list(_FIELDS)}"
            )
        current = {f: getattr(self, f) for f in _FIELDS}
        current.update(arrays)
        return Positions(**current)

    # ----------------------------------------------------------------- dunder
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Positions):
            return NotImplemented
        return all(
            np.array_equal(getattr(self, f.name), getattr(other, f.name)) for f in fields(self)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable-looking arrays: not hashable

    def __repr__(self) -> str:
        n_long = int(np.count_nonzero(self.side == 1))
        return (
            f"Positions(n={self.n}, long={n_long}, short={self.n - n_long}, "
            f"entry_notional={float(self.entry_notional.sum()):,.2f} USD, "
            f"margin={float(self.margin.sum()):,.2f} USD)"
        )
