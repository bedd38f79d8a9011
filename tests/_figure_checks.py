"""Checks of rendered figures: not blank, and the overlay's colours lie inside the body.

A figure of ``ivcviewer render`` is a greyscale CT with coloured findings. The body is the
region of grey pixels brighter than air (with its holes filled: air in the bowel, and the
findings themselves, which are coloured); every coloured pixel of the canvas must lie in it.
A finding drawn in the air beside the body fails the check.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

#: A pixel is coloured when its channels differ by more than this (greys differ by ~0).
CHROMA = 40
#: A grey pixel brighter than this is body, not air (the window 400/40 shows fat at ~40).
BODY_GREY = 25


def read_rgb(path: Path) -> NDArray[np.int16]:
    """The image at ``path`` as an ``(h, w, 3)`` int16 array."""
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.int16)


def coloured(rgb: NDArray[np.int16]) -> NDArray[np.bool_]:
    """Pixels whose channels differ: the overlay, not the CT or the scale bar."""
    return (rgb.max(axis=2) - rgb.min(axis=2)) > CHROMA


def body_mask(rgb: NDArray[np.int16]) -> NDArray[np.bool_]:
    """The body: grey pixels brighter than air, its largest connected piece, holes filled."""
    grey = ~coloured(rgb) & (rgb.mean(axis=2) > BODY_GREY)
    grey = ndimage.binary_opening(grey, iterations=2)  # drop the scale bar's thin lines
    lab, n = ndimage.label(grey)
    assert n > 0, "no body in the figure"
    sizes = ndimage.sum(grey, lab, range(1, n + 1))
    largest = lab == (1 + int(np.argmax(sizes)))
    return np.asarray(ndimage.binary_fill_holes(largest), dtype=bool)


def assert_overlay_inside_body(
    rgb: NDArray[np.int16], *, min_pixels: int = 200, outside_fraction: float = 0.01
) -> None:
    """At least ``min_pixels`` coloured pixels, nearly all inside the body."""
    over = coloured(rgb)
    count = int(np.count_nonzero(over))
    assert count >= min_pixels, f"only {count} overlay pixels"
    outside = int(np.count_nonzero(over & ~body_mask(rgb)))
    assert outside <= outside_fraction * count, f"{outside} of {count} overlay pixels outside"


def canvas_part(rgb: NDArray[np.int16], legend_fraction: float) -> NDArray[np.int16]:
    """The canvas of a figure whose legend strip (``legend_fraction`` of the canvas width) is
    on its right."""
    width = round(rgb.shape[1] / (1.0 + legend_fraction))
    return rgb[:, :width]


def assert_pdf(path: Path) -> None:
    """``path`` is a complete PDF of one page."""
    data = path.read_bytes()
    assert data.startswith(b"%PDF-"), path
    assert data.rstrip().endswith(b"%%EOF"), path
    assert b"/Count 1" in data, path
