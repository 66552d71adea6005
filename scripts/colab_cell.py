"""Give every chapter a first cell that installs perpsbook when, and only when, in Colab.

Usage::

    python scripts/colab_cell.py          # insert or update the cell in every chapter
    python scripts/colab_cell.py --check  # exit 1 if any chapter lacks the current cell

The chapters are the ``book/*.ipynb`` files listed in ``_toc.yml``.  The cell is tagged
``remove-cell`` (Jupyter Book leaves it off the site), prints nothing outside Colab (so the
committed outputs and nbval stay as they are) and installs from the repository URL written
once in ``_config.yml``.  Running the script twice changes nothing the second time.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import nbformat
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
CELL_ID = "colab-install"
TAGS = ["remove-cell", "colab-install"]


def repository(root: pathlib.Path = ROOT) -> tuple[str, str]:
    """(url, branch) of the repository, from ``_config.yml`` (the only place it is written)."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    repo = config.get("repository") or {}
    url = str(repo.get("url", "")).rstrip("/")
    if not url.startswith("https://"):
        raise SystemExit(f"colab_cell: _config.yml repository.url must be https://..., got {url!r}")
    return url, str(repo.get("branch", "main"))


def cell_source(url: str, branch: str) -> str:
    """The install cell's code (a no-op outside Colab)."""
    return (
        "# Colab only (hidden on the site): install perpsbook with its widgets extra and\n"
        "# turn on Colab's widget manager for ipywidgets 8. Elsewhere this does nothing.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    source = "git+{url}@{branch}"\n'
        '    %pip install --quiet "perpsbook[widgets] @ {source}"\n'
        "    from google.colab import output\n"
        "\n"
        "    output.enable_custom_widget_manager()"
    )


def chapters(root: pathlib.Path = ROOT) -> list[pathlib.Path]:
    """Notebooks listed in ``_toc.yml``, in book order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "file" in node:
                files.append(str(node["file"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    files.insert(0, str(toc.get("root", "")))
    walk(toc.get("parts") or toc.get("chapters") or [])
    found = []
    for name in dict.fromkeys(files):
        path = root / (name if name.endswith(".ipynb") else name + ".ipynb")
        if path.is_file():
            found.append(path)
    return found


def apply(nb: nbformat.NotebookNode, source: str) -> bool:
    """Make the notebook's first cell the install cell; True if anything changed."""
    existing = [i for i, c in enumerate(nb.cells) if c.get("id") == CELL_ID]
    cell = nb.cells[existing[0]] if existing else None
    wanted_meta = {"tags": TAGS}
    if (
        existing == [0]
        and cell.cell_type == "code"
        and cell.source == source
        and cell.metadata == wanted_meta
        and not cell.outputs  # executed or not: outside Colab it prints nothing
    ):
        return False
    for i in reversed(existing):
        del nb.cells[i]
    new = nbformat.v4.new_code_cell(source=source, metadata=wanted_meta)
    new.id = CELL_ID
    nb.cells.insert(0, new)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report; exit 1 if stale")
    parser.add_argument("--root", type=pathlib.Path, default=ROOT, help="book repository root")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    source = cell_source(*repository(root))
    stale = []
    for path in chapters(root):
        nb = nbformat.read(path, as_version=4)
        if apply(nb, source):
            stale.append(path.relative_to(root))
            if not args.check:
                nbformat.write(nb, path)
    verb = "lack the current Colab cell" if args.check else "updated"
    for path in stale:
        print(f"{verb}: {path}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
