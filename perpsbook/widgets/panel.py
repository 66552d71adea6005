"""The panel helper: named controls, one pure update function, a figure and a text line.

Every interactive panel of the book is a :class:`Panel`: a dict of ipywidgets controls and
an ``update(values) -> (figure, text)`` function of the controls' values. The panel calls
``update`` once when it is built (so a notebook shows the default result before anyone
moves a control) and again on every change, and shows the figure as a PNG in an
``ipywidgets.Image`` and the text in a ``<pre>`` block. The same ``update`` function feeds
the panel's kernel-free twin (:func:`perpsbook.widgets.static_twin`).

Speed (a reader waits for every update; ``python benchmarks/panels.py`` measures it):

- most panels keep one figure (:class:`KeptFigure`) and redraw it in place, so axes and
  ticks are not rebuilt on every change;
- the figure is drawn once by Agg, reusing the bitmaps of texts it drew before
  (:class:`perpsbook.widgets.fastagg.CachingCanvas`), and encoded by Pillow at a fast
  compression level, instead of ``savefig`` (which draws again and writes metadata);
- a constrained layout is computed on the first update only: later updates reuse the
  axes positions, and titles sit at a fixed height (:data:`PANEL_RC`).
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from perpsbook.errors import InvalidInputError, PerpsbookError, check_finite
from perpsbook.widgets.fastagg import CachingCanvas

__all__ = ["KeptFigure", "Panel", "View", "check_choice", "check_range", "figure_png", "pre_html"]

View = tuple[Figure | None, str | None]
"""What an update function returns: a figure (or None) and a text (or None)."""

PANEL_RC = {"axes.titley": 1.0}
"""rcParams while a panel draws: titles at a fixed height (the book's figures have no
tick labels on top) instead of placed after measuring every axis, a fifth of a redraw."""

WIDE = {"description_width": "initial"}
"""Control style that shows a long description in full."""


class KeptFigure:
    """One figure kept across a panel's updates and redrawn in place.

    ``kept(plots.hedge_lag_figure, paths, title=...)`` calls the figure function with
    ``fig=`` the figure it returned last time (None the first time): the axes and ticks
    are reused, which takes about a third less time than a new figure and draws the same
    pixels. Figure functions that accept ``fig=``: rocket_overview_figure,
    order_impact_figure, hedge_lag_figure, equity_vs_mark_figure (the date-axis figures
    of the data chapter do not: reused, their gridlines came out a few pixels off).
    """

    def __init__(self) -> None:
        self.fig: Figure | None = None

    def __call__(self, figure_function: Callable[..., Figure], *args: Any, **kwargs: Any):
        self.fig = figure_function(*args, fig=self.fig, **kwargs)
        return self.fig


def check_range(name: str, value: Any, lo: float, hi: float, unit: str = "") -> float:
    """Return ``value`` as float; raise InvalidInputError unless finite and in [lo, hi].

    Every panel checks its starting values with this (a slider would otherwise clip an
    out-of-range start silently).
    """
    if isinstance(value, bool):
        raise InvalidInputError(f"{name} must be a number in [{lo:,g}, {hi:,g}], got {value!r}")
    x = float(check_finite(name, value))
    if not lo <= x <= hi:
        units = f" {unit}" if unit else ""
        raise InvalidInputError(f"{name} must be in [{lo:,g}, {hi:,g}]{units}, got {value!r}")
    return x


def check_choice(name: str, value: Any, options: Sequence[Any]) -> Any:
    """Return ``value``; raise InvalidInputError unless it is one of ``options``."""
    if value not in tuple(options):
        raise InvalidInputError(f"{name} must be one of {tuple(options)!r}, got {value!r}")
    return value


def figure_png(fig: Figure, *, close: bool = True, compress_level: int = 1) -> bytes:
    """Draw ``fig`` once with Agg and return it as PNG bytes (RGB, no metadata).

    The drawing reuses the bitmaps of texts drawn before (:mod:`perpsbook.widgets.fastagg`:
    the same pixels, a third less time).

    ``compress_level`` 1 encodes about ten times faster than Pillow's default for a
    slightly larger file; the output is the same bytes for the same figure on a machine.
    """
    from PIL import Image

    canvas = fig.canvas if isinstance(fig.canvas, CachingCanvas) else CachingCanvas(fig)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    buf = io.BytesIO()
    Image.fromarray(rgba[..., :3]).save(buf, format="png", compress_level=compress_level)
    if close:
        plt.close(fig)
    return buf.getvalue()


def pre_html(text: str | None) -> str:
    """``text`` as an HTML ``<pre>`` block (escaped), or an empty string."""
    if not text:
        return ""
    return (
        '<pre style="margin:0.3em 0;font-size:0.85em;line-height:1.25;white-space:pre-wrap">'
        f"{html.escape(text)}</pre>"
    )


def _freeze_layout(fig: Figure, positions: list | None) -> list | None:
    """Reuse ``positions`` (one bbox per axes) instead of a constrained-layout pass."""
    engine = fig.get_layout_engine()
    if engine is None or type(engine).__name__ != "ConstrainedLayoutEngine":
        return None
    if positions is not None and len(positions) == len(fig.axes):
        fig.set_layout_engine("none")
        for ax, pos in zip(fig.axes, positions, strict=True):
            ax.set_position(pos)
        return positions
    return None


class Panel(widgets.VBox):
    """Controls, a figure and a text, redrawn by one pure function of the controls' values.

    Parameters
    ----------
    controls : mapping name -> ipywidgets value widget
        The panel's controls; ``update`` receives ``{name: widget.value}``.
    update : callable(values) -> (Figure or None, str or None)
        Computes and draws the result for the values. It may raise a
        :class:`perpsbook.errors.PerpsbookError` for an input the controls allow but the
        model rejects: the panel then shows ``invalid input: <message>`` instead.
    rows : sequence of sequence of str, optional
        Control names per row (an ``HBox`` each); default all controls in one row.
    text_first : bool
        Show the text above the figure (default below).

    Attributes
    ----------
    controls : dict
        The controls by name (drive them in code: ``panel.controls["lag"].value = 2``).
    text : str
        The text of the last update.
    image : ipywidgets.Image
        The PNG of the last figure (``image.value`` is its bytes).
    updates : int
        Number of updates run so far.

    Examples
    --------
    >>> import ipywidgets as w
    >>> def update(v):
    ...     fig, ax = plt.subplots()
    ...     ax.plot([0, 1], [0, v["slope"]])
    ...     return fig, f"slope {v['slope']:g}"
    >>> p = Panel({"slope": w.FloatSlider(value=1.0, min=0.0, max=2.0)}, update)
    >>> p.text
    'slope 1'
    """

    def __init__(
        self,
        controls: Mapping[str, widgets.ValueWidget],
        update: Callable[[dict[str, Any]], View],
        *,
        rows: Sequence[Sequence[str]] | None = None,
        text_first: bool = False,
    ) -> None:
        if not controls:
            raise InvalidInputError("controls must hold at least one widget, got none")
        self.controls = dict(controls)
        self.update_function = update
        self.text = ""
        self.updates = 0
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.text_area = widgets.HTML()
        self._positions: list | None = None
        rows = [list(self.controls)] if rows is None else [list(r) for r in rows]
        named = [n for r in rows for n in r]
        if sorted(named) != sorted(self.controls):
            raise InvalidInputError(
                f"rows must name every control once, got {named!r} for {list(self.controls)!r}"
            )
        # a row of one control is the control itself, not an HBox around it
        boxes = [
            self.controls[r[0]] if len(r) == 1 else widgets.HBox([self.controls[n] for n in r])
            for r in rows
        ]
        body = [self.text_area, self.image] if text_first else [self.image, self.text_area]
        super().__init__([*boxes, *body])
        for w in self.controls.values():
            w.observe(self._on_change, names="value")
        self.refresh()

    def __repr__(self) -> str:
        # Shown as the VBox it is: the text/plain fallback of a panel cell in a committed
        # notebook then reads the same as before panels had their own class.
        return super().__repr__().replace(type(self).__name__, "VBox", 1)

    def values(self) -> dict[str, Any]:
        """The controls' current values, by name."""
        return {name: w.value for name, w in self.controls.items()}

    def _on_change(self, _change: Any = None) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Run the update for the current values and show its figure and text."""
        self.updates += 1
        try:
            with mpl.rc_context(PANEL_RC):
                fig, text = self.update_function(self.values())
        except PerpsbookError as exc:
            self.text = f"invalid input: {exc}"
            self.text_area.value = pre_html(self.text)
            return
        if fig is not None:
            frozen = _freeze_layout(fig, self._positions)
            png = figure_png(fig, close=False)
            if frozen is None and self._positions is None:
                self._positions = [ax.get_position() for ax in fig.axes]
            plt.close(fig)
            self.image.value = png
            self.image.layout.display = None
        else:
            self.image.layout.display = "none"
        self.text = text or ""
        self.text_area.value = pre_html(self.text)
