"""The published book, tested in a real browser (headless Chromium through Playwright).

For every page in ``_toc.yml`` the built site (``_build/html``, built here if it is missing
or older than its sources) is served on 127.0.0.1 and loaded with every request to another
host blocked and recorded.  Each page must: answer HTTP 200; log no console errors; load
every image; render its math with the bundled MathJax (no raw ``\\(`` left); draw every
embedded widget view with a non-zero height; make every kernel-free panel
(``.pb-static-panel`` or a matplotlib jshtml player) change what it shows when its first
control is used; and ask no other host for anything.  Screenshots go to
``_build/screenshots/`` (not committed), with ``external_requests.txt`` listing what was
blocked.

The browser is the system's Chromium (``/usr/bin/chromium``, Debian package ``chromium``;
override with ``PERPSBOOK_CHROMIUM``); Playwright never downloads one.  Without Chromium or
the ``playwright`` package the tests skip with the reason; ``PERPSBOOK_REQUIRE_BROWSER=1``
(set by ``.ci/run``) turns that skip into a failure.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import pathlib
import shutil
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = os.environ.get("PERPSBOOK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REQUIRE = os.environ.get("PERPSBOOK_REQUIRE_BROWSER", "") not in ("", "0")
# What the built site depends on: a change in any of these makes _build/html stale.
SOURCES = ["_config.yml", "_toc.yml", "book", "_ext", "perpsbook"]
WIDGET_VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]'
# Kernel-free panels: our own twins, and matplotlib's to_jshtml player (div.animation).
PANEL_ROOTS = ".pb-static-panel, div.animation"
CONTROLS = "input, select, button, textarea"


def toc_pages() -> list[str]:
    """Every page of the book, as paths under _build/html (root first, in toc order)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [str(toc["root"])]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "file" in node:
                files.append(str(node["file"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(toc.get("parts") or toc.get("chapters") or [])
    return [pathlib.PurePosixPath(f).with_suffix("").as_posix() + ".html" for f in files]


PAGES = toc_pages()


def _unavailable() -> str | None:
    """Why the browser test cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install -r requirements.txt)"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    return None


def _newest_mtime(paths: list[pathlib.Path]) -> float:
    newest = 0.0
    for path in paths:
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            for f in path.rglob("*"):
                if (
                    f.is_file()
                    and "__pycache__" not in f.parts
                    and ".ipynb_checkpoints" not in f.parts
                ):
                    newest = max(newest, f.stat().st_mtime)
    return newest


def site_is_stale() -> bool:
    """True if _build/html is missing a page or is older than any source of the site."""
    if not all((HTML / page).is_file() for page in PAGES):
        return True
    built = max(p.stat().st_mtime for p in HTML.glob("**/*.html"))
    return _newest_mtime([ROOT / s for s in SOURCES]) > built


def build_site() -> None:
    """The README's build command, run in this interpreter's environment."""
    exe = pathlib.Path(sys.executable).with_name("jupyter-book")
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", ".", "-W", "-n", "--keep-going"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0 or not (HTML / "index.html").is_file():
        pytest.fail(
            f"book build failed ({' '.join(cmd)}):\n{proc.stdout[-4000:]}{proc.stderr[-4000:]}"
        )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # signature fixed by the base class
        pass


@pytest.fixture(scope="module")
def built_site() -> pathlib.Path:
    """_build/html, built first if it is missing or older than its sources."""
    if site_is_stale():
        build_site()
    return HTML


@pytest.fixture(scope="module")
def site_url(request):
    """_build/html (built if stale) served on a free port of 127.0.0.1."""
    reason = _unavailable()
    if reason:
        if REQUIRE:
            pytest.fail(f"browser test required (PERPSBOOK_REQUIRE_BROWSER) but {reason}")
        pytest.skip(f"browser test skipped: {reason}")
    request.getfixturevalue("built_site")
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser(site_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def external_log():
    """Every blocked request to another host, written out when the module finishes."""
    log: list[tuple[str, str]] = []
    yield log
    SHOTS.mkdir(parents=True, exist_ok=True)
    lines = [f"{page}\t{url}" for page, url in log] or ["(none)"]
    (SHOTS / "external_requests.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


# JavaScript run in the page -------------------------------------------------------------

MATH_STATE = """() => {
  const article = document.querySelector('article') || document.body;
  const copy = article.cloneNode(true);
  copy.querySelectorAll('pre, code, script, style, textarea, mjx-container')
      .forEach(e => e.remove());
  const text = copy.textContent;
  return {
    sources: document.querySelectorAll('.math').length,
    rendered: document.querySelectorAll('mjx-container').length,
    raw: ['\\\\(', '\\\\[', '$$'].filter(s => text.includes(s)),
  };
}"""

WIDGETS_DRAWN = """(selector) => {
  const views = Array.from(document.querySelectorAll(selector));
  return views.map((tag, i) => {
    const area = tag.previousElementSibling;
    const drawn = area && area.classList.contains('widget-subarea');
    const h = drawn ? area.getBoundingClientRect().height : 0;
    return {index: i, drawn: !!drawn, height: h};
  });
}"""

BROKEN_IMAGES = """() => Array.from(document.images)
  .filter(img => !(img.complete && img.naturalWidth > 0))
  .map(img => (img.currentSrc || img.src || '(no src)').slice(0, 120))"""

# What a panel shows: its markup without its controls, plus every image's current source.
PANEL_VIEW = """(root, controls) => {
  const copy = root.cloneNode(true);
  copy.querySelectorAll(controls).forEach(e => e.remove());
  const imgs = Array.from(root.querySelectorAll('img')).map(i => i.currentSrc || i.src);
  const canvases = Array.from(root.querySelectorAll('canvas')).map(c => {
    try { return c.toDataURL(); } catch (e) { return ''; }
  });
  return copy.innerHTML + '\\n' + imgs.join('\\n') + '\\n' + canvases.join('\\n');
}"""


def use_first_control(root) -> str:
    """Operate the panel's first control as a reader would; return what was done."""
    control = root.locator(CONTROLS).first
    control.scroll_into_view_if_needed()
    tag = control.evaluate("e => e.tagName.toLowerCase()")
    kind = (control.get_attribute("type") or "").lower()
    if tag == "select":
        options = control.evaluate("e => Array.from(e.options).map(o => o.value)")
        current = control.input_value()
        other = next((o for o in options if o != current), None)
        if other is None:
            return "select with a single option"
        control.select_option(other)
        return f"select -> {other!r}"
    if tag == "input" and kind == "range":
        at_max = control.evaluate("e => Number(e.value) >= Number(e.max || 100)")
        control.focus()
        control.press("Home" if at_max else "End")
        return f"range -> {'min' if at_max else 'max'}"
    if tag == "input" and kind in ("number", "text", "search"):
        value = control.input_value()
        try:
            new = str(float(value) + 1.0)
        except ValueError:
            new = value + "x"
        control.fill(new)
        control.press("Enter")
        return f"{kind} -> {new}"
    control.click()
    return f"click {tag}{'[' + kind + ']' if kind else ''}"


def check_panels(page) -> list[str]:
    """Problems with the page's kernel-free panels (empty if each one responds)."""
    problems = []
    roots = page.locator(PANEL_ROOTS)
    for i in range(roots.count()):
        root = roots.nth(i)
        if root.locator(CONTROLS).count() == 0:
            problems.append(f"panel {i}: no control inside")
            continue
        before = root.evaluate(PANEL_VIEW, CONTROLS)
        action = use_first_control(root)
        deadline = time.monotonic() + 5.0
        after = before
        while time.monotonic() < deadline:
            page.wait_for_timeout(100)
            after = root.evaluate(PANEL_VIEW, CONTROLS)
            if after != before:
                break
        if after == before:
            problems.append(f"panel {i}: nothing changed after {action}")
    return problems


def check_page(browser, site_url: str, path: str, external: list, shots: bool = True) -> list[str]:
    """Load one page and return every problem found (empty list = page is fine)."""
    from playwright.sync_api import Error as PlaywrightError

    host = urlsplit(site_url).netloc
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    errors: list[str] = []
    blocked: list[str] = []

    def route(r):
        url = r.request.url
        if urlsplit(url).netloc == host or url.startswith(("data:", "blob:", "about:")):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.on(
        "response",
        lambda r: errors.append(f"HTTP {r.status} for {r.url}") if r.status >= 400 else None,
    )
    try:
        response = page.goto(f"{site_url}/{path}", wait_until="load", timeout=60_000)
        if response is None or response.status != 200:
            problems.append(f"HTTP {None if response is None else response.status}")
        # MathJax typesets asynchronously after load.
        page.wait_for_function(
            "() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)", timeout=30_000
        )
        page.evaluate("() => window.MathJax ? MathJax.startup.promise.then(() => true) : true")
        n_views = page.locator(WIDGET_VIEW).count()
        if n_views:
            # Reported view by view below if this times out.
            with contextlib.suppress(PlaywrightError):
                page.wait_for_function(
                    """(s) => Array.from(document.querySelectorAll(s)).every(t =>
                         t.previousElementSibling &&
                         t.previousElementSibling.classList.contains('widget-subarea') &&
                         t.previousElementSibling.getBoundingClientRect().height > 0)""",
                    arg=WIDGET_VIEW,
                    timeout=30_000,
                )
            for view in page.evaluate(WIDGETS_DRAWN, WIDGET_VIEW):
                if not view["drawn"] or view["height"] <= 0:
                    problems.append(f"widget view {view['index']} not drawn ({view})")
        page.wait_for_load_state("networkidle", timeout=30_000)
        math = page.evaluate(MATH_STATE)
        if math["raw"]:
            problems.append(f"raw TeX delimiters left in the text: {math['raw']}")
        if math["sources"] and not math["rendered"]:
            problems.append(f"{math['sources']} math elements but no MathJax output")
        broken = page.evaluate(BROKEN_IMAGES)
        if broken:
            problems.append(f"images not loaded: {broken}")
        if shots:
            SHOTS.mkdir(parents=True, exist_ok=True)
            shot = SHOTS / (path.replace("/", "__") + ".png")
            page.screenshot(path=str(shot), full_page=True)
        problems.extend(check_panels(page))
        if shots:  # the phone-width view, for reading (not asserted here)
            page.set_viewport_size({"width": 390, "height": 844})
            page.wait_for_timeout(300)
            narrow = SHOTS / (path.replace("/", "__") + ".390px.png")
            page.screenshot(path=str(narrow), full_page=True)
    finally:
        context.close()
    problems.extend(f"console error: {e}" for e in errors)
    problems.extend(f"request to another host (blocked): {u}" for u in blocked)
    external.extend((path, u) for u in blocked)
    return problems


@pytest.mark.parametrize("path", PAGES)
def test_page_in_browser(browser, site_url, external_log, path):
    problems = check_page(browser, site_url, path, external_log)
    assert not problems, f"{path}:\n  " + "\n  ".join(problems)


# The checker itself, on a page made to pass and pages made to fail -------------------------

PANEL_OK = """<!doctype html><html><body><article><p>x</p>
<div class="pb-static-panel"><input type="range" min="0" max="2" value="0">
<img alt="frame"></div>
<script>
const frames = ['a', 'b', 'c'].map(c => {
  const k = document.createElement('canvas'); k.width = 4; k.height = 4;
  const g = k.getContext('2d'); g.fillStyle = {a: 'red', b: 'green', c: 'blue'}[c];
  g.fillRect(0, 0, 4, 4); return k.toDataURL();
});
const panel = document.querySelector('.pb-static-panel');
const img = panel.querySelector('img'); img.src = frames[0];
panel.querySelector('input').addEventListener('input', e => { img.src = frames[e.target.value]; });
</script></article></body></html>"""

PANEL_DEAD = PANEL_OK.replace("addEventListener('input'", "addEventListener('nothing'")


def _jshtml_page() -> str:
    """A page holding a real matplotlib ``to_jshtml`` player (three frames)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    fig, ax = plt.subplots(figsize=(2, 1.5), dpi=50)
    (line,) = ax.plot([0, 1], [0, 0])
    anim = FuncAnimation(fig, lambda k: line.set_ydata([0, k]), frames=3)
    player = anim.to_jshtml(default_mode="once")
    plt.close(fig)
    return f"<!doctype html><html><body><article>{player}</article></body></html>"


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory, browser):
    root = tmp_path_factory.mktemp("panels")
    (root / "ok.html").write_text(PANEL_OK, encoding="utf-8")
    (root / "dead.html").write_text(PANEL_DEAD, encoding="utf-8")
    # As the build does: the player's CDN Font Awesome link -> the bundled copy.
    sys.path.insert(0, str(ROOT / "_ext"))
    from perpsbook_site import localize_font_awesome

    shutil.copytree(ROOT / "book" / "_static" / "font-awesome", root / "_static" / "font-awesome")
    (root / "jshtml.html").write_text(localize_font_awesome(_jshtml_page(), ""), encoding="utf-8")
    (root / "math.html").write_text(
        "<!doctype html><html><body><article><p>\\(x^2\\)</p></article></body></html>",
        encoding="utf-8",
    )
    (root / "img.html").write_text(
        '<!doctype html><html><body><article><img src="missing.png"></article></body></html>',
        encoding="utf-8",
    )
    (root / "cdn.html").write_text(
        '<!doctype html><html><body><script src="https://cdn.example.org/x.js"></script>'
        "</body></html>",
        encoding="utf-8",
    )
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ok.html", None),
        ("jshtml.html", None),
        ("dead.html", "panel 0: nothing changed"),
        ("math.html", "raw TeX"),
        ("img.html", "images not loaded"),
        ("cdn.html", "request to another host"),
    ],
)
def test_checker_catches_what_it_should(browser, fixture_site, name, expected, tmp_path):
    problems = check_page(browser, fixture_site, name, [], shots=False)
    problems = [p for p in problems if not p.startswith("console error: Failed to load")]
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p for p in problems), problems


def test_toc_pages_are_the_books_pages():
    assert PAGES[0] == "book/index.html"
    assert all(p.endswith(".html") and "/./" not in p for p in PAGES)
    assert len(PAGES) == len(set(PAGES)) >= 2


# The site's build machinery, without a browser -------------------------------------------

sys.path.insert(0, str(ROOT / "_ext"))
sys.path.insert(0, str(ROOT / "scripts"))


def test_duplicate_scripts_are_dropped_once_each():
    from perpsbook_site import dedupe_scripts
    from sphinx.builders.html._assets import _JavaScript

    thebe = _JavaScript("", body='const THEBE_JS_URL = "x"')
    other = _JavaScript("", body="const y = 1")
    files = [_JavaScript("a.js"), thebe, _JavaScript("a.js"), other, thebe, _JavaScript("b.js")]
    kept = dedupe_scripts(files)
    assert [getattr(s, "filename", s) for s in kept] == ["a.js", "", "", "b.js"]
    assert sum("THEBE_JS_URL" in str(s.attributes.get("body", "")) for s in kept) == 1
    assert dedupe_scripts(kept) == kept


def test_font_awesome_cdn_link_points_at_the_bundled_copy():
    from perpsbook_site import FONT_AWESOME_LOCAL, localize_font_awesome

    link = (
        '<link href="https://maxcdn.bootstrapcdn.com/font-awesome/4.4.0/css/font-awesome.min.css">'
    )
    assert localize_font_awesome(link, "../") == f'<link href="../{FONT_AWESOME_LOCAL}">'
    assert localize_font_awesome("<p>no link</p>", "") == "<p>no link</p>"
    assert (ROOT / "book" / FONT_AWESOME_LOCAL).is_file()


def test_bundled_assets_named_in_config_exist():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    sphinx_config = config["sphinx"]["config"]
    static = [ROOT / p for p in sphinx_config["html_static_path"]]
    wanted = [sphinx_config["mathjax_path"], *sphinx_config["nb_ipywidgets_js"]]
    assert wanted, "no bundled scripts configured"
    for rel in wanted:
        assert "://" not in rel, f"{rel} is fetched from the network"
        assert any((d / rel).is_file() for d in static), rel


def test_launch_links_open_the_chapter_in_binder_and_colab(built_site):
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["repository"].get("path_to_book", "") in ("", None)
    repo = config["repository"]["url"].split("github.com/", 1)[1].rstrip("/")
    branch = config["repository"]["branch"]
    chapters = [p for p in PAGES if (ROOT / p).with_suffix(".ipynb").is_file()]
    assert chapters
    for page in chapters:
        html = (built_site / page).read_text(encoding="utf-8")
        nb = pathlib.PurePosixPath(page).with_suffix(".ipynb").as_posix()
        assert f"https://colab.research.google.com/github/{repo}/blob/{branch}/{nb}" in html
        assert f"https://mybinder.org/v2/gh/{repo}/{branch}?urlpath=tree/{nb}" in html
        assert "/./" not in html.replace("://", "")


def test_repository_url_is_written_once():
    import colab_cell

    url, _ = colab_cell.repository()
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    offenders = []
    for name in tracked:
        path = ROOT / name
        if name == "_config.yml" or name.startswith("book/_static/") or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if name.endswith(".ipynb"):  # the generated Colab cell derives it from _config.yml
            import nbformat

            nb = nbformat.reads(text, as_version=4)
            text = "\n".join(c.source for c in nb.cells if c.get("id") != colab_cell.CELL_ID)
        if url.split("://", 1)[1] in text:
            offenders.append(name)
    assert offenders == [], f"repository URL written outside _config.yml: {offenders}"


def _mini_book(tmp_path: pathlib.Path, url: str = "https://github.com/o/r") -> pathlib.Path:
    import nbformat

    (tmp_path / "book").mkdir()
    (tmp_path / "_config.yml").write_text(f"repository:\n  url: {url}\n  branch: main\n")
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/index\nchapters:\n  - file: book/a\n  - file: book/b\n"
    )
    (tmp_path / "book" / "index.md").write_text("# x\n")
    for name in ("a", "b", "not_in_toc"):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell("# A"), nbformat.v4.new_code_cell("1 + 1")]
        nbformat.write(nb, tmp_path / "book" / f"{name}.ipynb")
    return tmp_path


def test_colab_cell_is_inserted_first_hidden_and_idempotent(tmp_path):
    import colab_cell
    import nbformat

    root = _mini_book(tmp_path)
    assert colab_cell.main(["--root", str(root), "--check"]) == 1
    assert colab_cell.main(["--root", str(root)]) == 0
    before = {p.name: p.read_bytes() for p in (root / "book").glob("*.ipynb")}
    assert colab_cell.main(["--root", str(root)]) == 0
    assert colab_cell.main(["--root", str(root), "--check"]) == 0
    assert {p.name: p.read_bytes() for p in (root / "book").glob("*.ipynb")} == before
    nb = nbformat.read(root / "book" / "a.ipynb", as_version=4)
    first = nb.cells[0]
    assert first.id == colab_cell.CELL_ID and "remove-cell" in first.metadata["tags"]
    assert 'if "google.colab" in sys.modules:' in first.source
    assert "git+https://github.com/o/r@main" in first.source and "[widgets]" in first.source
    assert [c.source for c in nb.cells[1:]] == ["# A", "1 + 1"]
    untouched = nbformat.read(root / "book" / "not_in_toc.ipynb", as_version=4)
    assert all(c.get("id") != colab_cell.CELL_ID for c in untouched.cells)


def test_colab_cell_follows_the_configured_url(tmp_path):
    import colab_cell
    import nbformat

    root = _mini_book(tmp_path)
    colab_cell.main(["--root", str(root)])
    (root / "_config.yml").write_text("repository:\n  url: https://github.com/n/m\n  branch: dev\n")
    assert colab_cell.main(["--root", str(root), "--check"]) == 1
    colab_cell.main(["--root", str(root)])
    nb = nbformat.read(root / "book" / "b.ipynb", as_version=4)
    assert sum(c.get("id") == colab_cell.CELL_ID for c in nb.cells) == 1
    assert "git+https://github.com/n/m@dev" in nb.cells[0].source


def test_colab_cell_is_a_no_op_outside_colab(capsys):
    import colab_cell
    from IPython.core.inputtransformer2 import TransformerManager

    code = TransformerManager().transform_cell(colab_cell.cell_source("https://x.org/r", "main"))
    namespace: dict = {}
    exec(compile(code, "colab-cell", "exec"), namespace)  # no get_ipython needed: branch skipped
    assert capsys.readouterr().out == ""
    assert "google.colab" not in sys.modules


def test_every_chapter_has_the_current_colab_cell():
    """Run ``python scripts/colab_cell.py`` after adding or merging chapters."""
    import colab_cell

    assert colab_cell.main(["--check"]) == 0


def _fake_channel_class(message_after_polls: int | None):
    """A channel whose wake-up is always missed: a long poll never returns the message."""
    import asyncio
    from queue import Empty

    class Channel:
        async def get_msg(self, timeout=None):
            type(self).calls.append(timeout)
            if message_after_polls is not None and len(type(self).calls) > message_after_polls:
                return {"msg_type": "execute_reply"}
            await asyncio.sleep(3600 if timeout is None else timeout)
            raise Empty

    Channel.calls = []
    return Channel


def _run_coroutine(coro):
    """Run ``coro`` on a fresh event loop in a worker thread (Playwright's sync API may
    already be running a loop in this one)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def test_zmq_wakeup_recovers_a_missed_wakeup(monkeypatch):

    import zmq_wakeup
    from jupyter_client.channels import AsyncZMQSocketChannel

    fake = _fake_channel_class(message_after_polls=3)
    monkeypatch.setattr(AsyncZMQSocketChannel, "get_msg", fake.get_msg)
    zmq_wakeup.install(slice_s=0.05)
    zmq_wakeup.install(slice_s=0.05)  # idempotent: wraps the original once
    t0 = time.monotonic()
    msg = _run_coroutine(AsyncZMQSocketChannel.get_msg(fake(), timeout=600))
    assert msg == {"msg_type": "execute_reply"}
    assert time.monotonic() - t0 < 5
    assert all(t is not None and t <= 0.05 for t in fake.calls)


def test_zmq_wakeup_still_times_out_at_the_deadline(monkeypatch):
    from queue import Empty

    import zmq_wakeup
    from jupyter_client.channels import AsyncZMQSocketChannel

    fake = _fake_channel_class(message_after_polls=None)
    monkeypatch.setattr(AsyncZMQSocketChannel, "get_msg", fake.get_msg)
    zmq_wakeup.install(slice_s=0.05)
    t0 = time.monotonic()
    with pytest.raises(Empty):
        _run_coroutine(AsyncZMQSocketChannel.get_msg(fake(), timeout=0.3))
    assert 0.25 <= time.monotonic() - t0 < 3
    with pytest.raises(ValueError, match="slice_s"):
        zmq_wakeup.install(slice_s=0)
