"""The crash chapter's helpers: the rocket/crash symmetry and ADL policies on one crash.

Two small, pure pieces used by ``book/crash.ipynb`` (chapter "The mirror image"):

* :func:`mirror_pair` and :func:`symmetry_rows` -- the RocketCoin rocket
  (:func:`perpsbook.scenarios.rocketcoin`) and its mirror image
  (:func:`perpsbook.scenarios.rocketcoin_crash`) run side by side, and what the mirror keeps
  (prices reflected about the pivot, every coin quantity, every P&L) and what it does not
  (USD notionals: a coin sold at ``2c - p`` is not worth one bought at ``p``).
* :func:`crash_shorts`, :func:`crash_adl_case` and :func:`adl_policy_summary` -- a
  population of profitable shorts drawn with an explicit generator, the bankrupt long of
  the crash's last tranche, and :func:`perpsbook.adl.compare_adl_policies` summarised per
  policy: who is deleveraged, how many coins, the haircut, what goes beyond the deficit and
  how concentrated the haircut is.

Units: prices USD per coin, sizes coins (RKT), PnL / notional / haircut USD; shares are
fractions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from perpsbook.adl import ADL_POLICIES, AdlComparison, compare_adl_policies
from perpsbook.errors import (
    InvalidInputError,
    check_count,
    check_fraction,
    check_positive,
    check_scalar,
    check_side,
)
from perpsbook.margin import ALTCOIN
from perpsbook.population import DEFAULT_LEVERAGE, LogNormal, Pareto, sample_population
from perpsbook.positions import Positions

__all__ = [
    "SHORT_ENTRY",
    "SHORT_SIZE",
    "AdlCase",
    "adl_policy_summary",
    "crash_adl_case",
    "crash_shorts",
    "ignition_to_trigger",
    "ledger_value_text",
    "ledger_window_text",
    "mirror_pair",
    "symmetry_rows",
]

SHORT_ENTRY = LogNormal(median=7.0, sigma=0.3)
"""Entry prices of the shorts facing the crash, USD per coin: opened before and during the
fall (median $7, about two thirds between $5.2 and $9.4). An assumption of this book."""

SHORT_SIZE = Pareto(minimum=50.0, alpha=1.5)
"""Short sizes, coins: the population module's heavy tail (alpha 1.5) with a 50-RKT floor,
so that 5,000 shorts hold about as many coins (mean 150 each) as the crash's 748,327 RKT
of liquidated longs. An assumption of this book."""


def mirror_pair(variant: str = "default", **kwargs: Any) -> tuple[Any, Any]:
    """Run the RocketCoin rocket and its mirror-image crash with the same parameters.

    Parameters
    ----------
    variant : str
        A key of :data:`perpsbook.scenarios.VARIANTS`.
    **kwargs
        Keywords of :func:`perpsbook.scenarios.rocketcoin` (hedge_ratio, lag, ...), passed
        to both.

    Returns
    -------
    (CascadeResult, CascadeResult)
        The rocket (side +1) and the crash (side -1).
    """
    from perpsbook.scenarios import rocketcoin, rocketcoin_crash

    return rocketcoin(variant, **kwargs).run(), rocketcoin_crash(variant, **kwargs).run()


def symmetry_rows(rocket: Any, crash: Any, pivot: float = 10.0) -> list[tuple[str, float, float]]:
    """What the mirror keeps and what it changes, one ``(name, rocket, crash)`` per row.

    Rows: final price (USD/coin), ``2 * pivot - crash`` final price (equals the rocket's),
    largest gap between the rocket's stage prices and the reflected crash's (USD/coin),
    coins liquidated, coins hedged, USD liquidated, USD of forced trading, amplification
    (forced USD / ignition USD), market maker's and insurance fund's P&L (USD), and the log
    move ``|ln(final / initial)|``.

    Parameters
    ----------
    rocket, crash : CascadeResult
        From :func:`mirror_pair` (or any rocket and its mirror about ``pivot``).
    pivot : float
        USD per coin, > 0 (RocketCoin: $10).

    Raises
    ------
    InvalidInputError
        If the two runs are not a rocket (+1) and a crash (-1) with the same number of stages.
    """
    c = check_scalar("pivot", pivot)
    if c <= 0:
        raise InvalidInputError(f"pivot must be > 0 USD per coin, got {pivot!r}")
    sides = (
        getattr(getattr(rocket, "params", None), "side", None),
        getattr(getattr(crash, "params", None), "side", None),
    )
    if sides != (1, -1):
        raise InvalidInputError(
            f"need a rocket (side +1) and a crash (side -1), got sides {sides!r}"
        )
    pr, pc = np.asarray(rocket.price_path), np.asarray(crash.price_path)
    if pr.shape != pc.shape:
        raise InvalidInputError(
            f"the runs must have the same number of stages, got {pr.size - 1} and {pc.size - 1}"
        )
    gap = float(np.max(np.abs(pr - (2.0 * c - pc))))
    return [
        ("final price (USD/coin)", rocket.final_price, crash.final_price),
        ("reflected final price 2c - p", rocket.final_price, 2.0 * c - crash.final_price),
        ("largest stage price gap after reflecting", 0.0, gap),
        ("coins liquidated", rocket.total_liquidated_qty, crash.total_liquidated_qty),
        ("coins hedged", rocket.total_hedge_qty, crash.total_hedge_qty),
        ("USD liquidated", rocket.total_liquidated_notional, crash.total_liquidated_notional),
        (
            "USD of forced trading",
            rocket.total_forced_buy_notional,
            crash.total_forced_buy_notional,
        ),
        ("amplification (forced / ignition USD)", rocket.amplification, crash.amplification),
        ("market maker P&L (USD)", rocket.mm_pnl, crash.mm_pnl),
        ("insurance fund P&L (USD)", rocket.insurance_fund_pnl, crash.insurance_fund_pnl),
        (
            "log move |ln(final / initial)|",
            abs(np.log(rocket.final_price / rocket.initial_price)),
            abs(np.log(crash.final_price / crash.initial_price)),
        ),
    ]


def crash_shorts(
    rng: np.random.Generator,
    n: int = 5_000,
    *,
    mark_price: float = 3.78,
    entry: Any = SHORT_ENTRY,
    size: Any = SHORT_SIZE,
    leverage: Any = DEFAULT_LEVERAGE,
    venue: Any = ALTCOIN,
) -> Positions:
    """Draw the shorts that face a crash (the ADL counterparties), all alive at the mark.

    A thin wrapper of :func:`perpsbook.population.sample_population` with ``side_mix=1``:
    entries :data:`SHORT_ENTRY`, sizes :data:`SHORT_SIZE`, leverages the population
    module's :data:`~perpsbook.population.DEFAULT_LEVERAGE` (2x-20x, illustrative), each
    capped by ``venue``'s bracket and redrawn if the venue would liquidate it at
    ``mark_price``. Shorts that entered below the mark are losing and never deleveraged.

    Parameters
    ----------
    rng : numpy.random.Generator
        The only source of randomness.
    n : int
        Number of shorts, >= 1.
    mark_price : float
        USD per coin at the ADL (default $3.78, where the default RKT crash ends).
    entry, size, leverage
        Distributions as in :func:`~perpsbook.population.sample_population`.
    venue : perpsbook.margin.Venue
        Margin rules (default ``perpsbook.margin.ALTCOIN``, the RKT venue).

    Returns
    -------
    Positions
        ``n`` shorts.
    """
    return sample_population(
        check_count("n", n),
        rng,
        spot=mark_price,
        entry=entry,
        size=size,
        leverage=leverage,
        side_mix=1.0,
        venue=venue,
    )


@dataclass(frozen=True)
class AdlCase:
    """A bankrupt position and the market it leaves behind.

    Attributes
    ----------
    side : int
        Side of the bankrupt position, +1 or -1 (+1: a long, in a crash).
    qty : float
        Its size, coins, > 0.
    bankruptcy_price : float
        USD per coin at which its equity is zero, > 0.
    mark_price : float
        USD per coin when it is closed, > 0.
    gap : float
        ``|mark - bankruptcy price|``, USD per coin: what each coin closed by ADL at the
        bankruptcy price recovers.

    Raises
    ------
    InvalidSideError, InvalidInputError
        A side other than +-1; a size or price that is not one finite number > 0.
    """

    side: int
    qty: float
    bankruptcy_price: float
    mark_price: float

    def __post_init__(self) -> None:
        check_side(self.side)
        for name in ("qty", "bankruptcy_price", "mark_price"):
            check_scalar(name, getattr(self, name), check_positive)

    @property
    def gap(self) -> float:
        return abs(self.mark_price - self.bankruptcy_price)

    @property
    def full_deficit_usd(self) -> float:
        """USD the whole position would leave unpaid if closed at the mark (``qty x gap``)."""
        return self.qty * self.gap


def crash_adl_case(crash: Any, tranche: int = -1) -> AdlCase:
    """The bankrupt long of a crash run: one tranche, marked at the crash's final price.

    Parameters
    ----------
    crash : CascadeResult
        A crash (side -1), e.g. ``rocketcoin_crash().run()``.
    tranche : int
        Which tranche (default the last, the deepest).

    Returns
    -------
    AdlCase
        RocketCoin default: 200,000 RKT of longs, bankruptcy price $4.625, mark $3.78.

    Raises
    ------
    InvalidInputError
        If ``crash`` is not a crash or the tranche is not bankrupt at the final price.
    """
    if getattr(getattr(crash, "params", None), "side", None) != -1:
        raise InvalidInputError("crash must be a crash run (params.side == -1)")
    t = crash.tranches
    ok = isinstance(tranche, (int, np.integer)) and not isinstance(tranche, bool)
    if not ok or not -t.n <= tranche < t.n:
        raise InvalidInputError(
            f"tranche must be an integer index in [-{t.n}, {t.n}), got {tranche!r}"
        )
    bk = float(t.bankruptcy_price[tranche])
    mark = float(crash.final_price)
    if mark >= bk:
        raise InvalidInputError(
            f"tranche {tranche} is not bankrupt at the final price {mark!r} (bankruptcy {bk!r})"
        )
    return AdlCase(side=1, qty=float(t.size[tranche]), bankruptcy_price=bk, mark_price=mark)


def _gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative amounts (0 = equal, -> 1 = one takes all)."""
    if x.size == 0 or x.sum() <= 0:
        return 0.0
    s = np.sort(x)
    k = np.arange(1, s.size + 1)
    return float((2.0 * np.sum(k * s) / (s.size * s.sum())) - (s.size + 1) / s.size)


def adl_policy_summary(
    positions: Positions,
    case: AdlCase,
    deficit_share: float,
    *,
    policies: tuple[str, ...] = ADL_POLICIES,
    oracle_price: float | None = None,
    venue: Any = ALTCOIN,
) -> tuple[AdlComparison, dict[str, dict[str, float]]]:
    """Serve a deficit of ``deficit_share x case.qty`` coins under each ADL policy.

    Binance, Bybit and pro-rata close exactly the deficit's coins at the bankruptcy price;
    Hyperliquid closes the whole position at ``oracle_price`` (default the mark)
    (:func:`perpsbook.adl.compare_adl_policies`).

    Parameters
    ----------
    positions : Positions
        The possible counterparties (e.g. :func:`crash_shorts`).
    case : AdlCase
        The bankrupt position (:func:`crash_adl_case`).
    deficit_share : float
        Fraction of the position that neither the book nor the fund takes, in [0, 1].
    policies, oracle_price, venue
        As :func:`perpsbook.adl.compare_adl_policies` (venue default the RKT venue).

    Returns
    -------
    comparison : AdlComparison
    summary : dict policy -> dict
        ``AdlComparison.totals()`` plus ``deficit_qty`` (coins), ``excess_qty`` (coins
        closed beyond the deficit's), ``gini`` (of the haircuts of the positions hit),
        ``top_share`` (largest single haircut / total haircut) and ``eligible`` (shorts in
        profit).
    """
    if not isinstance(case, AdlCase):
        raise InvalidInputError(f"case must be an AdlCase, got {type(case).__name__}")
    share = check_scalar("deficit_share", deficit_share, check_fraction)
    q = share * case.qty
    cmp = compare_adl_policies(
        positions,
        case.mark_price,
        case.bankruptcy_price,
        side=case.side,
        deficit_qty=q,
        position_qty=case.qty,
        oracle_price=oracle_price,
        policies=policies,
        venue=venue,
    )
    totals = cmp.totals()
    pol = np.asarray(cmp.policy, dtype=object)
    eligible = float(np.sum(positions.upnl(case.mark_price) > 0))
    for p, t in totals.items():
        h = cmp.haircut[pol == p]
        t["deficit_qty"] = q
        # exact zeros where the policy closes exactly the deficit (no "-0" in tables)
        tol = 1e-9 * max(q, 1.0)
        t["excess_qty"] = 0.0 if abs(t["qty"] - q) <= tol else t["qty"] - q
        if abs(t["excess_usd"]) <= tol * max(case.gap, 1.0):
            t["excess_usd"] = 0.0
        t["gini"] = _gini(np.maximum(h, 0.0))
        t["top_share"] = float(h.max() / h.sum()) if h.size and h.sum() > 0 else 0.0
        t["eligible"] = eligible
    return cmp, totals


# --------------------------------------------------------------------------- figure ledger
def _num(x: float) -> str:
    """A ledger value as a reader scans it: 19.13e9 -> '19.13 bn', 2.456e9 -> '2.456 bn'."""
    for scale, word in ((1e9, "bn"), (1e6, "m")):
        if abs(x) >= scale:
            return f"{x / scale:,.4g} {word}"
    if float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.4g}"


