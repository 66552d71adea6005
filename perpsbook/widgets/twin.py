"""Kernel-free twins of the panels: precomputed frames switched by an inline script.

A live panel needs a Python kernel; the published book has none.
:func:`~perpsbook.widgets.static_twin` runs a panel's update function over a documented
grid of control values, once per grid point, when the notebook executes, and returns a
:class:`StaticTwin`: self-contained HTML (root element class ``pb-static-panel``) with one
real control per grid axis (an ``<input type="range">`` for numbers, a ``<select>`` for
choices), the precomputed images (PNG, base64) and texts, and a small inline script that
switches them. No kernel, no network, no external script.

The HTML is deterministic: the same bytes on every run on a machine (Agg draws the same
pixels, Pillow writes PNGs without metadata, the element id is a hash of the content),
because nbval compares the committed ``text/html`` output with a fresh one.
"""

from __future__ import annotations

import hashlib
import html
import io
import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from perpsbook.errors import InvalidInputError
from perpsbook.widgets.fastagg import CachingCanvas

__all__ = ["StaticTwin", "stage_player", "static_twin", "twin_png"]

TWIN_DPI = 100
"""Resolution of twin frames, dots per inch: the figures are 6.8 inches wide, so a frame
is 680 px, the width of the book's text column (drawn at the size it is shown)."""

TWIN_COLORS = 96
"""Palette size of twin frames: quantised PNGs are 3-5x smaller and look the same."""

MAX_TWIN_BYTES = 2_500_000
"""Largest twin accepted (HTML bytes): a chapter page stays under ~5 MB with two twins."""


def twin_png(fig: Any, *, dpi: float = TWIN_DPI, colors: int = TWIN_COLORS) -> bytes:
    """``fig`` as a small deterministic PNG (palette of ``colors``, no metadata); closes it."""
    from PIL import Image

    fig.set_dpi(dpi)
    canvas = fig.canvas if isinstance(fig.canvas, CachingCanvas) else CachingCanvas(fig)
    canvas.draw()
    rgb = np.asarray(canvas.buffer_rgba())[..., :3]
    plt.close(fig)
    img = Image.fromarray(np.ascontiguousarray(rgb)).quantize(
        colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )
    buf = io.BytesIO()
    img.save(buf, format="png", optimize=True)
    return buf.getvalue()


def _axis(name: str, spec: Any) -> tuple[list[str], list[Any]]:
    """Labels and values of one grid axis: a sequence of values or of (label, value)."""
    items = list(spec.items()) if isinstance(spec, Mapping) else list(spec)
    if not items:
        raise InvalidInputError(f"grid[{name!r}] must hold at least one value, got none")
    labels, values = [], []
    for item in items:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            labels.append(item[0])
            values.append(item[1])
        else:
            labels.append(f"{item:,g}" if isinstance(item, (int, float)) else str(item))
            values.append(item)
    return labels, values


class StaticTwin:
    """A kernel-free panel: HTML with controls over precomputed frames (see module doc).

    Attributes
    ----------
    html : str
        The self-contained HTML (root ``<div class="pb-static-panel">``).
    axes : list of (name, labels)
        The grid axes in order, with the label of each value.
    shape : tuple of int
        Values per axis; ``n_points = prod(shape)`` grid points.
    frames : list of bytes
        Distinct PNG frames (identical images are stored once).
    frame_of : list of int
        Frame index of each grid point (C order over ``shape``).
    texts : list of str
        Text of each grid point.
    """

    def __init__(self, html_text: str, axes, shape, frames, frame_of, texts, title) -> None:
        self.html = html_text
        self.axes = axes
        self.shape = tuple(shape)
        self.frames = frames
        self.frame_of = frame_of
        self.texts = texts
        self.title = title

    @property
    def n_points(self) -> int:
        """Number of grid points."""
        return int(np.prod(self.shape))

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<StaticTwin {self.title!r}: {self.n_points} grid points>"


