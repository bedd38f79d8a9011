"""Measured extents beside the figures a report gives, within a tolerance of one voxel or 2%.

Each reported axis is compared with the same measured axis, and the sorted triples are compared
largest with largest, for reports that do not say which axis is which.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import MeasurementError
from .lengths import PATIENT_AXES

#: Default relative tolerance of :func:`compare_extents` (the absolute floor is one voxel).
DEFAULT_TOLERANCE_REL = 0.02


@dataclass(frozen=True)
class AxisComparison:
    """One measured length beside one reported length.

    ``difference_mm`` is measured minus reported; ``passed`` means
    ``abs(difference_mm) <= tolerance_mm``.
    """

    measured_axis: str
    reported_axis: str
    measured_mm: float
    reported_mm: float
    difference_mm: float
    relative_difference: float
    tolerance_mm: float
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON form (all fields)."""
        return {
            "measured_axis": self.measured_axis,
            "reported_axis": self.reported_axis,
            "measured_mm": self.measured_mm,
            "reported_mm": self.reported_mm,
            "difference_mm": self.difference_mm,
            "relative_difference": self.relative_difference,
            "tolerance_mm": self.tolerance_mm,
            "passed": self.passed,
        }


@dataclass(frozen=True)
class ExtentComparison:
    """Measured extents against reported ones, axis by axis and order-free.

    ``by_axis`` pairs each reported axis with the same measured axis; ``order_free`` pairs the
    sorted triples (largest with largest), for reports that do not say which axis is which.
    """

    by_axis: tuple[AxisComparison, ...]
    order_free: tuple[AxisComparison, ...]
    tolerance_rel: float = DEFAULT_TOLERANCE_REL

    @property
    def passed_by_axis(self) -> bool:
        """Every axis-by-axis pair is within its tolerance."""
        return all(c.passed for c in self.by_axis)

    @property
    def passed_order_free(self) -> bool:
        """Every sorted pair is within its tolerance."""
        return all(c.passed for c in self.order_free)

    def to_dict(self) -> dict[str, Any]:
        """JSON form: both lists, their verdicts and the relative tolerance."""
        return {
            "tolerance_rel": self.tolerance_rel,
            "passed_by_axis": self.passed_by_axis,
            "passed_order_free": self.passed_order_free,
            "by_axis": [c.to_dict() for c in self.by_axis],
            "order_free": [c.to_dict() for c in self.order_free],
        }


def _axis_dict(d: Mapping[str, float], name: str, require_all: bool) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in d.items():
        if key not in PATIENT_AXES:
            raise MeasurementError(
                f"Argument {name!r} has axis {key!r}; axes are {list(PATIENT_AXES)}."
            )
        v = float(value)
        if not math.isfinite(v) or v <= 0:
            raise MeasurementError(
                f"Argument {name!r} must hold positive lengths in mm, got {key}={value!r}."
            )
        out[key] = v
    missing = [a for a in PATIENT_AXES if a not in out]
    if (require_all and missing) or not out:
        raise MeasurementError(
            f"Argument {name!r} lacks axes {missing or list(PATIENT_AXES)}; give 'lr', 'ap', 'cc'."
        )
    return out


def _compare_one(
    measured_axis: str,
    reported_axis: str,
    measured: float,
    reported: float,
    voxel: float,
    tolerance_rel: float,
) -> AxisComparison:
    diff = measured - reported
    tol = max(voxel, tolerance_rel * reported)
    return AxisComparison(
        measured_axis=measured_axis,
        reported_axis=reported_axis,
        measured_mm=measured,
        reported_mm=reported,
        difference_mm=diff,
        relative_difference=diff / reported,
        tolerance_mm=tol,
        passed=bool(abs(diff) <= tol + 1e-9),
    )


def compare_extents(
    measured: Mapping[str, float],
    reported: Mapping[str, float],
    voxel_mm: Mapping[str, float] | float,
    tolerance_rel: float = DEFAULT_TOLERANCE_REL,
) -> ExtentComparison:
    """Compare measured extents (mm) with reported ones, axis by axis and order-free.

    The tolerance of each pair is the larger of one voxel along the measured axis and
    ``tolerance_rel`` times the reported length.

    Parameters
    ----------
    measured
        ``{'lr', 'ap', 'cc'}`` in mm (all three).
    reported
        Some or all of ``{'lr', 'ap', 'cc'}`` in mm. The order-free comparison pairs the reported
        lengths, largest first, with the same number of largest measured lengths.
    voxel_mm
        One voxel's size along each axis (``RegionMeasurements.voxel_extent_mm``), or one value
        for all axes.
    tolerance_rel
        Relative tolerance (default 2%).

    Examples
    --------
    >>> c = compare_extents({"lr": 104, "ap": 90, "cc": 131},
    ...                     {"lr": 105, "ap": 89, "cc": 132}, 0.7)
    >>> c.passed_by_axis, [round(x.tolerance_mm, 2) for x in c.by_axis]
    (True, [2.1, 1.78, 2.64])
    >>> compare_extents({"lr": 131, "ap": 90, "cc": 104},
    ...                 {"lr": 105, "ap": 89, "cc": 132}, 0.7).passed_order_free
    True
    """
    meas = _axis_dict(measured, "measured", require_all=True)
    rep = _axis_dict(reported, "reported", require_all=False)
    if isinstance(voxel_mm, Mapping):
        vox = {a: float(voxel_mm[a]) for a in PATIENT_AXES if a in voxel_mm}
        if set(vox) != set(PATIENT_AXES):
            raise MeasurementError(
                f"Argument 'voxel_mm' must give 'lr', 'ap' and 'cc', got {sorted(voxel_mm)}."
            )
    else:
        vox = dict.fromkeys(PATIENT_AXES, float(voxel_mm))
    if any(not math.isfinite(v) or v < 0 for v in vox.values()):
        raise MeasurementError(f"Argument 'voxel_mm' must be >= 0, got {vox}.")
    if not math.isfinite(tolerance_rel) or tolerance_rel < 0:
        raise MeasurementError(f"Argument 'tolerance_rel' must be >= 0, got {tolerance_rel}.")

    by_axis = tuple(
        _compare_one(a, a, meas[a], rep[a], vox[a], tolerance_rel) for a in PATIENT_AXES if a in rep
    )
    meas_sorted = sorted(meas.items(), key=lambda kv: -kv[1])
    rep_sorted = sorted(rep.items(), key=lambda kv: -kv[1])
    order_free = tuple(
        _compare_one(ma, ra, mv, rv, vox[ma], tolerance_rel)
        for (ma, mv), (ra, rv) in zip(meas_sorted, rep_sorted, strict=False)
    )
    return ExtentComparison(by_axis, order_free, tolerance_rel)


__all__ = ["DEFAULT_TOLERANCE_REL", "AxisComparison", "ExtentComparison", "compare_extents"]
