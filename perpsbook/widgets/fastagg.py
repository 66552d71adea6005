"""An Agg canvas that remembers the pixels of the texts it has drawn.

About half of the time matplotlib's Agg backend spends drawing a book figure goes into
text: tick labels, axis labels, titles, legends are laid out and rasterised glyph by
glyph on every draw, although a panel update redraws mostly the same strings at the same
places. :class:`CachingCanvas` keeps, per (string, font, size, angle, dpi, sub-pixel
position), the glyph bitmaps the first draw produced and replays them afterwards, so the
pixels are the same as Agg's own; only the colour is applied on every draw.

Used by the panels (:mod:`perpsbook.widgets.panel`), never by the book's static figures.
"""

from __future__ import annotations

import math
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg

__all__ = ["CachingCanvas", "CachingRenderer", "clear_text_cache"]

_CACHE: dict[tuple, list[tuple[Any, int, int]]] = {}
_CACHE_MAX = 5_000  # strings (a few kB each); a panel session uses a few hundred


def clear_text_cache() -> None:
    """Forget every remembered text bitmap."""
    _CACHE.clear()


class _Recorder:
    """Stands in for the C++ renderer while one string is rasterised: keeps the glyphs
    (drawn afterwards at the real position) and passes anything else through."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.glyphs: list[tuple[Any, int, int]] = []

    def draw_text_image(self, buffer: Any, x: int, y: int, angle: float, gc: Any) -> None:
        self.glyphs.append((buffer.copy(), int(x), int(y)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class CachingRenderer(RendererAgg):
    """RendererAgg whose plain (non-math) texts are rasterised once per position class."""

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        features = mtext.get_fontfeatures() if mtext is not None else None
        language = mtext.get_language() if mtext is not None else None
        if ismath or features or language:
            return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        # An integer shift of the origin shifts every glyph by the same whole pixels, so
        # the bitmaps depend on the fractional part of the position only.
        ix, iy = math.floor(x), math.floor(y)
        key = (
            s,
            hash(prop),
            prop.get_size_in_points(),
            angle,
            self.dpi,
            x - ix,
            y - iy,
            bool(gc.get_antialiased()),
            self.height,
        )
        glyphs = _CACHE.get(key)
        if glyphs is None:
            recorder = _Recorder(self._renderer)
            self._renderer = recorder
            try:
                super().draw_text(gc, x - ix, y - iy, s, prop, angle, ismath, mtext)
            finally:
                self._renderer = recorder.real
            if len(_CACHE) >= _CACHE_MAX:
                _CACHE.clear()
            _CACHE[key] = glyphs = recorder.glyphs
        for buffer, gx, gy in glyphs:
            self._renderer.draw_text_image(buffer, gx + ix, gy + iy, 0, gc)
        return None


class CachingCanvas(FigureCanvasAgg):
    """FigureCanvasAgg drawing with a :class:`CachingRenderer`."""

    def get_renderer(self) -> RendererAgg:
        w, h = self.get_width_height(physical=True)
        key = w, h, self.figure.dpi
        if self._lastKey != key:
            self.renderer = CachingRenderer(w, h, self.figure.dpi)
            self._lastKey = key
        return self.renderer
