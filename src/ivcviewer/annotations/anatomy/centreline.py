"""The IVC centreline derived from a label map's ``inferior_vena_cava`` (:func:`ivc_centreline`).

Per slice of the IVC mask (canonical grid): the centroid, and the equivalent radius
``sqrt(area / pi)``. Slices missing inside the IVC's range are interpolated. Centroids are
smoothed along the vessel with a Gaussian; the axial area is corrected for the vessel's slope
(the cross-section perpendicular to the centreline) before the radius is taken, and the radius
is smoothed the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from ...errors import AnatomyError
from .structures import CanonicalGrid, slice_centroid, slice_range


@dataclass(frozen=True)
class IvcCentreline:
    """The IVC centreline on a canonical grid, feet to head.

    Attributes
    ----------
    points
        ``(N, 3)`` LPS mm.
    radii
        ``(N,)`` local radius, mm.
    ks
        ``(N,)`` canonical slice index of each point.
    method
        How it was derived (for the provenance).
    warnings
        What a user should know (slices interpolated, the IVC cut by the field of view).
    """

    points: NDArray[np.float64]
    radii: NDArray[np.float64]
    ks: NDArray[np.float64]
    method: str
    warnings: tuple[str, ...]

    def point_at(self, k: float) -> NDArray[np.float64]:
        """The centreline point at a fractional canonical slice index."""
        return np.array([np.interp(k, self.ks, self.points[:, i]) for i in range(3)])

    def k_of_z(self, z: float) -> float:
        """Fractional canonical slice index at height z (on the IVC centreline)."""
        return float(np.interp(z, self.points[:, 2], self.ks))


def ivc_centreline(
    ivc: NDArray[np.bool_], grid: CanonicalGrid, smoothing_mm: float
) -> IvcCentreline:
    """The IVC centreline and radius from the IVC mask of a canonical grid.

    Parameters
    ----------
    ivc
        ``inferior_vena_cava`` on the canonical grid (small islands removed).
    grid
        That grid.
    smoothing_mm
        Gaussian sigma (mm, along the vessel) for the centroids and the radius.

    Raises
    ------
    AnatomyError
        The IVC spans a single slice.
    """
    k0, k1 = slice_range(ivc)
    if k1 == k0:
        raise AnatomyError(
            "inferior_vena_cava spans a single slice; a centreline needs at least two. "
            "Fix: give a label map covering the IVC over several slices."
        )
    warnings: list[str] = []
    ks = np.arange(k0, k1 + 1)
    area = ivc[k0 : k1 + 1].sum(axis=(1, 2)).astype(float)
    present = area > 0
    rows = np.full(ks.size, np.nan)
    cols = np.full(ks.size, np.nan)
    for i in np.flatnonzero(present):
        rows[i], cols[i] = slice_centroid(ivc[ks[i]])
    if not present.all():
        gap = int((~present).sum())
        warnings.append(
            f"inferior_vena_cava is absent on {gap} slice(s) inside its range; its "
            "centreline was interpolated there."
        )
        for arr in (rows, cols, area):
            arr[~present] = np.interp(ks[~present], ks[present], arr[present])
    sigma = smoothing_mm / grid.dz
    if sigma > 0 and ks.size > 1:
        rows = ndi.gaussian_filter1d(rows, sigma, mode="nearest")
        cols = ndi.gaussian_filter1d(cols, sigma, mode="nearest")
    pts = np.stack([grid.lps(float(k), r, c) for k, r, c in zip(ks, rows, cols, strict=True)])
    tangent = np.gradient(pts, axis=0)
    cos = np.abs(tangent[:, 2]) / np.linalg.norm(tangent, axis=1)
    radius = np.sqrt(area * grid.pixel_area * cos / math.pi)
    if sigma > 0:
        radius = ndi.gaussian_filter1d(radius, sigma, mode="nearest")
    method = (
        f"per-slice centroid and equivalent radius of inferior_vena_cava (slices {k0}-{k1}), "
        f"Gaussian-smoothed over {smoothing_mm:g} mm, radius corrected for the slope"
    )
    if k0 == 0:
        warnings.append(
            "inferior_vena_cava reaches the bottom of the field of view: the centreline "
            "starts there, not at the iliac confluence."
        )
    return IvcCentreline(pts, radius, ks.astype(float), method, tuple(warnings))
