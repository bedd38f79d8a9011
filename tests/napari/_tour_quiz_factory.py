"""Shared helpers of the tour and quiz tests: a fitted Case overlay and screenshot colours."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

#: A channel must exceed another by this much for a pixel to count as coloured.
MARGIN = 40


def coloured_pixels(img: NDArray[np.uint8], colour: str) -> int:
    """Pixels of a screenshot tinted like ``colour`` (``#rrggbb``) over a grey CT.

    The CT is grey (its channels equal); a finding blended over it keeps the order of its
    colour's channels: a channel that is clearly larger in the colour stays clearly larger.
    """
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    px = img[..., :3].astype(int)
    ok = np.ones(px.shape[:2], dtype=bool)
    for a in range(3):
        for b in range(3):
            if rgb[a] - rgb[b] > 2 * MARGIN:
                ok &= px[..., a] - px[..., b] > MARGIN
    return int(np.count_nonzero(ok))


def any_colour(img: NDArray[np.uint8]) -> int:
    """Pixels of a screenshot that are not grey (any overlay colour at all)."""
    px = img[..., :3].astype(int)
    return int(np.count_nonzero(px.max(axis=2) - px.min(axis=2) > MARGIN))
