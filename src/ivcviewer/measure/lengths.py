"""Lengths in LPS millimetres: straight segments, point-to-point lengths and voxel steps.

A length measured on a grid is only as exact as the grid: :func:`voxel_step_mm` is one voxel's
length along a direction (extents add one such step to the span of the voxel centres) and
:func:`voxel_projection_mm` is the widest a voxel is along it (the bound of the discretisation
error). Both go through the volume's affine, so they hold on anisotropic and oblique grids.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import geometry
from ..errors import MeasurementError

#: Patient axes in the order of the LPS components: left-right (x), antero-posterior (y),
#: cranio-caudal (z).
PATIENT_AXES: tuple[str, str, str] = ("lr", "ap", "cc")

#: Unit vectors of the LPS axes (rows), in the order of :data:`PATIENT_AXES`.
LPS_UNIT_VECTORS = np.eye(3)


def float_list(v: ArrayLike) -> list[float]:
    """The values of an array as a flat list of Python floats (for JSON).

    >>> float_list(np.array([[1, 2], [3, 4]]))
    [1.0, 2.0, 3.0, 4.0]
    """
    return [float(x) for x in np.asarray(v, dtype=float).ravel()]


@dataclass(frozen=True)
class Segment:
    """A straight measurement between two LPS points."""

    length_mm: float
    start_lps: NDArray[np.float64]
    end_lps: NDArray[np.float64]

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``length_mm``, ``start_lps``, ``end_lps``."""
        return {
            "length_mm": self.length_mm,
            "start_lps": float_list(self.start_lps),
            "end_lps": float_list(self.end_lps),
        }


def _point(p: ArrayLike, name: str) -> NDArray[np.float64]:
    try:
        a = np.asarray(p, dtype=float)
    except (TypeError, ValueError):
        a = np.full(1, np.nan)
    if a.shape != (3,) or not np.all(np.isfinite(a)):
        raise MeasurementError(
            f"Argument {name!r} must be one finite LPS point (x, y, z) in mm, got {p!r}."
        )
    return a


def line_length_mm(p_lps: ArrayLike, q_lps: ArrayLike) -> float:
    """Euclidean distance in mm between two LPS points.

    Points given in voxel indices must first go through the affine
    (:func:`ivcviewer.geometry.voxel_to_lps`); that is where anisotropy and obliquity enter.

    >>> line_length_mm([0, 0, 0], [3, 4, 12])
    13.0
    """
    return float(np.linalg.norm(_point(q_lps, "q_lps") - _point(p_lps, "p_lps")))


def _unit(direction_lps: ArrayLike) -> NDArray[np.float64]:
    u = np.asarray(direction_lps, dtype=float)
    norm = float(np.linalg.norm(u)) if u.shape == (3,) else 0.0
    if not math.isfinite(norm) or norm == 0.0:
        raise MeasurementError(
            f"Argument 'direction_lps' must be a non-zero LPS vector, got {direction_lps!r}."
        )
    return np.asarray(u / norm, dtype=float)


def voxel_step_mm(affine: ArrayLike, direction_lps: ArrayLike) -> float:
    """One voxel's length along an LPS direction, mm: the voxel step in that direction.

    It is the length of the segment through a voxel centre, along the direction, inside that
    voxel's cell: ``1 / max_k |(A^-1 u)_k|`` for the unit direction ``u`` and the affine's
    linear part ``A``. Along a grid axis it is that axis's spacing. Extents and oriented box
    sizes add one such step to the span of the voxel centres.

    >>> voxel_step_mm(np.diag([0.7, 0.7, 2.5, 1.0]), [0, 0, 1])
    2.5
    >>> round(voxel_step_mm(np.diag([0.7, 0.7, 2.5, 1.0]), [1, 1, 0]), 6)  # in-plane diagonal
    0.989949
    """
    u = _unit(direction_lps)
    inv = np.linalg.inv(geometry.as_affine(affine)[:3, :3])
    return float(1.0 / np.abs(inv @ u).max())


def voxel_projection_mm(affine: ArrayLike, direction_lps: ArrayLike) -> float:
    """Length of one voxel cell's shadow on an LPS direction, mm: ``sum_k |a_k . u|``.

    This is the widest a voxel is along the direction, and the bound of the discretisation
    error of a length measured along it. It equals :func:`voxel_step_mm` along a grid axis and
    exceeds it along any other direction.

    >>> round(voxel_projection_mm(np.diag([0.7, 0.7, 2.5, 1.0]), [1, 1, 0]), 6)
    0.989949
    >>> round(voxel_projection_mm(np.diag([0.7, 0.7, 2.5, 1.0]), [1, 0, 1]), 6)
    2.262742
    """
    u = _unit(direction_lps)
    return float(np.abs(u @ geometry.as_affine(affine)[:3, :3]).sum())


def steps_mm(lin: NDArray[np.float64], dirs: NDArray[np.float64]) -> NDArray[np.float64]:
    """Voxel step (mm) along each unit direction (rows of ``dirs``)."""
    return np.asarray(1.0 / np.abs(dirs @ np.linalg.inv(lin).T).max(axis=1), dtype=float)


def patient_axis_voxel_mm(affine: ArrayLike) -> dict[str, float]:
    """One voxel's step along each patient axis (``lr``, ``ap``, ``cc``), mm.

    On a grid aligned with the patient axes these are its spacings.

    >>> patient_axis_voxel_mm(np.diag([2.5, 0.7, 0.8, 1.0]))
    {'lr': 2.5, 'ap': 0.7, 'cc': 0.8}
    """
    steps = steps_mm(geometry.as_affine(affine)[:3, :3], LPS_UNIT_VECTORS)
    return {ax: float(v) for ax, v in zip(PATIENT_AXES, steps, strict=True)}


__all__ = [
    "LPS_UNIT_VECTORS",
    "PATIENT_AXES",
    "Segment",
    "float_list",
    "line_length_mm",
    "patient_axis_voxel_mm",
    "steps_mm",
    "voxel_projection_mm",
    "voxel_step_mm",
]
