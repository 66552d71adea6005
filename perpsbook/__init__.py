"""perpsbook: perpetual futures, margin, liquidation and cascades, in numpy.

The package behind the perpsbook interactive textbook. One module per idea:

- :mod:`perpsbook.errors` — the error classes and input checks every module uses.

Units everywhere: prices in USD per coin, sizes in coins, notional in USD, rates as
fractions; side +1 is long / buy and -1 is short / sell.
"""

from perpsbook.errors import (
    BookError,
    InsufficientLiquidityError,
    InvalidInputError,
    InvalidSideError,
    LeverageError,
    PerpsbookError,
    ScheduleError,
)

__version__ = "0.1.0"

__all__ = [
    "BookError",
    "InsufficientLiquidityError",
    "InvalidInputError",
    "InvalidSideError",
    "LeverageError",
    "PerpsbookError",
    "ScheduleError",
    "__version__",
]