_SCRIPT = """(function(){var r=document.getElementById(%(id)s);if(!r)return;
var D=%(data)s,c=r.querySelectorAll("[data-axis]"),
im=r.querySelector("img.pb-frame"),tx=r.querySelector("pre.pb-text");
function show(){var k=0;for(var a=0;a<c.length;a++){var i=parseInt(c[a].value,10);
k=k*D.shape[a]+i;var o=r.querySelector('output[data-axis-out="'+a+'"]');
if(o)o.textContent=D.labels[a][i];}
im.src="data:image/png;base64,"+D.frames[D.frame_of[k]];
if(tx)tx.textContent=D.texts[k];r.setAttribute("data-point",k);}
for(var a=0;a<c.length;a++){c[a].addEventListener("input",show);
c[a].addEventListener("change",show);}
var p=r.querySelector("button.pb-play");if(p){var t=null;
function stop(){clearInterval(t);t=null;p.textContent="\\u25B6 play";}
p.addEventListener("click",function(){if(t){stop();return;}
p.textContent="\\u25A0 stop";t=setInterval(function(){var s=c[0];
var n=(parseInt(s.value,10)+1)%%D.shape[0];s.value=n;show();
if(n===D.shape[0]-1)stop();},%(interval)d);});}})();"""


def static_twin(
    update: Callable[[dict[str, Any]], tuple[Any, str | None]],
    grid: Mapping[str, Any],
    *,
    fixed: Mapping[str, Any] | None = None,
    start: Mapping[str, Any] | None = None,
    descriptions: Mapping[str, str] | None = None,
    title: str = "",
    play: bool = False,
    interval_ms: int = 800,
    dpi: float = TWIN_DPI,
    max_bytes: int = MAX_TWIN_BYTES,
) -> StaticTwin:
    """Precompute a panel over a grid of control values; return its kernel-free twin.

    Parameters
    ----------
    update : callable(values) -> (Figure or None, str or None)
        A panel's update function (``Panel.update_function``), called once per grid point
        with ``{**fixed, **point}``.
    grid : mapping name -> sequence of values or of (label, value)
        One axis per control, in the order the controls are shown. Numeric axes get a
        range slider, string-labelled axes a ``<select>``.
    fixed : mapping, optional
        Values of the controls not on the grid.
    start : mapping name -> value, optional
        Value shown first on each axis (default each axis's first value).
    descriptions : mapping name -> str, optional
        Label shown next to each control (default the name).
    title : str
        Shown above the controls (and in the repr).
    play : bool
        Add a play button stepping the first axis (a stage player).
    interval_ms : int
        Time per step of the play button, ms.
    dpi : float
        Resolution of the frames.
    max_bytes : int
        Raise if the HTML is larger (keeps chapter pages small).

    Returns
    -------
    StaticTwin
        Display it (``_repr_html_``) or read ``.html``.
    """
    if not grid:
        raise InvalidInputError("grid must hold at least one axis, got none")
    fixed = dict(fixed or {})
    descriptions = dict(descriptions or {})
    names = list(grid)
    axes = [(n, *_axis(n, grid[n])) for n in names]
    shape = [len(a[2]) for a in axes]
    first = []
    for n, _labels, values in axes:
        want = (start or {}).get(n, values[0])
        if want not in values:
            raise InvalidInputError(f"start[{n!r}] must be one of {values!r}, got {want!r}")
        first.append(values.index(want))
    frames: list[bytes] = []
    index: dict[bytes, int] = {}
    frame_of: list[int] = []
    texts: list[str] = []
    for point in itertools.product(*(a[2] for a in axes)):
        fig, text = update({**fixed, **dict(zip(names, point, strict=True))})
        png = twin_png(fig, dpi=dpi) if fig is not None else b""
        if png not in index:
            index[png] = len(frames)
            frames.append(png)
        frame_of.append(index[png])
        texts.append(text or "")
    b64 = [_b64(f) for f in frames]
    data = {
        "shape": shape,
        "labels": [a[1] for a in axes],
        "frames": b64,
        "frame_of": frame_of,
        "texts": texts,
    }
    blob = json.dumps(data, separators=(",", ":"), sort_keys=True)
    uid = "pb-" + hashlib.sha1((title + blob).encode()).hexdigest()[:12]
    k0 = int(np.ravel_multi_index(first, shape))
    controls = []
    for a, ((n, labels, values), i0) in enumerate(zip(axes, first, strict=True)):
        desc = html.escape(descriptions.get(n, n))
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        if numeric and len(values) > 1:
            ctrl = (
                f'<input type="range" min="0" max="{len(values) - 1}" step="1" value="{i0}" '
                f'data-axis="{a}" aria-label="{desc}"> <output data-axis-out="{a}">'
                f"{html.escape(labels[i0])}</output>"
            )
        else:
            opts = "".join(
                f'<option value="{i}"{" selected" if i == i0 else ""}>{html.escape(lab)}</option>'
                for i, lab in enumerate(labels)
            )
            ctrl = f'<select data-axis="{a}" aria-label="{desc}">{opts}</select>'
        controls.append(f'<label style="margin-right:1.2em">{desc} {ctrl}</label>')
    if play:
        controls.insert(0, '<button type="button" class="pb-play">\u25b6 play</button> ')
    head = f'<div style="font-weight:bold">{html.escape(title)}</div>' if title else ""
    note = (
        '<div style="font-size:0.8em;color:#555">Precomputed for the values on these '
        "controls; run the notebook for the live panel.</div>"
    )
    img0 = f'<img class="pb-frame" style="max-width:100%" alt="{html.escape(title or names[0])}" '
    img0 += f'src="data:image/png;base64,{b64[frame_of[k0]]}">' if frames[0] else 'src="">'
    script = _SCRIPT % {
        "id": json.dumps(uid),
        "data": blob,
        "interval": int(interval_ms),
    }
    out = (
        f'<div class="pb-static-panel" id="{uid}" data-point="{k0}" '
        f'data-shape="{"x".join(map(str, shape))}">{head}'
        f'<div class="pb-controls">{"".join(controls)}</div>{img0}'
        f'<pre class="pb-text" style="font-size:0.85em;white-space:pre-wrap">'
        f"{html.escape(texts[k0])}</pre>{note}<script>{script}</script></div>"
    )
    if len(out.encode()) > max_bytes:
        raise InvalidInputError(
            f"the twin is {len(out.encode()):,} bytes, above max_bytes={max_bytes:,}: "
            "use fewer grid values or a lower dpi"
        )
    return StaticTwin(
        out, [(a[0], a[1]) for a in axes], shape, frames, frame_of, texts, title or names[0]
    )


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def stage_player(
    draw: Callable[[int], tuple[Any, str | None]],
    n_stages: int,
    *,
    title: str = "",
    labels: Sequence[str] | None = None,
    interval_ms: int = 800,
    dpi: float = TWIN_DPI,
) -> StaticTwin:
    """A kernel-free stepper: one frame per stage, a slider and a play button.

    Parameters
    ----------
    draw : callable(stage) -> (Figure or None, str or None)
        Draws stage ``0 .. n_stages - 1``.
    n_stages : int
        Number of frames, >= 1.
    labels : sequence of str, optional
        Slider readout per stage (default ``"0"``, ``"1"``...).

    Returns
    -------
    StaticTwin
        Root class ``pb-static-panel``, one ``<input type="range">`` over the stages.
    """
    if isinstance(n_stages, bool) or not isinstance(n_stages, int) or n_stages < 1:
        raise InvalidInputError(f"n_stages must be an integer >= 1, got {n_stages!r}")
    names = [str(k) for k in range(n_stages)] if labels is None else list(labels)
    if len(names) != n_stages:
        raise InvalidInputError(f"labels must have {n_stages} entries, got {len(names)}")
    return static_twin(
        lambda v: draw(int(v["stage"])),
        {"stage": list(zip(names, range(n_stages), strict=True))},
        descriptions={"stage": "stage"},
        title=title,
        play=True,
        interval_ms=interval_ms,
        dpi=dpi,
    )
