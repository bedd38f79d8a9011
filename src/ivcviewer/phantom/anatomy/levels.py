"""Levels of the phantom's frame: the IVC's landmarks and the vertebral bodies.

Frame: DICOM patient coordinates, supine, +x patient's left, +y posterior, +z superior. The
origin is on the midline, ``z = 0`` at the L1-L2 disc (where the renal veins join the IVC).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..sdf import F32

#: z of the renal-vein confluence (the L1-L2 disc), mm.
Z_RENAL = 0.0
#: z where the hepatic veins join the IVC, mm (just below the diaphragm).
Z_HEPATIC = 150.0
#: z of the cavo-atrial junction (upper end of the IVC), mm.
Z_CAVOATRIAL = 165.0

#: Vertebral bodies: name -> (bottom z, top z, semi-axis LR, semi-axis AP), mm.
BODIES: dict[str, tuple[float, float, float, float]] = {
    "T7": (180.0, 200.0, 17.0, 14.0),
    "T8": (154.0, 174.0, 17.0, 14.0),
    "T9": (127.0, 148.0, 17.5, 14.5),
    "T10": (99.0, 121.0, 18.5, 15.0),
    "T11": (70.0, 93.0, 19.5, 15.5),
    "T12": (39.0, 63.0, 21.0, 16.0),
    "L1": (5.0, 31.0, 22.5, 16.5),
    "L2": (-32.0, -5.0, 23.5, 17.0),
    "L3": (-70.0, -42.0, 24.5, 17.5),
    "L4": (-109.0, -81.0, 25.0, 17.5),
    "L5": (-148.0, -121.0, 26.0, 17.0),
}
#: Top of the sacrum (S1 body) and its semi-axes.
SACRUM = (-240.0, -159.0, 26.0, 16.0)


def spine_y(z: NDArray[np.float32] | float) -> NDArray[np.float32]:
    """y of the vertebral bodies' centre at height z (a gentle lumbar lordosis), mm.

    >>> round(float(spine_y(140.0)), 1), round(float(spine_y(-60.0)), 1)
    (27.9, 18.0)
    """
    zz = np.asarray(z, dtype=F32)
    return np.asarray(F32(28.0) - F32(10.0) * np.exp(-(((zz + F32(60.0)) / F32(90.0)) ** 2)), F32)
