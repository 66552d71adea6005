"""Execute the book's notebooks in place so their committed outputs are fresh.

Usage::

    python scripts/run_notebooks.py              # every book/*.ipynb
    python scripts/run_notebooks.py book/x.ipynb # just these

nbval (``pytest``) re-executes each notebook and compares its outputs with the committed
ones, so run this after changing a chapter or anything in ``perpsbook`` that it shows.
Execution metadata (timings) is dropped so that re-running an unchanged notebook leaves
the file byte-identical and diffs stay readable.
"""

from __future__ import annotations

import pathlib
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError

# Every chapter cell runs in seconds. A cell that takes longer has stalled (nbclient can
# miss the end of a widget cell, jupyter/nbclient#312): fail loudly and retry once rather
# than sit out a ten-minute timeout.
CELL_TIMEOUT_S = 120
ATTEMPTS = 2

ROOT = pathlib.Path(__file__).resolve().parent.parent

# The cause of that stall: a lost zmq wake-up on the client side (see _ext/zmq_wakeup.py);
# poll in short slices, as the book build does.
sys.path.insert(0, str(ROOT / "_ext"))
import zmq_wakeup  # noqa: E402

zmq_wakeup.install()


def run(path: pathlib.Path) -> None:
    for attempt in range(1, ATTEMPTS + 1):
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(
            nb,
            timeout=CELL_TIMEOUT_S,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
            record_timing=False,
        )
        try:
            client.execute()
            break
        except CellTimeoutError:
            print(f"{path.name}: a cell stalled for {CELL_TIMEOUT_S} s (attempt {attempt})")
            if attempt == ATTEMPTS:
                raise
    for cell in nb.cells:
        cell.get("metadata", {}).pop("execution", None)
    nb.metadata.pop("widgets", None) if not _has_widgets(nb) else None
    nbformat.write(nb, path)
    print(f"executed {path.relative_to(ROOT)}")


def _has_widgets(nb) -> bool:
    return any(
        "application/vnd.jupyter.widget-view+json" in out.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )


def main(argv: list[str]) -> int:
    paths = [pathlib.Path(a).resolve() for a in argv] or sorted((ROOT / "book").glob("*.ipynb"))
    for path in paths:
        run(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
