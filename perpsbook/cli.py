"""Command line: run the RocketCoin scenarios headless and print their stage tables.

Usage::

    python -m perpsbook rocket [--variant NAME] [--ignition USD] [--hedge-ratio H]
                               [--lag N] [--passthrough W] [--insurance-fund USD] [--json]
    python -m perpsbook crash  [same options]
    python -m perpsbook variants

``rocket`` runs :func:`perpsbook.scenarios.rocketcoin` and ``crash`` its mirror image
:func:`perpsbook.scenarios.rocketcoin_crash`; both print the stage table of
:meth:`perpsbook.cascade.CascadeResult.stage_table`, or with ``--json`` one JSON object
(:meth:`perpsbook.cascade.CascadeResult.to_dict` plus the scenario's name and variant).
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
from perpsbook.scenarios import VARIANTS, rocketcoin, rocketcoin_crash

__all__ = ["build_parser", "main"]

PROG = "perpsbook"
EXIT_USAGE = 2


class _UsageError(Exception):
    """A bad command line, reported as one line on stderr."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _add_run_options(p: argparse.ArgumentParser, verb: str) -> None:
    p.add_argument(
        "--variant",
        default="default",
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
        ">= 0 (default: 0 = same stage)",
    )
    p.add_argument(
        "--passthrough",
        type=float,
        default=1.0,
        metavar="W",
        help="share of the liquidation engine's order that walks the order book, in "
        "[0, 1] (default: 1)",
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
        "the ignition sells the coins the rocket's ignition buys.",
    )
    _add_run_options(crash, "sale")
    sub.add_parser(
        "variants",
        help="list the scenario variants",
        description="List the RocketCoin variants with a one-line description each.",
    )
    return parser


def _scenario(args: argparse.Namespace) -> Any:
    kwargs: dict[str, Any] = {
        "hedge_ratio": args.hedge_ratio,
        "lag": args.lag,
        "perp_passthrough": args.passthrough,
        "ignition": args.ignition,
    }
    if args.insurance_fund is not None:
        kwargs["insurance_fund"] = args.insurance_fund
    build = rocketcoin if args.command == "rocket" else rocketcoin_crash
    return build(args.variant, **kwargs)


def _run(args: argparse.Namespace) -> str:
    if args.command == "variants":
        width = max(len(k) for k in VARIANTS)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in VARIANTS.items())
    scenario = _scenario(args)
    result = scenario.run()
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
    except (_UsageError, PerpsbookError) as exc:
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
