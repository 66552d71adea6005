"""Tests for perpsbook.ledger: hand-computed books of account and zero-sum properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from perpsbook.errors import InvalidInputError
from perpsbook.ledger import ENTRY_KINDS, INSTRUMENTS, Ledger, LedgerEntries

ACCOUNTS = ["ignitor", "shorts", "market_maker", "insurance_fund", "venue_fees", "spot_makers"]


def squeeze_ledger() -> Ledger:
    """A hand-sized short squeeze, every number computed by hand in the tests below."""
    led = Ledger(ACCOUNTS)
    led.trade("ignitor", "market_maker", 10.0, 100.0, "perp", memo="ignition")  # 1,000 USD
    led.trade("market_maker", "spot_makers", 10.0, 101.0, "spot", memo="hedge")  # 1,010 USD
    led.fee("ignitor", 0.5)  # 5 bps of 1,000
    led.fee("market_maker", 0.505)  # 5 bps of 1,010
    led.trade("shorts", "market_maker", 4.0, 120.0, "perp", memo="liquidation")  # 480 USD
    led.transfer("shorts", "insurance_fund", 6.0, memo="liquidation fee")
    return led


# --------------------------------------------------------------------------- hand examples


def test_squeeze_balances_by_hand():
    b = squeeze_ledger().balances()
    # ignitor: paid 1,000 for 10 perps and a 0.5 fee.
    assert b["ignitor"] == {"USD": -1000.5, "spot": 0.0, "perp": 10.0}
    # market maker: +1,000 (sold perps) - 1,010 (bought spot) + 480 (sold perps) - 0.505 fee.
    assert b["market_maker"]["USD"] == pytest.approx(469.495, abs=1e-12)
    assert b["market_maker"]["spot"] == 10.0 and b["market_maker"]["perp"] == -14.0
    assert b["spot_makers"] == {"USD": 1010.0, "spot": -10.0, "perp": 0.0}
    assert b["venue_fees"]["USD"] == pytest.approx(1.005, abs=1e-15)
    assert b["shorts"] == {"USD": -486.0, "spot": 0.0, "perp": 4.0}
    assert b["insurance_fund"] == {"USD": 6.0, "spot": 0.0, "perp": 0.0}
    assert list(b) == ACCOUNTS  # registered order


def test_squeeze_imbalance_volume_and_value_by_hand():
    led = squeeze_ledger()
    imb = led.imbalance()
    assert set(imb) == set(INSTRUMENTS)
    assert abs(imb["USD"]) <= 1e-12 and imb["spot"] == 0.0 and imb["perp"] == 0.0
    assert led.total_volume() == pytest.approx(2490.0)  # 1,000 + 1,010 + 480
    assert led.total_volume("spot") == pytest.approx(1010.0)
    assert led.total_volume("perp") == pytest.approx(1480.0)
    assert led.gross_usd() == pytest.approx(2497.005)
    # Marks spot 118, perp 120:
    # ignitor -1000.5 + 10 x 120 = 199.5; MM 469.495 + 10 x 118 - 14 x 120 = -30.505;
    # spot makers 1010 - 10 x 118 = -170; shorts -486 + 4 x 120 = -6.
    v = led.value({"spot": 118.0, "perp": 120.0})
    expected = {
        "ignitor": 199.5,
        "shorts": -6.0,
        "market_maker": -30.505,
        "insurance_fund": 6.0,
        "venue_fees": 1.005,
        "spot_makers": -170.0,
    }
    assert v == pytest.approx(expected, abs=1e-9)
    assert abs(math.fsum(v.values())) <= 1e-12
    assert len(led) == 6


def test_perp_cash_convention_gives_realised_pnl():
    # Buy 3 perps at 100, sell them at 110: flat position, +30 USD realised for the trader.
    led = Ledger()
    led.trade("trader", "mm", 3.0, 100.0, "perp")
    assert led.value({"perp": 104.0})["trader"] == pytest.approx(12.0)  # unrealised 3 x 4
    led.trade("mm", "trader", 3.0, 110.0, "perp")
    assert led.balances()["trader"] == {"USD": 30.0, "spot": 0.0, "perp": 0.0}
    assert led.value()["trader"] == 30.0  # no perp held, so no mark needed
    assert led.value()["mm"] == -30.0


def test_transfer_of_coins_and_zero_amounts():
    led = Ledger()
    led.transfer("treasury", "spot_makers", 1_000.0, instrument="spot", memo="seed float")
    led.transfer("a", "b", 0.0)
    led.fee("a", 0.0)
    assert led.balance("spot_makers", "spot") == 1000.0
    assert led.balance("treasury", "spot") == -1000.0
    assert led.balance("a") == 0.0 and led.balance("nobody", "perp") == 0.0
    assert led.total_volume() == 0.0  # transfers are not trades
    kinds = led.entries.kind_names.tolist()
    assert kinds == ["transfer", "transfer", "fee"]


def test_entries_struct_of_arrays_and_snapshot_immutability():
    led = squeeze_ledger()
    e = led.entries
    assert isinstance(e, LedgerEntries)
    assert e.n_postings == 9 and e.n_entries == 6
    assert e.accounts == tuple(ACCOUNTS)
    assert e.entry.tolist() == [0, 0, 1, 1, 2, 3, 4, 4, 5]
    assert e.kind_names.tolist()[:2] == ["trade", "trade"]
    assert e.src_names[:2].tolist() == ["ignitor", "market_maker"]
    assert e.dst_names[:2].tolist() == ["market_maker", "ignitor"]
    assert e.instrument_names[:2].tolist() == ["USD", "perp"]
    assert e.amount[:2].tolist() == [1000.0, 10.0]
    assert e.memo[0] == "ignition" and e.memo[-1] == "liquidation fee"
    assert e.amount.dtype == np.float64 and e.src.dtype == np.int32
    for arr in (e.entry, e.kind, e.src, e.dst, e.instrument, e.amount):
        assert not arr.flags.writeable
    with pytest.raises(ValueError):
        e.amount[0] = 5.0
    # Later recording does not change an earlier snapshot.
    led.trade("ignitor", "shorts", 1.0, 1.0, "spot")
    assert e.n_postings == 9 and led.entries.n_postings == 11
    assert led.snapshot().n_postings == 11


def test_from_entries_round_trip_and_continue():
    led = squeeze_ledger()
    copy = Ledger.from_entries(led.entries)
    assert copy.balances() == led.balances()
    assert copy.summary_table() == led.summary_table()
    n = copy.trade("shorts", "market_maker", 1.0, 130.0, "perp")
    assert n == 6  # entry numbers continue
    assert copy.balance("shorts", "perp") == 5.0
    assert led.balance("shorts", "perp") == 4.0  # original untouched
    empty = Ledger.from_entries(LedgerEntries.empty(["x", "y"]))
    assert empty.accounts == ("x", "y") and len(empty) == 0
    assert empty.balances() == {
        "x": {"USD": 0.0, "spot": 0.0, "perp": 0.0},
        "y": {"USD": 0.0, "spot": 0.0, "perp": 0.0},
    }


def test_batch_trades_equal_single_trades():
    buyers = ["shorts", "shorts", "market_maker"]
    sellers = ["market_maker", "insurance_fund", "spot_makers"]
    qty, price = [1.5, 2.0, 0.25], [101.0, 102.5, 99.0]
    a, b = Ledger(ACCOUNTS), Ledger(ACCOUNTS)
    for bb, ss, q, p in zip(buyers, sellers, qty, price, strict=True):
        a.trade(bb, ss, q, p, "perp", memo="x")
    ids = b.trades(buyers, sellers, qty, price, "perp", memo="x")
    assert ids.tolist() == [0, 1, 2]
    for field in ("entry", "kind", "src", "dst", "instrument", "amount"):
        np.testing.assert_array_equal(getattr(a.entries, field), getattr(b.entries, field))
    assert a.entries.memo == b.entries.memo
    # One name for every trade, broadcast price.
    c = Ledger()
    c.trades("shorts", "market_maker", np.array([1.0, 2.0]), 100.0, "perp")
    assert c.balance("shorts", "perp") == 3.0 and c.balance("market_maker") == 300.0
    assert c.accounts == ("shorts", "market_maker")


def test_reverse_one_entry():
    led = squeeze_ledger()
    r = led.reverse(4)  # bust the liquidation trade
    assert r == 6
    assert led.balance("shorts", "perp") == 0.0
    assert led.balance("shorts") == -6.0  # only the liquidation fee remains
    assert led.balance("market_maker", "perp") == -10.0
    assert led.entries.memo[-1] == "reversal of #4"
    assert led.entries.kind_names[-1] == "reversal"
    assert led.total_volume() == pytest.approx(2490.0)  # reversals are not volume
    led.reverse(6, memo="re-instate")
    assert led.balance("shorts", "perp") == 4.0


def test_summary_table_is_deterministic():
    led = Ledger()
    led.trade("a", "b", 2.0, 100.0, "spot")
    led.fee("a", 1.0)
    expected = "\n".join(
        [
            "account         USD   spot  perp",
            "----------  -------  -----  ----",
            "a           -201.00   2.00  0.00",
            "b            200.00  -2.00  0.00",
            "venue_fees     1.00   0.00  0.00",
            "TOTAL          0.00   0.00  0.00",
        ]
    )
    assert led.summary_table() == expected
    with_value = led.summary_table({"spot": 150.0}, decimals=1)
    assert with_value.splitlines()[0].split() == ["account", "USD", "spot", "perp", "value_usd"]
    assert with_value.splitlines()[2].split() == ["a", "-201.0", "2.0", "0.0", "99.0"]
    assert with_value.splitlines()[-1].split() == ["TOTAL", "0.0", "0.0", "0.0", "0.0"]
    # Same history, same string; rounding residue never prints as -0.00.
    twin = Ledger()
    twin.trade("a", "b", 2.0, 100.0, "spot")
    twin.fee("a", 1.0)
    assert twin.summary_table() == led.summary_table()
    tiny = Ledger()
    tiny.transfer("a", "b", 0.1)
    tiny.transfer("b", "c", 0.2)
    tiny.transfer("c", "a", 0.3)
    assert "-0.00" not in tiny.summary_table()
    assert Ledger(["x"]).summary_table().splitlines()[-1].split() == [
        "TOTAL",
        "0.00",
        "0.00",
        "0.00",
    ]


# --------------------------------------------------------------------------- properties

_pairs = [(i, j) for i in range(len(ACCOUNTS)) for j in range(len(ACCOUNTS)) if i != j]
_qty = st.floats(1e-6, 1e6, allow_nan=False, allow_infinity=False)
_price = st.floats(1e-4, 1e6, allow_nan=False, allow_infinity=False)
_usd = st.floats(0.0, 1e9, allow_nan=False, allow_infinity=False)
_ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("trade"),
            st.sampled_from(_pairs),
            _qty,
            _price,
            st.sampled_from(["spot", "perp"]),
        ),
        st.tuples(st.just("transfer"), st.sampled_from(_pairs), _usd, st.sampled_from(INSTRUMENTS)),
        st.tuples(st.just("fee"), st.sampled_from(_pairs), _usd),
    ),
    max_size=40,
)


def _apply(ops) -> Ledger:
    led = Ledger()
    for op in ops:
        (i, j) = op[1]
        a, b = ACCOUNTS[i], ACCOUNTS[j]
        if op[0] == "trade":
            led.trade(a, b, op[2], op[3], op[4])
        elif op[0] == "transfer":
            led.transfer(a, b, op[2], instrument=op[3])
        else:
            led.fee(a, op[2], to=b)
    return led


def _gross(led: Ledger) -> dict[str, float]:
    e = led.entries
    return {ins: math.fsum(e.amount[e.instrument == k]) for k, ins in enumerate(INSTRUMENTS)}


@given(ops=_ops, spot=_price, perp=_price)
def test_random_histories_are_zero_sum(ops, spot, perp):
    led = _apply(ops)
    gross = _gross(led)
    imb = led.imbalance()
    for ins in INSTRUMENTS:
        assert abs(imb[ins]) <= 1e-9 * gross[ins]
    # Reference balances by a plain per-posting walk with exact sums.
    e = led.entries
    for a, acc in enumerate(e.accounts):
        for k, ins in enumerate(INSTRUMENTS):
            legs = e.instrument == k
            ref = math.fsum([*e.amount[legs & (e.dst == a)], *(-e.amount[legs & (e.src == a)])])
            assert led.balance(acc, ins) == ref
    # Everyone starts at zero, so marked-to-market values are P&L and sum to zero.
    values = led.value({"spot": spot, "perp": perp})
    scale = gross["USD"] + gross["spot"] * spot + gross["perp"] * perp
    assert abs(math.fsum(values.values())) <= 1e-9 * scale
    # Round trip through the immutable snapshot.
    assert Ledger.from_entries(led.entries).balances() == led.balances()


@given(ops=_ops)
def test_reversing_everything_returns_to_zero(ops):
    led = _apply(ops)
    n = len(led)
    ids = led.reverse_all()
    assert ids.tolist() == list(range(n, 2 * n))
    assert len(led) == 2 * n and led.entries.n_entries == 2 * n
    for acc, bal in led.balances().items():
        assert bal == {"USD": 0.0, "spot": 0.0, "perp": 0.0}, acc
    assert led.imbalance() == {"USD": 0.0, "spot": 0.0, "perp": 0.0}
    if n:
        assert set(led.entries.kind_names[led.entries.entry >= n].tolist()) == {"reversal"}


@given(ops=_ops)
def test_single_reversals_match_reverse_all(ops):
    a, b = _apply(ops), _apply(ops)
    a.reverse_all()
    for k in range(len(b)):
        b.reverse(k)
    assert a.balances() == b.balances()
    np.testing.assert_array_equal(a.entries.amount, b.entries.amount)
    np.testing.assert_array_equal(a.entries.entry, b.entries.entry)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("qty", "price"),
    [
        (math.nan, 100.0),
        (math.inf, 100.0),
        (-1.0, 100.0),
        (0.0, 100.0),
        (1.0, math.nan),
        (1.0, -math.inf),
        (1.0, -100.0),
        (1.0, 0.0),
        ("one", 100.0),
        ([1.0, 2.0], 100.0),
    ],
)
def test_trade_rejects_bad_numbers(qty, price):
    led = Ledger()
    with pytest.raises(InvalidInputError):
        led.trade("a", "b", qty, price)
    assert len(led) == 0 and led.entries.n_postings == 0  # nothing half-recorded


@pytest.mark.parametrize("usd", [math.nan, math.inf, -math.inf, -0.01, "ten", [1.0]])
def test_transfer_and_fee_reject_bad_amounts(usd):
    led = Ledger()
    with pytest.raises(InvalidInputError):
        led.transfer("a", "b", usd)
    with pytest.raises(InvalidInputError):
        led.fee("a", usd)
    assert len(led) == 0


@pytest.mark.parametrize("instrument", ["USDT", "SPOT", "", None, 1, "futures"])
def test_unknown_instruments_rejected(instrument):
    led = Ledger()
    with pytest.raises(InvalidInputError, match="instrument"):
        led.trade("a", "b", 1.0, 1.0, instrument)
    with pytest.raises(InvalidInputError, match="instrument"):
        led.transfer("a", "b", 1.0, instrument=instrument)
    with pytest.raises(InvalidInputError, match="instrument"):
        led.trades("a", "b", [1.0], [1.0], instrument)
    with pytest.raises(InvalidInputError, match="instrument"):
        led.balance("a", instrument)


def test_cash_is_not_tradable_against_cash():
    with pytest.raises(InvalidInputError, match="instrument"):
        Ledger().trade("a", "b", 1.0, 1.0, "USD")


@pytest.mark.parametrize("name", ["", "   ", None, 3, ("a",)])
def test_bad_account_names_rejected(name):
    led = Ledger()
    with pytest.raises(InvalidInputError):
        led.trade(name, "b", 1.0, 1.0)
    with pytest.raises(InvalidInputError):
        led.transfer("a", name, 1.0)
    with pytest.raises(InvalidInputError):
        led.fee(name, 1.0)
    with pytest.raises(InvalidInputError):
        Ledger([name])
    assert led.accounts == ()


def test_same_account_on_both_sides_rejected():
    led = Ledger()
    with pytest.raises(InvalidInputError, match="different"):
        led.trade("a", "a", 1.0, 1.0)
    with pytest.raises(InvalidInputError, match="different"):
        led.transfer("a", "a", 1.0)
    with pytest.raises(InvalidInputError, match="different"):
        led.fee("venue_fees", 1.0)
    with pytest.raises(InvalidInputError, match="differ"):
        led.trades(["a", "b"], ["b", "b"], [1.0, 1.0], 1.0)
    assert len(led) == 0


def test_batch_trades_reject_bad_input():
    led = Ledger()
    with pytest.raises(InvalidInputError, match="names"):
        led.trades(["a", "b"], "c", [1.0, 2.0, 3.0], 1.0)
    with pytest.raises(InvalidInputError):
        led.trades("a", "b", [1.0, math.nan], 1.0)
    with pytest.raises(InvalidInputError):
        led.trades("a", "b", [1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(InvalidInputError):
        led.trades("a", "b", [[1.0, 2.0]], 1.0)
    with pytest.raises(InvalidInputError):
        led.trades(["a", 7], "b", [1.0, 2.0], 1.0)
    with pytest.raises(InvalidInputError, match="memo"):
        led.trades("a", "b", [1.0], 1.0, memo=None)
    assert len(led) == 0


def test_value_rejects_bad_marks():
    led = squeeze_ledger()
    with pytest.raises(InvalidInputError, match="perp"):
        led.value({"spot": 100.0})  # accounts hold perps
    with pytest.raises(InvalidInputError, match="spot"):
        led.value()
    for bad in (math.nan, math.inf, 0.0, -1.0, [1.0, 2.0]):
        with pytest.raises(InvalidInputError):
            led.value({"spot": bad, "perp": 100.0})
    with pytest.raises(InvalidInputError, match="instrument"):
        led.value({"spot": 1.0, "perp": 1.0, "USD": 1.0})
    with pytest.raises(InvalidInputError, match="mapping"):
        led.value([("spot", 1.0)])
    with pytest.raises(InvalidInputError):
        led.summary_table({"perp": 1.0})


def test_misc_rejections():
    led = squeeze_ledger()
    for bad in (-1, 6, 2.0, "0", None):
        with pytest.raises(InvalidInputError, match="entry"):
            led.reverse(bad)
    with pytest.raises(InvalidInputError, match="memo"):
        led.transfer("a", "b", 1.0, memo=5)
    with pytest.raises(InvalidInputError, match="decimals"):
        led.summary_table(decimals=-1)
    with pytest.raises(InvalidInputError, match="decimals"):
        led.summary_table(decimals=2.5)
    with pytest.raises(InvalidInputError, match="LedgerEntries"):
        Ledger.from_entries({"amount": []})
    with pytest.raises(InvalidInputError, match="instrument"):
        led.total_volume("USD")


def _entries(**overrides) -> LedgerEntries:
    base = {
        "accounts": ("a", "b"),
        "entry": [0, 0],
        "kind": [1, 1],
        "src": [0, 1],
        "dst": [1, 0],
        "instrument": [0, 1],
        "amount": [100.0, 1.0],
        "memo": ("", ""),
    }
    return LedgerEntries(**(base | overrides))


def test_ledger_entries_validation():
    assert _entries().balances()["a"] == {"USD": -100.0, "spot": 1.0, "perp": 0.0}
    bad = [
        {"accounts": ("a", "a")},
        {"accounts": ("a", "")},
        {"src": [0, 2]},
        {"dst": [-1, 0]},
        {"src": [0, 0], "dst": [0, 1]},
        {"instrument": [0, 3]},
        {"kind": [1, len(ENTRY_KINDS)]},
        {"amount": [100.0, math.nan]},
        {"amount": [100.0, -1.0]},
        {"amount": [100.0]},
        {"amount": [[100.0, 1.0]]},
        {"amount": ["x", 1.0]},
        {"memo": ("",)},
        {"memo": ("", 3)},
    ]
    for overrides in bad:
        with pytest.raises(InvalidInputError):
            _entries(**overrides)


@pytest.mark.parametrize("bad", [None, 5, 1.5, True, "ab"])
def test_ledger_accounts_must_be_an_iterable_of_names(bad):
    with pytest.raises(InvalidInputError, match=r"^accounts must be an iterable"):
        Ledger(bad)


@pytest.mark.parametrize("bad", [None, 5, 1.5])
def test_ledger_trades_names_must_be_names(bad):
    led = Ledger(["a", "b"])
    with pytest.raises(InvalidInputError, match=r"^buyers must be one account name"):
        led.trades(bad, ["b"], [1.0], [10.0], "perp")
