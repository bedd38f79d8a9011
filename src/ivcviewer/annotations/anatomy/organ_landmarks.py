"""Landmarks read from the organs around the IVC: kidneys, liver and right psoas.

Each rule takes structure masks of a canonical grid (:mod:`.structures`) and gives the
landmark with how it was obtained; the rules themselves are described in the package
docstring (:mod:`ivcviewer.annotations.anatomy`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from ...errors import AnatomyError
from .centreline import IvcCentreline
from .structures import KIDNEYS, CanonicalGrid, slice_centroid, slice_range


@dataclass(frozen=True)
class Derived:
    """A point landmark and how it was obtained.

    Attributes
    ----------
    value
        ``(3,)`` LPS mm.
    method
        The rule that gave it (for the provenance).
    warnings
        What a user should know.
    truncated
        Whether it lies at the edge of the field of view (a bound, not a position).
    """

    value: NDArray[np.float64]
    method: str
    warnings: tuple[str, ...] = ()
    truncated: bool = False


def hilum_z(name: str, kidney: NDArray[np.bool_], grid: CanonicalGrid) -> tuple[float, str]:
    """The z of a kidney's hilum (its medial notch), and the rule that gave it."""
    k0, k1 = slice_range(kidney)
    h = k1 - k0
    lo, hi = int(math.floor(k0 + 0.2 * h)), int(math.ceil(k1 - 0.2 * h))
    # +x is the patient's left: the medial side of the right kidney is +x, of the left one -x
    medial_sign = 1.0 if name == "kidney_right" else -1.0
    from skimage.morphology import convex_hull_image

    weights, zs = [], []
    for k in range(lo, hi + 1):
        sec = kidney[k]
        if sec.sum() < 3:
            continue
        rr, cc = np.nonzero(sec)
        r0, r1, c0, c1 = rr.min(), rr.max() + 1, cc.min(), cc.max() + 1
        crop = sec[r0:r1, c0:c1]
        # an opening drops the one-pixel slivers any digitised convex outline leaves
        notch = ndi.binary_opening(convex_hull_image(crop) & ~crop)
        if not notch.any():
            continue
        nr, nc = np.nonzero(notch)
        cr, cc_ = slice_centroid(crop)
        x_notch = grid.aff[0, 1] * (nr - cr) + grid.aff[0, 2] * (nc - cc_)
        medial = int((medial_sign * x_notch > 0).sum())
        if medial:
            weights.append(float(medial))
            zs.append(float(grid.lps(k, cr + r0, cc_ + c0)[2]))
    total = float(sum(weights))
    if total >= 0.01 * float(kidney.sum()):
        z = float(np.average(zs, weights=weights))
        return z, "medial notch (hilum) of the convex hull, area-weighted"
    kc = np.argwhere(kidney).mean(axis=0)
    return float(grid.lps(*kc)[2]), "mid-height (no medial notch found)"


def renal_level(
    kidneys: Mapping[str, NDArray[np.bool_]], grid: CanonicalGrid
) -> tuple[float, str, tuple[str, ...]]:
    """The renal-vein level: the mean hilum z of the kidneys present (name -> mask).

    Returns the z (LPS mm), the rule that gave it and any warning.
    """
    if not kidneys:
        raise AnatomyError(
            "The label map has neither 'kidney_left' nor 'kidney_right', which landmark(s) "
            "renal_vein_confluence, right_psoas_at_mass need. Fix: give a label map with "
            "the kidneys (TotalSegmentator class names), a names table mapping their label "
            "values, or give those landmarks as points."
        )
    levels = {}
    how = []
    for n, m in kidneys.items():
        levels[n], rule = hilum_z(n, m, grid)
        how.append(f"{n} hilum z {levels[n]:.1f} mm ({rule})")
    warnings: tuple[str, ...] = ()
    if len(kidneys) == 1:
        lost = next(n for n in KIDNEYS if n not in kidneys)
        warnings = (
            f"{lost} is absent: the renal-vein confluence uses the other kidney's hilum only.",
        )
    return (
        float(np.mean(list(levels.values()))),
        "IVC centreline at the mean hilum level of the kidneys: " + "; ".join(how),
        warnings,
    )


def renal_vein_confluence(z: float, centreline: IvcCentreline) -> NDArray[np.float64]:
    """The IVC centreline point at the renal-vein level ``z``; AnatomyError outside the IVC."""
    pts = centreline.points
    if not pts[0, 2] <= z <= pts[-1, 2]:
        raise AnatomyError(
            f"The renal-vein level (z = {z:.1f} mm, from the kidneys' hila) lies outside "
            f"the inferior_vena_cava mask ({pts[0, 2]:.1f} to {pts[-1, 2]:.1f} mm), which "
            "landmark renal_vein_confluence needs. Fix: give a label map whose IVC covers "
            "the renal veins, or give the landmark as a point."
        )
    return centreline.point_at(centreline.k_of_z(z))


