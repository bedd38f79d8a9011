"""Measuring the regions of a label map: one :class:`RegionMeasurements` record per region.

Each region is cropped to its bounding box (found for all labels at once) and measured there:
voxel count, volume, centroid, extents, oriented box, maximum diameter, RECIST axes and, with a
CT on the same grid, HU statistics.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

from .. import geometry
from ..errors import GeometryError, MeasurementError
from ..volume import Volume
from .cropped import CroppedRegion
from .diameter import max_diameter_of
from .extents import OrientedBox, extents_of, obb_of
from .hu import HUStatistics, hu_statistics
from .lengths import Segment, float_list, patient_axis_voxel_mm
from .recist import RecistAxes, recist_of

#: Two grids whose affines differ by less than this (mm, or direction cosine) are the same grid.
GRID_ATOL = geometry.GRID_ATOL


@dataclass(frozen=True)
class RegionMeasurements:
    """Everything measured on one region.

    Lengths are in mm, the volume in mL, coordinates in LPS mm. ``voxel_extent_mm`` is the size
    of one voxel projected on each patient axis: the resolution of ``extents_mm`` and the
    absolute tolerance floor of :func:`compare_extents`.
    """

    label: int
    name: str
    n_voxels: int
    volume_ml: float
    centroid_lps: NDArray[np.float64]
    extents_mm: dict[str, float]
    voxel_extent_mm: dict[str, float]
    obb: OrientedBox
    max_diameter: Segment
    recist: RecistAxes
    bbox_ijk: tuple[tuple[int, int], tuple[int, int], tuple[int, int]]
    hu: HUStatistics | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (mm, mL, LPS mm); ``hu`` is ``None`` without a CT."""
        return {
            "label": self.label,
            "name": self.name,
            "n_voxels": self.n_voxels,
            "volume_ml": self.volume_ml,
            "centroid_lps": float_list(self.centroid_lps),
            "extents_mm": dict(self.extents_mm),
            "voxel_extent_mm": dict(self.voxel_extent_mm),
            "obb": self.obb.to_dict(),
            "max_diameter": self.max_diameter.to_dict(),
            "recist": self.recist.to_dict(),
            "bbox_ijk": [list(b) for b in self.bbox_ijk],
            "hu": None if self.hu is None else self.hu.to_dict(),
        }


def _label_array(labels: Volume) -> NDArray[np.integer[Any]]:
    arr = labels.array
    if arr.dtype == bool:
        return arr.view(np.uint8)
    if np.issubdtype(arr.dtype, np.integer):
        return arr
    if np.issubdtype(arr.dtype, np.floating):
        finite = np.isfinite(arr)
        if not np.all(finite) or not np.array_equal(arr, np.round(arr)):
            raise MeasurementError(
                f"Label map values must be whole numbers, got dtype {arr.dtype} with "
                "fractional or non-finite values; load a label map, not an image."
            )
        return arr.astype(np.int32)
    raise MeasurementError(f"Label map dtype must be integer, got {arr.dtype}.")


def check_same_grid(labels: Volume, ct: Volume, names: tuple[str, str] = ("labels", "ct")) -> None:
    """Raise :class:`GeometryError` unless two volumes share one voxel grid."""
    if labels.grid != ct.grid:
        raise GeometryError(
            f"The {names[1]} grid (shape {ct.shape}, affine {np.round(ct.affine, 4).tolist()}) "
            f"does not match the {names[0]} grid (shape {labels.shape}, affine "
            f"{np.round(labels.affine, 4).tolist()}); resample one onto the other first."
        )


#: Label maps whose largest value exceeds this are renumbered compactly before their regions'
#: bounding boxes are found (which allocates per value up to the largest one).
COMPACT_LABELS_ABOVE = 65535


