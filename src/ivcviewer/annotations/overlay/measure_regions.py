"""Stage 5 of :func:`~.pipeline.fit_case`: each final region measured against the report.

The region is cropped to itself and measured with :mod:`ivcviewer.measure` (extents along the
patient axes, volume, centroid, z span); the extents are compared with the reported ones, and
the clipping steps and any difference beyond one voxel become warnings.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import NDArray

from ... import measure as msr
from ...errors import MeasurementError
from .clip import ClippedFinding, clip_warning
from .results import AxisDict, FindingResult


def _comparison_warning(r: FindingResult) -> list[str]:
    """A warning when the measured extents differ from the reported by more than one voxel."""
    off = [a for a, ok in (r.within_one_voxel() or {}).items() if not ok]
    if not off:
        return []
    changed = r.clipping_changed_extents()
    why = "; changed by: " + ", ".join(sorted({c.reason for c in changed})) if changed else ""
    return [
        "Measured extents differ from the reported ones by more than one voxel "
        f"along {', '.join(off)}{why}."
    ]


def _measure_mask(
    mask: NDArray[np.bool_], affine: NDArray[np.float64]
) -> tuple[AxisDict | None, float, NDArray[np.float64] | None, list[str]]:
    """Extents, volume and centroid of a non-empty mask (and a warning if they fail)."""
    extents: AxisDict | None = None
    volume = 0.0
    centroid: NDArray[np.float64] | None = None
    try:
        extents = msr.extents_mm(mask, affine)
        volume = msr.volume_ml(mask, affine)
        centroid = msr.centroid_lps(mask, affine)
    except MeasurementError as err:  # pragma: no cover - the region is not empty here
        return extents, volume, centroid, [f"Not measured: {err}"]
    return extents, volume, centroid, []


def measure_region(found: ClippedFinding, affine: NDArray[np.float64]) -> FindingResult:
    """One finding's final region measured (see the module docstring)."""
    region = found.region.tight()
    base = FindingResult(
        finding=found.finding,
        label_value=found.label_value,
        fit=found.fit,
        region=region,
        n_voxels=region.n_voxels,
        fitted_extents_mm=found.fitted_extents_mm,
        voxel_extent_mm=msr.patient_axis_voxel_mm(affine),
        clipping=list(found.clipping),
        warnings=list(found.warnings),
        before_overlaps=found.before_overlaps,
    )
    if base.n_voxels == 0:
        reasons = ", ".join(dict.fromkeys(c.reason for c in found.clipping))
        empty = "Nothing of this finding is drawn: its region is empty on this CT" + (
            f" (clipping: {reasons})." if reasons else "."
        )
        return dataclasses.replace(base, warnings=[*base.warnings, empty])
    extents, volume, centroid, not_measured = _measure_mask(region.mask, region.affine(affine))
    clipped = [clip_warning(c) for c in found.clipping if c.reason != "overlap"]
    measured = dataclasses.replace(
        base,
        extents_mm=extents,
        volume_ml=volume,
        centroid_lps=centroid,
        z_span_lps=region.z_span_lps(affine),
        warnings=[*base.warnings, *not_measured, *clipped],
    )
    rep = measured.reported_extents_mm
    if rep is None or extents is None:
        return measured
    return dataclasses.replace(
        measured,
        comparison=msr.compare_extents(extents, rep, measured.voxel_extent_mm),
        warnings=[*measured.warnings, *_comparison_warning(measured)],
    )


def measure_regions(
    findings: tuple[ClippedFinding, ...], affine: NDArray[np.float64]
) -> tuple[FindingResult, ...]:
    """Every finding's final region measured, in the same order (rules not yet checked)."""
    return tuple(measure_region(r, affine) for r in findings)


def dice(a: NDArray[np.bool_], b: NDArray[np.bool_]) -> float:
    """Dice coefficient of two masks of one grid (1.0 when both are empty).

    >>> dice(np.array([1, 1, 0], bool), np.array([1, 0, 0], bool))
    0.6666666666666666
    """
    a = np.asarray(a, dtype=bool)
    b = np.asarray(b, dtype=bool)
    s = int(np.count_nonzero(a)) + int(np.count_nonzero(b))
    if s == 0:
        return 1.0
    return 2.0 * int(np.count_nonzero(a & b)) / s
