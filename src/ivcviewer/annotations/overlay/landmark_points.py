"""Landmarks on the CT's grid: which lie outside its field of view, and the points to show."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ... import geometry
from .. import vocabulary as voc
from ..anatomy import Landmarks
from ..casefile import CaseFile
from .results import LandmarkPoint


def outside_grid(
    points_lps: NDArray[np.float64], shape: tuple[int, int, int], affine: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Per point: whether it lies outside the grid's voxels (beyond half a voxel)."""
    ijk = geometry.lps_to_voxel(affine, np.atleast_2d(np.asarray(points_lps, dtype=float)))
    hi = np.asarray(shape, dtype=float) - 0.5
    return np.asarray(np.any((ijk < -0.5) | (ijk > hi), axis=1))


def landmarks_outside(
    shape: tuple[int, int, int],
    affine: NDArray[np.float64],
    landmarks: Landmarks,
    names: list[str] | None = None,
) -> list[str]:
    """The landmarks (of ``names``, default all) that lie outside a grid's field of view.

    A point landmark is outside when its voxel lies beyond the grid; ``ivc_centreline`` when
    every one of its points does. Landmarks derived from a label map of the same CT never lie
    outside (one at the edge is truncated, not outside); landmarks of another scan may.
    """
    wanted = list(landmarks.points_lps) if names is None else list(names)
    out = [
        n
        for n in wanted
        if n in landmarks.points_lps
        and bool(outside_grid(landmarks.points_lps[n], shape, affine)[0])
    ]
    c = landmarks.centreline_lps
    if (names is None or "ivc_centreline" in wanted) and c is not None and len(c):
        if bool(np.all(outside_grid(c, shape, affine))):
            out.append("ivc_centreline")
    return out


def landmark_points(case: CaseFile, landmarks: Landmarks) -> list[LandmarkPoint]:
    """The point landmarks (with the case file's names and colours) and the point findings."""
    out: list[LandmarkPoint] = []
    for n in voc.POINT_LANDMARKS:
        if n not in landmarks.points_lps:
            continue
        spec = case.landmark_spec(n)
        p = landmarks.points_lps[n]
        out.append(
            LandmarkPoint(
                n,
                spec.name,
                spec.colour,
                (float(p[0]), float(p[1]), float(p[2])),
                landmarks.is_truncated(n),
                None,
                n,
                spec.description or voc.LANDMARKS[n],
            )
        )
    for f in case.spatial_findings:
        if f.kind != "landmark" or f.relations.at_landmark is None:
            continue
        lm = f.relations.at_landmark
        landmarks.require([lm])
        p = landmarks.point(lm)
        out.append(
            LandmarkPoint(
                f.id,
                f.name,
                f.colour or "#FFFF00",
                (float(p[0]), float(p[1]), float(p[2])),
                landmarks.is_truncated(lm),
                f.id,
                lm,
                f.description,
            )
        )
    return out