def _label_slices(arr: NDArray[np.integer[Any]]) -> dict[int, tuple[slice, slice, slice]]:
    """Bounding box of every positive label value, found in the union box of all labels.

    Memory follows the number of labels present, not the largest value:

    >>> a = np.zeros((2, 3, 4), np.int64); a[1, 1:, 2] = 5_000_000_000; a[0, 0, 0] = 2
    >>> {v: [(s.start, s.stop) for s in sl] for v, sl in _label_slices(a).items()}
    {2: [(0, 1), (0, 1), (0, 1)], 5000000000: [(1, 2), (1, 3), (2, 3)]}
    """
    nz_slices = np.flatnonzero(arr.reshape(arr.shape[0], -1).max(axis=1) > 0)
    if nz_slices.size == 0:
        return {}
    s0, s1 = int(nz_slices[0]), int(nz_slices[-1]) + 1
    plane = arr[s0:s1].max(axis=0) > 0
    rows = np.flatnonzero(plane.any(axis=1))
    cols = np.flatnonzero(plane.any(axis=0))
    r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    sub = arr[s0:s1, r0:r1, c0:c1]
    if sub.dtype.kind == "u" and sub.dtype.itemsize > 4:
        sub = sub.astype(np.int64)
    # find_objects allocates one entry per value up to the largest: with large label values,
    # number the values present 1..n first, so that memory follows the labels present.
    values: NDArray[Any] | None = None
    if int(sub.max()) > COMPACT_LABELS_ABOVE:
        pos = sub > 0
        values = np.unique(sub[pos])
        compact = np.zeros(sub.shape, dtype=np.int32 if len(values) < 2**31 - 1 else np.int64)
        compact[pos] = np.searchsorted(values, sub[pos]) + 1
        sub = compact
    out: dict[int, tuple[slice, slice, slice]] = {}
    for index, sl in enumerate(ndimage.find_objects(sub), start=1):
        if sl is not None:
            value = index if values is None else int(values[index - 1])
            out[value] = (
                slice(sl[0].start + s0, sl[0].stop + s0),
                slice(sl[1].start + r0, sl[1].stop + r0),
                slice(sl[2].start + c0, sl[2].stop + c0),
            )
    return out


def _measure(
    region: CroppedRegion, label: int, name: str, ct_values: NDArray[Any] | None
) -> RegionMeasurements:
    n, mean, _ = region.moments()
    return RegionMeasurements(
        label=label,
        name=name,
        n_voxels=n,
        volume_ml=n * float(abs(np.linalg.det(region.lin))) / 1000.0,
        centroid_lps=geometry.apply_affine(region.affine, mean),
        extents_mm=extents_of(region),
        voxel_extent_mm=patient_axis_voxel_mm(region.full_affine),
        obb=obb_of(region),
        max_diameter=max_diameter_of(region),
        recist=recist_of(region),
        bbox_ijk=region.bbox_ijk,
        hu=None if ct_values is None else hu_statistics(ct_values),
    )


def measure_region(
    labels: Volume,
    region: int | ArrayLike,
    name: str | None = None,
    ct: Volume | None = None,
) -> RegionMeasurements:
    """Measure one region of a grid: a label value of ``labels``, or a boolean mask on its grid.

    Parameters
    ----------
    labels
        The label map (or any volume whose grid the mask lives on).
    region
        A label value, or a boolean array of ``labels.shape``.
    name
        Name to report; defaults to ``label_<value>`` (``mask`` for a mask).
    ct
        CT on the same grid, for HU statistics.

    Raises
    ------
    MeasurementError
        The region is empty or the mask has the wrong shape.
    GeometryError
        ``ct`` is on another grid.
    """
    if ct is not None:
        check_same_grid(labels, ct)
    if isinstance(region, (int, np.integer)):
        value = int(region)
        mask = _label_array(labels) == value
        default = f"label_{value}"
    else:
        value = 0
        mask = np.asarray(region, dtype=bool)
        default = "mask"
        if mask.shape != labels.shape:
            raise MeasurementError(
                f"Argument 'region' mask has shape {mask.shape}, not the grid's {labels.shape}."
            )
    reg = CroppedRegion.from_mask(mask, labels.affine, name=name or default)
    values = None
    if ct is not None:
        sl = tuple(slice(a, b) for a, b in reg.bbox_ijk)
        values = ct.array[sl][reg.mask]
    return _measure(reg, value, name or default, values)


def measure_labels(
    labels: Volume,
    names: Mapping[int, str] | None = None,
    ct: Volume | None = None,
) -> list[RegionMeasurements]:
    """Measure every positive label value present in a label map, in increasing order.

    Parameters
    ----------
    labels
        Label map; value 0 (and negative values) is background.
    names
        Name of each label value; missing ones are called ``label_<value>``.
    ct
        CT on the same grid, for HU statistics.

    Raises
    ------
    GeometryError
        ``ct`` is on another grid; the message gives both shapes and affines.
    """
    if ct is not None:
        check_same_grid(labels, ct)
    arr = _label_array(labels)
    names = dict(names or {})
    out: list[RegionMeasurements] = []
    for value, sl in _label_slices(arr).items():
        mask = arr[sl] == value
        reg = CroppedRegion(mask, labels.affine, [s.start for s in sl])
        values = None if ct is None else ct.array[sl][mask]
        out.append(_measure(reg, value, names.get(value, f"label_{value}"), values))
    return out


__all__ = [
    "COMPACT_LABELS_ABOVE",
    "GRID_ATOL",
    "RegionMeasurements",
    "check_same_grid",
    "measure_labels",
    "measure_region",
]
