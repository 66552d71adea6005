"""Index and mark-price rules (perpsbook.markets), against the venues' published formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from perpsbook.book import OrderBook
from perpsbook.errors import InvalidInputError
from perpsbook.markets import (
    MARK_RULES,
    MarkRule,
    MarkState,
    binance_mark,
    book_quotes,
    hyperliquid_mark,
    index_price,
    mark_price,
)


def test_index_weighted_mean_is_binances_formula():
    # Price index = sum of weight * spot price (Binance FAQ 360033525071)
    assert index_price([100.0, 102.0, 98.0], [0.5, 0.3, 0.2]) == pytest.approx(100.2)
    assert index_price(10.0) == 10.0


def test_index_weighted_median_is_hyperliquids_oracle():
    # weights 3, 2, 2, 1 (Binance, OKX, Bybit, Kraken): the weighted median
    prices = [100.0, 101.0, 99.0, 150.0]
    assert index_price(prices, [3, 2, 2, 1], method="median") == 100.0
    # an outlier with small weight does not move it
    assert index_price([100.0, 100.0, 1e6], [3, 2, 1], method="median") == 100.0


def test_binance_mark_is_median_of_three():
    # Price 1 = 100 * (1 + 0.0001 * 0.5) = 100.005; Price 2 = 100.5; last 101 -> 100.5
    assert binance_mark(100.0, 101.0, 0.5, 0.0001, 0.5) == pytest.approx(100.5)
    # last price between the two index terms is the mark
    assert binance_mark(100.0, 100.2, 0.5, 0.0, 1.0) == pytest.approx(100.2)
    # a squeeze in the last price alone cannot lift the mark above the index terms
    assert binance_mark(100.0, 500.0, 0.0, 0.0, 1.0) == pytest.approx(100.0)


def test_hyperliquid_worked_example():
    # Docs example: oracle 10,000, EMA +20 -> 10,020; book median 10,010; external 10,015
    assert hyperliquid_mark(10_000.0, 20.0, 10_005.0, 10_015.0, 10_010.0, 10_015.0) == 10_015.0
    # without external perps the book-median EMA is the third component
    assert (
        hyperliquid_mark(10_000.0, 20.0, 10_005.0, 10_015.0, 10_010.0, None, 10_000.0) == 10_010.0
    )
    with pytest.raises(InvalidInputError, match="external"):
        hyperliquid_mark(10_000.0, 20.0, 10_005.0, 10_015.0, 10_010.0)


def test_mark_rules_by_name():
    st0 = MarkState(basis_average=1.0, book_average=100.0)
    assert mark_price("last", index=100.0, last=103.0) == 103.0
    assert mark_price("index", index=100.0, last=103.0) == 100.0
    assert mark_price("binance", index=100.0, last=103.0, state=st0) == 101.0
    rule = MarkRule("hyperliquid", external_perp="index")
    assert (
        mark_price(rule, index=100.0, last=103.0, best_bid=102.0, best_ask=104.0, state=st0)
        == 101.0
    )
    assert set(MARK_RULES) == {"last", "index", "binance", "hyperliquid"}


def test_rule_update_is_an_exponential_average():
    book = OrderBook.flat_ladder(10.0, 0.01, 100.0, 5)  # mid 10
    rule = MarkRule("binance", basis_weight=0.25)
    state = rule.initial_state(book, 10.0)
    mark, state = rule.update(state, index=9.0, perp_book=book, perp_last=10.0)
    assert state.basis_average == pytest.approx(0.25 * 1.0)
    assert mark == pytest.approx(9.25)  # median(9, 9.25, 10)


def test_book_quotes_fall_back_to_last_for_an_empty_side():
    book = OrderBook.flat_ladder(10.0, 0.01, 100.0, 2)
    empty_asks = book.buy(200.0).book_after
    assert book_quotes(empty_asks, 10.02) == (9.99, 10.02, pytest.approx(10.005))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"name": "lastt"}, "mark rule"),
        ({"basis_weight": 0.0}, "basis_weight"),
        ({"basis_weight": math.nan}, "basis_weight"),
        ({"external_perp": -1.0}, "external_perp"),
        ({"time_to_funding": 2.0}, "time_to_funding"),
    ],
)
def test_mark_rule_validation_names_the_argument(kwargs, name):
    with pytest.raises(InvalidInputError, match=name):
        MarkRule(**kwargs)


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (([],), "prices"),
        (([1.0, -1.0],), "prices"),
        (([1.0, 2.0], [1.0]), "weights"),
        (([1.0, 2.0], [0.0, 0.0]), "weights"),
        (([1.0], None, "mode"), "method"),
    ],
)
def test_index_validation(args, name):
    with pytest.raises(ValueError, match=name):
        index_price(*args)


@given(
    st.floats(1.0, 1e4),
    st.floats(-50.0, 50.0),
    st.floats(1.0, 1e4),
    st.floats(-0.01, 0.01),
    st.floats(0.0, 1.0),
)
def test_binance_mark_lies_between_its_terms(index, basis, last, rate, t):
    m = binance_mark(index, last, basis, rate, t)
    terms = sorted([index * (1 + rate * t), index + basis, last])
    assert terms[0] <= m <= terms[2]
    assert m == pytest.approx(terms[1])


def test_index_is_a_convex_combination():
    rng = np.random.default_rng(1)
    p = rng.uniform(1, 100, 7)
    w = rng.uniform(0, 1, 7)
    assert p.min() <= index_price(p, w) <= p.max()
    assert p.min() <= index_price(p, w, "median") <= p.max()
