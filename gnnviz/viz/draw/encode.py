"""One figure description drawn and encoded as bytes: PNG (our own encoder) or SVG (matplotlib's).

``render_figure(spec, fmt, dpi)`` calls the spec's pure plot function and encodes the ``Figure``
it returns; it writes nothing (``write.py`` does, after every figure is drawn).
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg


def render_figure(spec: Any, fmt: str, dpi: int) -> bytes:
    """One ``FigureSpec`` drawn and encoded as ``fmt`` ("png" or "svg")."""
    fig = spec.plot(*spec.args, **spec.kwargs)
    if fmt == "png":
        # The pixels savefig would write (same dpi and face colour, no bbox_inches), encoded here.
        fig.set_dpi(dpi)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        return encode_png(np.asarray(canvas.buffer_rgba()), dpi)
    buf = io.BytesIO()
    # SVG: text stays text (searchable, selectable), not one path per glyph.
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format=fmt, dpi=dpi)
    return buf.getvalue()


def encode_png(rgba: np.ndarray, dpi: float) -> bytes:
    """An [H, W, 4] uint8 image as PNG bytes: RGB when every pixel is opaque (figures are), rows
    unfiltered, zlib level 1, the dpi in a pHYs chunk.

    Measured on a 2140x2578 compare neighbourhood figure: 0.07 s and 1.2 MB, against 0.21 s and
    1.5 MB for matplotlib's writer (Pillow, RGBA, level 1), most of which went into choosing a
    filter per row; flat-coloured figures compress well without one.
    """
    h, w = rgba.shape[:2]
    opaque = bool((rgba[..., 3] == 255).all())
    pixels = rgba[..., :3] if opaque else rgba
    rows = np.empty((h, 1 + w * pixels.shape[2]), dtype=np.uint8)
    rows[:, 0] = 0  # filter type 0 (None) on every row
    rows[:, 1:] = pixels.reshape(h, -1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ppm = round(dpi / 0.0254)  # pixels per metre
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2 if opaque else 6, 0, 0, 0)),
            chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)),
            chunk(b"IDAT", zlib.compress(rows, 1)),  # the array itself: no copy as bytes
            chunk(b"IEND", b""),
        )
    )