def intrahepatic_run(
    ivc: NDArray[np.bool_],
    liver: NDArray[np.bool_],
    ks: NDArray[np.float64],
    grid: CanonicalGrid,
    ring_mm: float,
    liver_fraction: float,
) -> tuple[int, int, NDArray[np.float64]]:
    """``(k_low, k_high, fraction per IVC slice)`` of the liver-surrounded IVC segment.

    ``ks`` are the IVC centreline's slices; a slice belongs to the segment when at least
    ``liver_fraction`` of a ``ring_mm`` ring around its IVC section is liver.
    """
    pad_r = int(math.ceil(ring_mm / grid.row_mm)) + 1
    pad_c = int(math.ceil(ring_mm / grid.col_mm)) + 1
    frac = np.zeros(ks.size)
    for i, kf in enumerate(ks):
        k = int(kf)
        sec = ivc[k]
        if not sec.any():
            continue
        rr, cc = np.nonzero(sec)
        r0, r1 = max(rr.min() - pad_r, 0), min(rr.max() + pad_r + 1, sec.shape[0])
        c0, c1 = max(cc.min() - pad_c, 0), min(cc.max() + pad_c + 1, sec.shape[1])
        crop = sec[r0:r1, c0:c1]
        dist = ndi.distance_transform_edt(~crop, sampling=(grid.row_mm, grid.col_mm))
        ring = (dist > 0) & (dist <= ring_mm)
        if ring.any():
            frac[i] = float((liver[k, r0:r1, c0:c1] & ring).sum()) / float(ring.sum())
    inside = frac >= liver_fraction
    if inside.size > 2:
        inside = inside | ndi.binary_closing(inside, np.ones(3, bool))
    lab, n = ndi.label(inside)
    if n == 0:
        raise AnatomyError(
            "No slice of inferior_vena_cava is surrounded by liver (at least "
            f"{liver_fraction:.0%} of a {ring_mm:g} mm ring), which landmarks "
            "intrahepatic_ivc_lower, hepatic_vein_confluence need. Fix: check that the "
            "label map's liver and IVC cover the upper abdomen, or give those landmarks "
            "as points."
        )
    sizes = np.bincount(lab)[1:]
    best = int(np.argmax(sizes)) + 1  # the first longest run (deterministic)
    idx = np.flatnonzero(lab == best)
    return int(ks[idx[0]]), int(ks[idx[-1]]), frac


def psoas_at(
    psoas: NDArray[np.bool_], grid: CanonicalGrid, z: float, mass_z_given: bool
) -> Derived:
    """``right_psoas_at_mass``: the centroid of the psoas section nearest to the level ``z``."""
    zs = np.array([grid.lps(k, 0, 0)[2] for k in range(grid.nk)])
    has = psoas.any(axis=(1, 2))
    cand = np.flatnonzero(has)
    k = int(cand[np.argmin(np.abs(zs[cand] - z))])
    dist = abs(float(zs[k] - z))
    warnings: tuple[str, ...] = ()
    if dist > 10.0:
        warnings = (
            f"iliopsoas_right does not reach the mass level (z = {z:.1f} mm); its nearest "
            f"section, {dist:.0f} mm away, was used for right_psoas_at_mass.",
        )
    r, c = slice_centroid(psoas[k])
    level = "the given mass level" if mass_z_given else "the renal-vein level"
    method = f"centroid of the iliopsoas_right section at {level} (slice {k})"
    return Derived(grid.lps(k, r, c), method, warnings)


def liver_lower_edge(
    liver: NDArray[np.bool_], centreline: IvcCentreline | None, grid: CanonicalGrid
) -> Derived:
    """``liver_lower_edge``: the centroid of the lowest liver section right of the IVC."""
    sel = liver
    rule = "centroid of the lowest liver section"
    if centreline is not None:
        x_ivc = float(centreline.points[:, 0].mean())
        kk, rr, cc = np.nonzero(liver)
        aff = grid.aff
        x = aff[0, 0] * kk + aff[0, 1] * rr + aff[0, 2] * cc + aff[0, 3]
        right = x < x_ivc
        if right.any():
            sel = np.zeros_like(liver)
            sel[kk[right], rr[right], cc[right]] = True
            rule += " on the patient's right of the IVC"
    k0, _ = slice_range(sel)
    r, c = slice_centroid(sel[k0])
    return Derived(grid.lps(k0, r, c), f"{rule} (slice {k0})", truncated=k0 == 0)