def ledger_value_text(row: dict[str, Any]) -> str:
    """A figure-ledger row's value with its unit, as prose: ``'19.13 bn USD'``, ``'85-90 %'``.

    Parameters
    ----------
    row : dict
        :meth:`perpsbook.data.FigureLedger.row` (keys ``value``, ``value_high``, ``unit``).

    Returns
    -------
    str
        Ranges as ``low-high`` (an en dash); fractions in percent; ratios as ``8x``.
    """
    if not isinstance(row, Mapping):
        raise InvalidInputError(
            f"row must be a figure-ledger row (FigureLedger.row, a mapping), "
            f"got {type(row).__name__}"
        )
    try:
        lo, hi, unit = float(row["value"]), float(row["value_high"]), str(row["unit"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"row must be a figure-ledger row (FigureLedger.row), got {row!r}"
        ) from exc
    rng = not np.isnan(hi)
    if unit == "fraction":
        txt = f"{lo:.1%}" if not rng else f"{lo * 100:.0f}\u2013{hi * 100:.0f} %"
        return txt.replace("%", " %") if not rng else txt
    if unit == "ratio":
        return f"{lo:g}x" if not rng else f"{lo:g}\u2013{hi:g}x"
    if unit == "% from mid":
        return f"{lo:g} % and {hi:g} %" if rng else f"{lo:g} %"
    if unit in ("traders", "fills", "XBT"):
        return f"{lo:,.0f} {unit}"
    val = _num(lo) if not rng else f"{_num(lo)}\u2013{_num(hi)}"
    if rng and val.count(" bn") == 2:
        val = val.replace(" bn\u2013", "\u2013", 1)
    if rng and val.count(" m") == 2:
        val = val.replace(" m\u2013", "\u2013", 1)
    if unit == "USD per coin":
        return f"{val} USD"
    return f"{val} {unit}"


def ledger_window_text(row: dict[str, Any]) -> str:
    """A figure-ledger row's time window as prose.

    ``2025-10-10T13:00`` to ``2025-10-11T03:00`` gives ``'10 Oct 2025 13:00 - 11 Oct 2025
    03:00 UTC'`` (an en dash), whole days ``'10 Oct 2025 - 11 Oct 2025'``, a standing rule
    ``'n/a (standing rule)'``.
    """
    if not isinstance(row, Mapping):
        raise InvalidInputError(
            f"row must be a figure-ledger row (FigureLedger.row, a mapping), "
            f"got {type(row).__name__}"
        )
    try:
        a, b = str(row["window_start_utc"]), str(row["window_end_utc"])
    except (KeyError, TypeError) as exc:
        raise InvalidInputError(
            f"row must be a figure-ledger row (FigureLedger.row), got {row!r}"
        ) from exc
    if a == "n/a":
        return "n/a (standing rule)"
    for s in (a, b):
        try:
            np.datetime64(s, "m")
        except ValueError as exc:
            raise InvalidInputError(
                f"row must be a figure-ledger row with ISO 8601 UTC windows, got {s!r}"
            ) from exc

    def day(s: str) -> str:
        d = np.datetime64(s[:10], "D").astype(object)
        return f"{d.day} {d:%b %Y}"

    def hm(s: str) -> str:
        return s[11:] if len(s) > 10 else ""

    if a[:10] == b[:10] and not hm(a):
        return day(a)
    if not hm(a) and not hm(b):
        return f"{day(a)} \u2013 {day(b)}"
    if a[:10] == b[:10]:
        return f"{day(a)}, {hm(a)}\u2013{hm(b)} UTC"
    return f"{day(a)} {hm(a)} \u2013 {day(b)} {hm(b)} UTC"


def ignition_to_trigger(scenario: Any) -> tuple[float, float]:
    """USD and coins of ignition that clear every level before the first tranche's trigger.

    Any larger ignition trades at the trigger price and liquidates the first tranche. For a
    rocket (side +1) it is the cost of every ask below the trigger, for a crash (side -1)
    the proceeds of every bid above it.

    Parameters
    ----------
    scenario : perpsbook.scenarios.Scenario
        E.g. ``rocketcoin()`` or ``rocketcoin_crash()``.

    Returns
    -------
    (usd, coins) : tuple of float
        USD and coins (RocketCoin default: 199,405 USD / 19,000 RKT for the rocket,
        180,595 USD / 19,000 RKT for its crash: the same coins, fewer dollars).
    """
    book = getattr(scenario, "book", None)
    params = getattr(scenario, "params", None)
    tranches = getattr(scenario, "tranches", None)
    if book is None or params is None or tranches is None or tranches.n == 0:
        raise InvalidInputError(
            f"scenario must be a perpsbook.scenarios.Scenario with tranches, got {scenario!r}"
        )
    trigger = float(tranches.trigger_price[0])
    if params.side == 1:
        keep = book.ask_prices < trigger
        prices, sizes = book.ask_prices[keep], book.ask_sizes[keep]
    else:
        keep = book.bid_prices > trigger
        prices, sizes = book.bid_prices[keep], book.bid_sizes[keep]
    return float(np.sum(prices * sizes)), float(np.sum(sizes))
