"""Structure masks of a label map on its canonical grid, and that grid's geometry.

What the landmark rules (:mod:`.centreline`, :mod:`.organ_landmarks`) read: each structure's
mask, cleared of small islands, built once when first asked for; and the canonical ``(S, P, L)``
grid that turns slice, row and column into LPS mm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from ...errors import AnatomyError
from ...volume import Volume

#: Structures each landmark needs in a label map (all of them, except the kidneys: one suffices).
LANDMARK_STRUCTURES: dict[str, tuple[str, ...]] = {
    "ivc_centreline": ("inferior_vena_cava",),
    "renal_vein_confluence": ("inferior_vena_cava", "kidney_left", "kidney_right"),
    "intrahepatic_ivc_lower": ("inferior_vena_cava", "liver"),
    "hepatic_vein_confluence": ("inferior_vena_cava", "liver"),
    "cavo_atrial_junction": ("inferior_vena_cava",),
    "right_psoas_at_mass": ("iliopsoas_right", "inferior_vena_cava", "kidney_left", "kidney_right"),
    "liver_lower_edge": ("liver",),
}

#: The kidneys, either of which places the renal-vein confluence.
KIDNEYS = ("kidney_left", "kidney_right")

#: Connected pieces of a structure smaller than this fraction of its largest piece are dropped.
MIN_PIECE_FRACTION = 0.1


def main_components(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The mask without small islands (pieces under 10 % of the largest piece).

    Large pieces are all kept, so that a vessel interrupted on a slice stays whole.

    >>> m = np.zeros((1, 1, 30), bool); m[0, 0, :20] = True; m[0, 0, 25] = True
    >>> int(main_components(m).sum())
    20
    """
    lab, n = ndi.label(mask)
    if n <= 1:
        return mask
    sizes = np.bincount(lab.ravel())
    sizes[0] = 0
    keep = np.flatnonzero(sizes >= MIN_PIECE_FRACTION * sizes.max())
    return np.asarray(np.isin(lab, keep))


class LabelStructures:
    """Masks of named structures on a canonical grid, built lazily, with missing-name errors.

    Parameters
    ----------
    labels
        The label map on its canonical grid.
    names
        Label value -> structure name (several values may share a name).
    required
        The landmarks that must be derived (named in the error of a missing structure).
    """

    def __init__(self, labels: Volume, names: Mapping[int, str], required: list[str]) -> None:
        self.vol = labels
        self.required = required
        self.by_name: dict[str, list[int]] = {}
        for value, name in names.items():
            self.by_name.setdefault(str(name), []).append(int(value))
        self._cache: dict[str, NDArray[np.bool_] | None] = {}

    def get(self, name: str) -> NDArray[np.bool_] | None:
        """The structure's mask without small islands, or None when it is absent or empty."""
        if name not in self._cache:
            values = self.by_name.get(name)
            mask = None
            if values:
                m = np.isin(self.vol.array, values)
                if m.any():
                    mask = main_components(m)
            self._cache[name] = mask
        return self._cache[name]

    def need(self, name: str, deriving: str) -> NDArray[np.bool_]:
        """The structure's mask; AnatomyError naming it and the landmarks that need it."""
        m = self.get(name)
        if m is None:
            present = "absent from the label names" if name not in self.by_name else "empty"
            landmarks = [deriving] + [
                n
                for n, structs in LANDMARK_STRUCTURES.items()
                if name in structs and n in self.required and n != deriving
            ]
            raise AnatomyError(
                f"The label map has no {name!r} ({present}), which landmark(s) "
                f"{', '.join(landmarks)} need. Fix: give a label map with {name!r} "
                "(TotalSegmentator class names), a names table mapping its label value to "
                f"{name!r}, or give those landmarks as points."
            )
        return m


def slice_range(mask: NDArray[np.bool_]) -> tuple[int, int]:
    """First and last slice (axis 0) holding any voxel of the mask."""
    ks = np.flatnonzero(mask.any(axis=(1, 2)))
    return int(ks[0]), int(ks[-1])


def slice_centroid(mask2d: NDArray[np.bool_]) -> tuple[float, float]:
    """``(row, col)`` centroid of a 2D mask."""
    rc = np.argwhere(mask2d)
    m = rc.mean(axis=0)
    return float(m[0]), float(m[1])


@dataclass(frozen=True)
class CanonicalGrid:
    """The geometry of a label map brought to canonical ``(S, P, L)`` axes.

    Attributes
    ----------
    aff
        The canonical affine (voxel -> LPS mm).
    nk
        Number of axial slices.
    dz
        Slice spacing (mm).
    pixel_area
        Area of an in-plane pixel (mm^2).
    row_mm, col_mm
        In-plane spacing along rows and columns (mm).
    """

    aff: NDArray[np.float64]
    nk: int
    dz: float
    pixel_area: float
    row_mm: float
    col_mm: float

    @classmethod
    def of(cls, vol: Volume) -> CanonicalGrid:
        """The grid of a volume already on canonical axes (:meth:`Volume.to_canonical`)."""
        aff = vol.affine
        dz = abs(float(aff[2, 0]))
        return cls(
            aff=aff,
            nk=vol.shape[0],
            dz=dz,
            pixel_area=vol.voxel_volume_mm3 / dz,
            row_mm=float(np.linalg.norm(aff[:3, 1])),
            col_mm=float(np.linalg.norm(aff[:3, 2])),
        )

    def lps(self, k: float, r: float, c: float) -> NDArray[np.float64]:
        """LPS mm of a (fractional) voxel position ``(slice, row, col)``."""
        return np.asarray(self.aff[:3, :3] @ [k, r, c] + self.aff[:3, 3], dtype=float)
