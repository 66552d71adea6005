"""Command line: run the RocketCoin scenarios headless and print their stage tables.

Usage::

    python -m perpsbook rocket [--markets {one,two}] [--venue {binance,bybit,hyperliquid}]
                               [--variant NAME] [--ignition USD] [--hedge-ratio H]
                               [--lag N] [--passthrough W] [--arbitrage USD_PER_STAGE]
                               [--insurance-fund USD] [--max-stages N] [--json]
    python -m perpsbook crash  [same options]
    python -m perpsbook variants

``rocket`` runs :func:`perpsbook.scenarios.rocketcoin` and ``crash`` its mirror image
:func:`perpsbook.scenarios.rocketcoin_crash`; both print the stage table of
:meth:`perpsbook.cascade.CascadeResult.stage_table`, or with ``--json`` one JSON object
(:meth:`perpsbook.cascade.CascadeResult.to_dict` plus the scenario's name and variant).

``rocket --markets two`` runs :func:`perpsbook.scenarios.rocketcoin_two_market` (a spot
and a perp book, the venue's mark price and liquidation rules, :mod:`perpsbook.twomarket`)
and ``crash --markets two`` its mirror image
:func:`perpsbook.scenarios.rocketcoin_crash_two_market` (a spot sale, longs liquidated,
the engine selling perp, hedges and arbitrage selling spot); both print
:meth:`perpsbook.twomarket.TwoMarketResult.stage_table`, or with ``--json``
:meth:`~perpsbook.twomarket.TwoMarketResult.to_dict` (every stage with ``spot_after``,
``perp_after``, ``index_after``, ``mark_after``; top level ``final_spot``, ``final_perp``,
``final_mark``, ``amplification``, ``ledger_imbalance``) plus the scenario's name, venue
and ``"markets": "two"``. ``--markets one`` (the default: the article's one-ladder story)
prints exactly what it always did. ``--venue`` and ``--arbitrage`` apply to two markets
only; ``--variant`` and ``--passthrough`` to one market only.

``--ignition`` takes any USD amount > 0 with one market (a subnormal one buys nothing and
the table shows an empty cascade); with ``--markets two`` it must be >= 1e-300 USD, the
floor of :class:`perpsbook.twomarket.TwoMarketParams`.

Bad options or values print one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from perpsbook.errors import PerpsbookError
from perpsbook.hedging import HEDGE_RATIO_MAX
from perpsbook.scenarios import (
    TWO_MARKET_VENUES,
    VARIANTS,
    rocketcoin,
    rocketcoin_crash,
    rocketcoin_crash_two_market,
    rocketcoin_two_market,
)
from perpsbook.twomarket import MAX_LAG, MAX_STAGES

__all__ = ["build_parser", "main"]

PROG = "perpsbook"
EXIT_USAGE = 2
MIN_TWO_MARKET_IGNITION = 1e-300  # TwoMarketParams: a subnormal ignition overflows the walk


class _UsageError(Exception):
    """A bad command line, reported as one line on stderr."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _add_run_options(p: argparse.ArgumentParser, verb: str) -> None:
    p.add_argument(
        "--markets",
        default="one",
        choices=("one", "two"),
        help="one ladder with one price (the article's story; default) or two markets: "
        "a spot book and a perp book, an index and the venue's mark price",
    )
    p.add_argument(
        "--venue",
        default=None,
        choices=TWO_MARKET_VENUES,
        help="with --markets two: whose mark price and liquidation rules (default: binance)",
    )
    p.add_argument(
        "--arbitrage",
        type=float,
        default=None,
        metavar="USD_PER_STAGE",
        help="with --markets two: basis arbitrage capacity in USD per stage, >= 0 "
        "(default: 0 = off)",
    )
    p.add_argument(
        "--max-stages",
        type=int,
        default=200,
        metavar="N",
        help=f"stop after N stages after the ignition, integer in [1, {MAX_STAGES:,}] "
        "(default: 200)",
    )
    p.add_argument(
        "--variant",
        default=None,
        choices=sorted(VARIANTS),
        metavar="NAME",
        help=f"how to read the article's numbers (default: default); one of "
        f"{', '.join(sorted(VARIANTS))}; see 'perpsbook variants'",
    )
    p.add_argument(
        "--ignition",
        type=float,
        metavar="USD",
        help=f"size of the ignition spot {verb} in USD, > 0 (default: the variant's, "
        "$200,000; the 'ignition_coins' variant uses 20,000 RKT)",
    )
    p.add_argument(
        "--hedge-ratio",
        type=float,
        default=1.0,
        metavar="H",
        help=f"coins of spot the market maker trades per perp coin it takes from the "
        f"liquidation engine, in [0, {HEDGE_RATIO_MAX:g}] (default: 1 = full delta hedge)",
    )
    p.add_argument(
        "--lag",
        type=int,
        default=0,
        metavar="N",
        help="stages between a liquidation and the market maker's hedge of it, integer "
        f">= 0 and <= {MAX_LAG:,} (default: 0 = same stage)",
    )
    p.add_argument(
        "--passthrough",
        type=float,
        default=None,
        metavar="W",
        help="share of the liquidation engine's order that walks the order book, in "
        "[0, 1] (default: 1; one market only)",
    )
    p.add_argument(
        "--insurance-fund",
        type=float,
        default=None,
        metavar="USD",
        help="insurance fund balance before the cascade in USD, >= 0 (default: 500,000)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object (summary, parameters, P&L and a 'stages' list) "
        "instead of the text table",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m perpsbook``."""
    parser = _Parser(
        prog=PROG,
        description="Run the RocketCoin (RKT) liquidation-cascade scenarios of the perpsbook "
        "textbook. Prices in USD per coin, sizes in coins (RKT), notional in USD.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    rocket = sub.add_parser(
        "rocket",
        help="short-liquidation rocket: ignition buy, liquidations, hedges, stage by stage",
        description="Run the RocketCoin short-liquidation rocket stage by stage and print "
        "the stage table (or JSON).",
    )
    _add_run_options(rocket, "buy")
    crash = sub.add_parser(
        "crash",
        help="the mirror image: a long-liquidation crash about $10",
        description="Run the mirror image of the rocket (prices p -> 20 - p, longs "
        "liquidated by a fall) and print the stage table (or JSON). Without --ignition "
        "the ignition sells the coins the rocket's ignition buys. With --markets two: "
        "a spot book and a perp book, the venue's mark price and liquidation rules.",
    )
    _add_run_options(crash, "sale")
    sub.add_parser(
        "variants",
        help="list the scenario variants",
        description="List the RocketCoin variants with a one-line description each.",
    )
    return parser


def _check_ranges(args: argparse.Namespace) -> None:
    # Bounds the models would reject anyway, checked first so that a huge --lag cannot
    # allocate a hedge queue before the error.
    if not 0 <= args.lag <= MAX_LAG:
        raise _UsageError(f"argument --lag: must be an integer in [0, {MAX_LAG}], got {args.lag}")
    if not 1 <= args.max_stages <= MAX_STAGES:
        raise _UsageError(
            f"argument --max-stages: must be an integer in [1, {MAX_STAGES}], got {args.max_stages}"
        )
    if args.markets == "one":
        for opt, value in (("--venue", args.venue), ("--arbitrage", args.arbitrage)):
            if value is not None:
                raise _UsageError(f"argument {opt}: applies to --markets two only")
    else:
        for opt, value in (("--variant", args.variant), ("--passthrough", args.passthrough)):
            if value is not None:
                raise _UsageError(f"argument {opt}: applies to --markets one only")
        if args.ignition is not None and 0.0 < args.ignition < MIN_TWO_MARKET_IGNITION:
            # the two-market engine's documented floor (TwoMarketParams), named as the option
            raise _UsageError(
                f"argument --ignition: must be >= {MIN_TWO_MARKET_IGNITION:g} USD with "
                f"--markets two, got {args.ignition!r}"
            )


def _scenario(args: argparse.Namespace) -> Any:
    kwargs: dict[str, Any] = {
        "hedge_ratio": args.hedge_ratio,
        "lag": args.lag,
        "ignition": args.ignition,
        "max_stages": args.max_stages,
    }
    if args.insurance_fund is not None:
        kwargs["insurance_fund"] = args.insurance_fund
    if args.markets == "two":
        if args.arbitrage is not None:
            kwargs["arbitrage_usd"] = args.arbitrage
        build2 = rocketcoin_two_market if args.command == "rocket" else rocketcoin_crash_two_market
        return build2(args.venue or "binance", **kwargs)
    kwargs["perp_passthrough"] = 1.0 if args.passthrough is None else args.passthrough
    build = rocketcoin if args.command == "rocket" else rocketcoin_crash
    return build(args.variant or "default", **kwargs)


def _run(args: argparse.Namespace) -> str:
    if args.command == "variants":
        width = max(len(k) for k in VARIANTS)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in VARIANTS.items())
    _check_ranges(args)
    scenario = _scenario(args)
    result = scenario.run()
    if args.markets == "two":
        if args.json:
            out = {"scenario": scenario.name, "venue": scenario.venue}
            out.update(result.to_dict())
            return json.dumps(out, allow_nan=False, indent=2)
        return (
            f"{scenario.name} [{scenario.venue}]: {scenario.description}\n\n{result.stage_table()}"
        )
    if args.json:
        out = {"scenario": scenario.name, "variant": scenario.variant}
        out.update(result.to_dict())
        return json.dumps(out, allow_nan=False, indent=2)
    header = f"{scenario.name} [{scenario.variant}]: {scenario.description}"
    return f"{header}\n\n{result.stage_table()}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m perpsbook``; returns the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 for a bad option or value (one line on stderr).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        text = _run(args)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except (_UsageError, PerpsbookError, ArithmeticError, MemoryError) as exc:
        message = " ".join(str(exc).split())
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # Output piped into e.g. `head`: stop quietly (recipe from the Python docs, "Note on
        # SIGPIPE"), pointing stdout at devnull so the interpreter's final flush is silent.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return 0
