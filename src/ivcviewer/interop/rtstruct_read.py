"""Read a DICOM RT Structure Set (RTSTRUCT): its ROI contours filled on the CT's grid.

:func:`read_rtstruct` fills each closed planar contour in the CT slice it lies on with
scikit-image's ``polygon2mask`` (a voxel is inside when its centre is inside the polygon). A
contour drawn between two CT slices goes to the nearest slice (it is at most half a step away);
the contours of one ROI on one slice combine even-odd, so a contour inside another is a hole.
ROI names and display colours come from the file; each ROI is one label value, in the order of
the StructureSetROISequence. Where ROIs overlap (a body outline around organs), the later ROI
wins and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset

from ..io.labels import RGBA, LabelEntry, LabelTable, default_color
from ..limits import Limits, default_limits
from ..volume import Volume
from .seg_read import (
    SegmentationError,
    SegmentationResult,
    check_belongs,
    library_failures,
    overlap_notes,
    paint,
    read_object,
)
from .sniff import RTSTRUCT_CLASSES

#: Largest spread (in slice steps) of one planar contour's points across the slice axis.
PLANAR_TOLERANCE_SLICES = 0.1


@dataclass
class _Roi:
    """One ROI: its number, name, colour and closed planar contours (LPS mm, (n, 3))."""

    number: int
    name: str
    rgba: RGBA
    contours: list[NDArray[np.float64]] = field(default_factory=list)
    skipped: int = 0


def read_rtstruct(
    path: str | Path, reference: Volume, limits: Limits | None = None
) -> SegmentationResult:
    """The ROIs of an RTSTRUCT filled on ``reference``'s grid, named and coloured.

    Raises
    ------
    SegmentationError
        Not an RTSTRUCT; damaged; made on another CT; a contour with a malformed point list or
        not in one slice plane of the CT.
    ResourceLimitError
        A label map larger than the memory budget.
    """
    p = Path(path)
    lim = limits or default_limits()
    ds = read_object(p, RTSTRUCT_CLASSES, "RTSTRUCT")
    with library_failures(p, "RTSTRUCT"):
        series, frame_of_reference = _references(ds)
        rois = _rois(ds, p)
    report = check_belongs(p, "RTSTRUCT", series, frame_of_reference, reference)
    dtype = np.dtype(np.uint8 if len(rois) < 256 else np.uint16)
    lim.check_allocation(int(np.prod(reference.shape)) * dtype.itemsize, f"{p}: label map")
    labels = np.zeros(reference.shape, dtype)
    overlaps: dict[tuple[int, int], int] = {}
    entries: dict[int, LabelEntry] = {}
    for value, roi in enumerate(rois, start=1):
        mask, outside = _fill(roi, reference, p)
        entries[value] = LabelEntry(roi.name, roi.rgba)
        if outside:
            report.append(
                f"{p.name}: {outside} contour(s) of ROI {roi.name!r} lie outside the CT's slices "
                "and were left out."
            )
        if roi.skipped:
            report.append(
                f"{p.name}: ROI {roi.name!r} has {roi.skipped} contour(s) that are not closed "
                "planar polygons (points or open lines); they enclose nothing and were left out."
            )
        if not paint(labels, mask, value, overlaps):
            report.append(f"{p.name}: ROI {roi.name!r} has no voxel on this CT.")
    report += overlap_notes(p, overlaps, "ROI")
    vol = reference.with_array(labels)
    vol.metadata.modality = "RTSTRUCT"
    vol.metadata.source = str(p)
    vol.metadata.source_files = [p]
    return SegmentationResult(
        vol, LabelTable(entries), {}, series[0] if series else "", "RTSTRUCT", report
    )


def _references(ds: Dataset) -> tuple[list[str], str]:
    """The series the structure set references, and its frame of reference (from the
    ReferencedFrameOfReferenceSequence, else from its ROIs)."""
    series: list[str] = []
    frame_of_reference = ""
    for ref in ds.get("ReferencedFrameOfReferenceSequence", None) or []:
        frame_of_reference = frame_of_reference or str(ref.get("FrameOfReferenceUID", "") or "")
        for study in ref.get("RTReferencedStudySequence", None) or []:
            for item in study.get("RTReferencedSeriesSequence", None) or []:
                uid = str(item.get("SeriesInstanceUID", "") or "")
                if uid and uid not in series:
                    series.append(uid)
    for roi in ds.get("StructureSetROISequence", None) or []:  # each ROI names its frame too
        frame_of_reference = frame_of_reference or str(
            roi.get("ReferencedFrameOfReferenceUID", "") or ""
        )
    return series, frame_of_reference


def _rois(ds: Dataset, path: Path) -> list[_Roi]:
    """The ROIs of the StructureSetROISequence with their contours, in file order."""
    rois: dict[int, _Roi] = {}
    for item in ds.get("StructureSetROISequence", None) or []:
        n = int(item.ROINumber)
        name = str(item.get("ROIName", "") or "").strip() or f"roi_{n}"
        rois[n] = _Roi(n, name, default_color(len(rois) + 1))
    if not rois:
        raise SegmentationError(
            f"{path}: the RTSTRUCT has no StructureSetROISequence (no ROI is defined), so there "
            "is nothing to read. Fix: export the structure set again with its ROIs."
        )
    for item in ds.get("ROIContourSequence", None) or []:
        roi = rois.get(int(item.ReferencedROINumber))
        if roi is None:
            continue
        colour = item.get("ROIDisplayColor", None)
        if colour is not None and len(colour) == 3:
            r, g, b = (min(max(int(c), 0), 255) / 255.0 for c in colour)
            roi.rgba = (r, g, b, 1.0)
        for k, contour in enumerate(item.get("ContourSequence", None) or []):
            if str(contour.get("ContourGeometricType", "CLOSED_PLANAR")).upper() != "CLOSED_PLANAR":
                roi.skipped += 1
                continue
            roi.contours.append(_points(contour, path, roi.name, k))
    return list(rois.values())


def _points(contour: Dataset, path: Path, name: str, k: int) -> NDArray[np.float64]:
    """The ContourData of one contour as ``(n, 3)`` LPS mm, checked."""
    data = np.asarray([float(v) for v in (contour.get("ContourData", None) or [])], float)
    if data.size < 9 or data.size % 3 or not np.isfinite(data).all():
        raise SegmentationError(
            f"{path}: contour {k} of ROI {name!r} must hold at least 3 finite (x, y, z) points, "
            f"got {data.size} numbers. Fix: export the structure set again."
        )
    return data.reshape(-1, 3)


def _fill(roi: _Roi, ct: Volume, path: Path) -> tuple[NDArray[np.bool_], int]:
    """The voxels inside ``roi``'s contours (even-odd per slice) or on them, and how many
    contours lay outside the CT's slices."""
    from skimage.draw import polygon2mask

    mask = np.zeros(ct.shape, bool)
    outline = np.zeros(ct.shape, bool)
    outside = 0
    for points in roi.contours:
        ijk = ct.lps_to_voxel(points)
        k = ijk[:, 0]
        if float(k.max() - k.min()) > PLANAR_TOLERANCE_SLICES:
            raise SegmentationError(
                f"{path}: ROI {roi.name!r} has a contour that is not in one CT slice plane (it "
                f"spans {float(k.max() - k.min()):.2f} slice steps), so it cannot be filled on "
                "this CT. Fix: give the CT series the structure set was drawn on."
            )
        s = int(np.rint(float(k.mean())))
        if not 0 <= s < ct.shape[0]:
            outside += 1
            continue
        lo = np.clip(np.floor(ijk[:, 1:].min(axis=0)).astype(int), 0, ct.shape[1:])
        hi = np.clip(np.ceil(ijk[:, 1:].max(axis=0)).astype(int) + 1, 0, ct.shape[1:])
        if (hi > lo).all():  # filled within the contour's bounding box
            box = mask[s, lo[0] : hi[0], lo[1] : hi[1]]
            box ^= polygon2mask(tuple(hi - lo), ijk[:, 1:] - lo)
        rr, cc = _outline(ijk[:, 1:])
        on = (rr >= 0) & (rr < ct.shape[1]) & (cc >= 0) & (cc < ct.shape[2])
        outline[s, rr[on], cc[on]] = True
    return mask | outline, outside


def _outline(rc: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Rows and columns of the pixels a closed polygon's edges pass through (each edge sampled
    at least once per pixel along its longer axis, rounded to the nearest pixel centre).

    >>> r, c = _outline(np.array([[0.0, 0.0], [0.0, 2.0], [2.0, 2.0]]))
    >>> sorted(set(zip(r.tolist(), c.tolist())))
    [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)]
    """
    a = rc
    d = np.roll(rc, -1, axis=0) - a
    n = np.ceil(np.abs(d).max(axis=1)).astype(np.intp) + 1
    edge = np.repeat(np.arange(len(a)), n)
    step = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    t = step / np.maximum(n - 1, 1)[edge]
    pts = np.rint(a[edge] + t[:, None] * d[edge]).astype(np.intp)
    return pts[:, 0], pts[:, 1]
