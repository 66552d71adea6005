"""``python -m perpsbook``: the command line (see :mod:`perpsbook.cli`)."""

from __future__ import annotations

import sys

from perpsbook.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
