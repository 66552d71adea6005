"""Local Sphinx extension for the perpsbook site (loaded from ``_config.yml``).

It does what Jupyter Book 1.x cannot be configured to do:

* Drop repeated ``<script>`` tags from every page.  sphinx-thebe registers its inline
  ``const THEBE_JS_URL = ...`` script on ``env-before-read-docs``; with Sphinx 7 the
  registration is replayed, so every page carried the script twice and the browser
  logged ``Identifier 'THEBE_JS_URL' has already been declared``.  Keeping the first
  copy of each identical script fixes that without touching the launch buttons
  (Binder and Colab are plain links built by sphinx-book-theme).
* Make notebook execution immune to the lost ZeroMQ wake-up that stalled builds for the
  full cell timeout (see ``zmq_wakeup.py`` for the cause).
* Point the Font Awesome 4 stylesheet that matplotlib's ``to_jshtml`` players link on a
  CDN at the copy bundled in ``_static/font-awesome`` (rewritten in the built HTML).
* Check that the widget renderer and MathJax are served from ``_static`` (bundled in
  ``book/_static``, see ``book/_static/LICENSES.md``), so the built site needs no network.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import zmq_wakeup
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

__all__ = ["dedupe_scripts", "localize_font_awesome", "setup"]


def _script_key(script: object) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A hashable identity for one entry of Sphinx's ``script_files``."""
    filename = getattr(script, "filename", None) or ""
    attributes = getattr(script, "attributes", None) or {}
    return str(filename), tuple(sorted((str(k), str(v)) for k, v in attributes.items()))


def dedupe_scripts(scripts: list) -> list:
    """Return ``scripts`` without repeats (same file and same attributes), order kept."""
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    kept = []
    for script in scripts:
        key = _script_key(script)
        if key in seen:
            continue
        seen.add(key)
        kept.append(script)
    return kept


# matplotlib.animation.HTMLWriter/to_jshtml: <link rel="stylesheet" href="https://maxcdn...
FONT_AWESOME_CDN = re.compile(
    r"https?://(?:maxcdn|stackpath|netdna)\.bootstrapcdn\.com/font-awesome/4\.[0-9.]+/css/"
    r"font-awesome(?:\.min)?\.css"
)
FONT_AWESOME_LOCAL = "_static/font-awesome/css/font-awesome.min.css"


def localize_font_awesome(html: str, to_root: str) -> str:
    """Replace CDN Font Awesome 4 stylesheet URLs with the bundled copy.

    ``to_root`` is the relative path from the page to the site root ("" or "../").
    """
    return FONT_AWESOME_CDN.sub(to_root + FONT_AWESOME_LOCAL, html)


def _on_build_finished(app: Sphinx, exc: Exception | None) -> None:
    if exc is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    for page in outdir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        if not FONT_AWESOME_CDN.search(text):
            continue
        to_root = os.path.relpath(outdir, page.parent).replace(os.sep, "/")
        to_root = "" if to_root == "." else to_root + "/"
        page.write_text(localize_font_awesome(text, to_root), encoding="utf-8")


def _on_html_page_context(app, pagename, templatename, context, doctree) -> None:
    if "script_files" in context:
        context["script_files"] = dedupe_scripts(list(context["script_files"]))


def _check_bundled_assets(app: Sphinx) -> None:
    """Fail early if a configured local script is missing from the static folders."""
    wanted = [app.config.mathjax_path, *getattr(app.config, "nb_ipywidgets_js", {})]
    static_dirs = [Path(app.confdir, p) for p in app.config.html_static_path]
    for rel in wanted:
        if not rel or "://" in rel:
            continue
        if not any((d / rel).is_file() for d in static_dirs):
            raise ExtensionError(f"perpsbook_site: {rel!r} not found in html_static_path")


def setup(app: Sphinx) -> dict:
    # Before myst-nb executes anything (it executes while reading sources).
    zmq_wakeup.install()
    app.connect("builder-inited", _check_bundled_assets)
    # Run late so every other extension has added its scripts first.
    app.connect("html-page-context", _on_html_page_context, priority=900)
    app.connect("build-finished", _on_build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
