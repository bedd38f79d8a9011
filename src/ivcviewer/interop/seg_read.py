"""Read a DICOM Segmentation (SEG) into a named, coloured label map on its CT's grid.

:func:`read_segmentation` reads binary and labelmap SEGs with highdicom; a fractional SEG is
refused (a probability per voxel is no label until someone chooses a threshold). With a
reference CT the label map is placed on that CT's grid voxel for voxel: the SEG must reference
the CT's series (or share its frame of reference) and its frames must fall on the CT's voxel
centres; anything else is refused with the reason. Without a reference the label map is on the
SEG's own frame grid.

A label map holds one value per voxel; binary segments may overlap. Where they do, the segment
with the higher segment number wins (as highdicom's ``get_volume`` decides), and the result's
``report`` says which segments overlapped and by how many voxels.

:func:`structure_names` maps the label values to the fit's structure names (TotalSegmentator
class names): by the segments' codes (:func:`ivcviewer.interop.codes.structure_for_codes`),
else by their labels (``"Liver"`` -> ``liver``, ``"Right kidney"`` -> ``kidney_right``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from ..annotations import vocabulary as voc
from ..dicom.bounded_file import dcmread_bounded
from ..dicom.header import HEADER_FAILURES
from ..dicom.library_messages import library_messages
from ..errors import DicomSeriesError, IvcviewerError
from ..failures import exception_summary
from ..io.labels import RGBA, LabelEntry, LabelTable, default_color
from ..limits import Limits, default_limits
from ..volume import Volume, VolumeMetadata
from .codes import SegmentCodes, structure_for_codes
from .sniff import SEG_CLASSES

if TYPE_CHECKING:
    import highdicom as hd

#: Largest distance (in voxels) between a SEG voxel centre and the CT voxel centre it lands on.
GRID_TOLERANCE_VOXELS = 0.05

#: What a library may raise on a damaged segmentation, besides the header failures.
_LIBRARY_FAILURES: tuple[type[BaseException], ...] = (*HEADER_FAILURES, RuntimeError)

#: Elements a SEG cannot be read without (Segmentation IOD, multi-frame functional groups).
_SEG_REQUIRED = (
    "SegmentSequence",
    "SharedFunctionalGroupsSequence",
    "PerFrameFunctionalGroupsSequence",
    "NumberOfFrames",
    "PixelData",
)


class SegmentationError(DicomSeriesError):
    """A DICOM SEG or RTSTRUCT that cannot be read, or that does not belong to the CT given."""


@dataclass(frozen=True)
class SegmentationResult:
    """A segmentation read from a DICOM object, as a label map with its names.

    Attributes
    ----------
    labels
        Integer label map: on the reference CT's grid when one was given, else on the object's
        own grid.
    table
        Label value -> name and colour (the segment labels / ROI names of the file).
    codes
        Label value -> the segment's coded category, type, modifier and anatomic region.
    referenced_series_uid
        The series the object says it was made on ("" when it names none).
    source_kind
        ``"binary SEG"``, ``"labelmap SEG"`` or ``"RTSTRUCT"``.
    report
        Notes on what was decided while reading (overlapping segments, empty segments, a
        placement by positions only).
    """

    labels: Volume
    table: LabelTable
    codes: dict[int, SegmentCodes] = field(default_factory=dict)
    referenced_series_uid: str = ""
    source_kind: str = ""
    report: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------ file access


@contextmanager
def library_failures(path: Path, what: str) -> Iterator[list[str]]:
    """Turn what a library raises on a damaged ``what`` into one :class:`SegmentationError`.

    ivcviewer's own errors pass through unchanged; pydicom's messages are collected (yielded).
    """
    with library_messages() as notes:
        try:
            yield notes
        except IvcviewerError:
            raise
        except _LIBRARY_FAILURES as exc:
            raise SegmentationError(
                f"{path}: the {what} cannot be read ({exception_summary(exc)}); it is damaged, "
                f"cut short or does not follow the standard. Fix: export the {what} again from "
                "the program that made it."
            ) from None


def read_object(path: str | Path, classes: frozenset[str], what: str) -> Dataset:
    """The whole dataset of a DICOM ``what`` file whose SOPClassUID is one of ``classes``.

    Raises
    ------
    FileNotFoundError
        Nothing is at ``path``.
    SegmentationError
        ``path`` is a folder, not DICOM, damaged, or another kind of DICOM object.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(2, "No such file or folder", str(p))
    if not p.is_file():
        raise SegmentationError(
            f"{p}: is not a regular file (a folder, FIFO or device), so it is no {what}. "
            f"Fix: give the {what} file itself."
        )
    try:
        with library_failures(p, what):
            ds = dcmread_bounded(p)
    except InvalidDicomError:
        raise SegmentationError(
            f"{p}: is not a DICOM file (no DICM preamble), so it cannot be read as a {what}. "
            f"Fix: give the {what} file (.dcm)."
        ) from None
    meta = getattr(ds, "file_meta", None)
    sop = str(ds.get("SOPClassUID", "") or "") or (
        str(meta.get("MediaStorageSOPClassUID", "") or "") if meta is not None else ""
    )
    if sop not in classes:
        modality = str(ds.get("Modality", "") or "") or "none"
        raise SegmentationError(
            f"{p}: is not a {what} (SOPClassUID {sop or 'missing'}, Modality {modality}). "
            f"Fix: give a {what} file; open images as the CT."
        )
    return ds


# ------------------------------------------------------------------------- belonging to a CT


def referenced_series(ds: Dataset) -> list[str]:
    """SeriesInstanceUIDs of the ReferencedSeriesSequence (SEG) in order, without repeats."""
    out: list[str] = []
    for item in ds.get("ReferencedSeriesSequence", None) or []:
        uid = str(item.get("SeriesInstanceUID", "") or "")
        if uid and uid not in out:
            out.append(uid)
    return out


def check_belongs(
    path: Path, what: str, series: list[str], frame_of_reference: str, ct: Volume
) -> list[str]:
    """Refuse an object made on another CT; notes on how it was matched otherwise.

    It belongs when it references the CT's series; or, referencing another series, shares the
    CT's frame of reference (the positions then decide). A CT without DICOM identifiers (from
    NIfTI), or an object that names neither a series nor a frame of reference, is matched by
    positions only, which the notes say.
    """
    ct_series = ct.metadata.series_uid
    ct_for = ct.metadata.frame_of_reference_uid
    if not ct_series and not ct_for:
        return [
            f"{path.name}: the CT carries no DICOM identifiers (it was not read from DICOM), "
            f"so the {what} was matched to it by voxel positions only."
        ]
    if ct_series and ct_series in series:
        return []
    if not series and not frame_of_reference:
        return [
            f"{path.name}: the {what} names no referenced series or frame of reference, so it "
            "was matched to the CT by voxel positions only."
        ]
    if frame_of_reference and ct_for and frame_of_reference == ct_for:
        theirs = f"series {', '.join(series)}" if series else "no series"
        ours = f"the CT's {ct_series}" if ct_series else "the CT (which has no SeriesInstanceUID)"
        return [
            f"{path.name}: references {theirs}, not {ours}; placed by positions in their shared "
            "frame of reference."
        ]
    raise SegmentationError(
        f"{path}: this {what} was made on series {', '.join(series) or '(none named)'} "
        f"(frame of reference {frame_of_reference or 'none'}), not on the CT given (series "
        f"{ct_series or 'unknown'}, frame of reference {ct_for or 'unknown'}), so it cannot be "
        "placed on it. Fix: give the CT series it references (with --series UID if the folder "
        "holds several)."
    )


def place_on_grid(
    array: NDArray[Any], affine: NDArray[np.float64], ct: Volume, path: Path, what: str
) -> NDArray[Any]:
    """``array`` (on the grid ``affine``) copied onto ``ct``'s grid, voxel for voxel.

    Each voxel centre of ``array`` must land on a CT voxel centre (within
    :data:`GRID_TOLERANCE_VOXELS`): the axes may be reordered, flipped or a whole multiple of
    the CT's steps apart, never turned or shifted by part of a voxel. Empty parts outside the
    CT are dropped; labelled voxels outside it are refused.
    """
    m = np.linalg.inv(ct.affine) @ affine
    r = np.rint(m[:3, :3])
    t = np.rint(m[:3, 3])
    for flat in np.flatnonzero(np.array(array.shape) == 1):  # one frame: its step is moot
        nearest = int(np.argmax(np.abs(m[:3, flat])))
        r[:, flat] = 0.0
        r[nearest, flat] = 1.0 if m[nearest, flat] >= 0 else -1.0
    corners = np.array(list(itertools.product(*[(0, n - 1) for n in array.shape])), float)
    off = float(np.abs(corners @ (m[:3, :3] - r).T + (m[:3, 3] - t)).max())
    aligned = bool(
        (np.count_nonzero(r, axis=0) == 1).all() and (np.count_nonzero(r, axis=1) == 1).all()
    )
    if not aligned or off > GRID_TOLERANCE_VOXELS:
        how = "turned against it" if not aligned else f"off by up to {off:.2f} voxel"
        raise SegmentationError(
            f"{path}: the {what}'s voxels do not lie on the CT's voxel grid ({how}), so it "
            "cannot be placed voxel for voxel. Fix: give the CT series it was made on."
        )
    ct_axis = [int(np.flatnonzero(r[:, j])[0]) for j in range(3)]
    order = [ct_axis.index(a) for a in range(3)]
    moved = array.transpose(order)
    src: list[NDArray[np.intp]] = []
    dst: list[NDArray[np.intp]] = []
    for a in range(3):
        j = order[a]
        idx = (r[a, j] * np.arange(array.shape[j]) + t[a]).astype(np.intp)
        keep = (idx >= 0) & (idx < ct.shape[a])
        src.append(np.flatnonzero(keep))
        dst.append(idx[keep])
    inside = moved[np.ix_(*src)]
    outside = int(np.count_nonzero(moved)) - int(np.count_nonzero(inside))
    if outside:
        raise SegmentationError(
            f"{path}: {outside:,} labelled voxels of the {what} lie outside the CT's field of "
            "view, so it was not made on this CT. Fix: give the CT series it was made on."
        )
    out = np.zeros(ct.shape, array.dtype)
    out[np.ix_(*dst)] = inside
    return out


# ------------------------------------------------------------------------------- SEG reading


def read_segmentation(
    path: str | Path, reference: Volume | None = None, limits: Limits | None = None
) -> SegmentationResult:
    """A binary or labelmap DICOM SEG as a label map with names, colours and codes.

    Parameters
    ----------
    path
        The SEG file.
    reference
        The CT it was made on: the label map is then placed on that CT's grid. None: on the
        SEG's own frame grid.
    limits
        The memory budget for the label map(s).

    Raises
    ------
    SegmentationError
        Not a SEG; damaged; fractional; frames that form no regular grid; made on another CT.
    ResourceLimitError
        A grid larger than the memory budget.
    """
    import highdicom as hd

    p = Path(path)
    lim = limits or default_limits()
    ds = read_object(p, SEG_CLASSES, "DICOM SEG")
    missing = [k for k in _SEG_REQUIRED if k not in ds]
    if missing:
        raise SegmentationError(
            f"{p}: the DICOM SEG lacks {', '.join(missing)}, which every SEG must hold, so it "
            "cannot be read (the file may be cut short or damaged). Fix: export the SEG again "
            "from the program that made it."
        )
    series = referenced_series(ds)
    report: list[str] = []
    if reference is not None:  # refused before anything is decoded
        frame_of_reference = str(ds.get("FrameOfReferenceUID", "") or "")
        report += check_belongs(p, "SEG", series, frame_of_reference, reference)
    with library_failures(p, "DICOM SEG"):
        _check_frames(ds, p, lim)
        seg = hd.seg.Segmentation.from_dataset(ds, copy=False)
        kind = _seg_kind(seg, p)
        array, affine = _own_grid(seg, p, lim, report)
        table, codes = _segment_table(seg)
    if reference is not None:
        nbytes = int(np.prod(reference.shape)) * array.dtype.itemsize
        lim.check_allocation(nbytes, f"{p}: label map")
        labels = reference.with_array(place_on_grid(array, affine, reference, p, "SEG"))
        labels.metadata.source_files = [p]
    else:
        labels = Volume(array, affine, _seg_metadata(ds, p))
    labels.metadata.modality = "SEG"
    labels.metadata.source = str(p)
    return SegmentationResult(
        labels, table, codes, series[0] if series else "", f"{kind} SEG", report
    )


def _check_frames(ds: Dataset, path: Path, limits: Limits) -> None:
    """Refuse a frame count the per-frame groups or the pixel data do not back, and frames
    that would not fit the memory budget once decoded (checked before highdicom decodes)."""
    frames = int(ds.NumberOfFrames)
    described = len(ds.PerFrameFunctionalGroupsSequence)
    if frames != described or frames < 1:
        raise SegmentationError(
            f"{path}: NumberOfFrames is {frames:,} but the per-frame functional groups describe "
            f"{described:,} frames; they must agree, so the SEG is damaged. Fix: export the SEG "
            "again from the program that made it."
        )
    pixels = int(ds.Rows) * int(ds.Columns) * frames
    limits.check_allocation(pixels, f"{path}: {frames:,} SEG frames of {ds.Rows}x{ds.Columns}")
    if not ds.file_meta.TransferSyntaxUID.is_compressed:
        bits = int(ds.BitsAllocated)
        needed = (pixels * bits + 7) // 8
        if len(ds.PixelData) < needed:
            raise SegmentationError(
                f"{path}: the pixel data holds {len(ds.PixelData):,} bytes, less than the "
                f"{needed:,} its {frames:,} frames of {ds.Rows}x{ds.Columns} at {bits} bit "
                "need (the file is cut short). Fix: export the SEG again."
            )


def _seg_kind(seg: hd.seg.Segmentation, path: Path) -> str:
    """``"binary"`` or ``"labelmap"``; a fractional SEG is refused."""
    kind = str(seg.segmentation_type.value).lower()
    if kind == "fractional":
        raise SegmentationError(
            f"{path}: is a fractional SEG (each voxel holds a probability or occupancy of each "
            "segment, not a yes or no), and a label map needs one decided segment per voxel, "
            "so it is refused. Fix: threshold it into a binary or labelmap SEG first (for "
            "example at 0.5 with highdicom) and open that."
        )
    return kind


def _own_grid(
    seg: hd.seg.Segmentation, path: Path, limits: Limits, report: list[str]
) -> tuple[NDArray[Any], NDArray[np.float64]]:
    """The label map on the SEG's own frame grid, and that grid's affine."""
    geometry = seg.get_volume_geometry()
    if geometry is None:
        raise SegmentationError(
            f"{path}: the SEG's frames do not form a regular 3D grid (parallel, evenly spaced "
            "planes), so it cannot be read as a label map. Fix: export it on the CT's slices."
        )
    numbers = [int(n) for n in seg.segment_numbers]
    dtype = np.dtype(np.uint8 if max(numbers, default=0) < 256 else np.uint16)
    shape = tuple(int(n) for n in geometry.spatial_shape)
    limits.check_allocation(
        2 * int(np.prod(shape)) * dtype.itemsize,
        f"{path}: SEG grid {shape[0]}x{shape[1]}x{shape[2]}",
    )
    affine = np.asarray(geometry.affine, dtype=float)
    if str(seg.segmentation_type.value) == "LABELMAP":
        vol = seg.get_volume(combine_segments=True, relabel=False, dtype=dtype)
        return _spatial(vol.array).astype(dtype, copy=False), affine
    labels = np.zeros(shape, dtype)
    overlaps: dict[tuple[int, int], int] = {}
    for n in numbers:
        mask = _spatial(seg.get_volume(segment_numbers=[n], dtype=bool).array)
        if not paint(labels, mask, n, overlaps):
            report.append(f"{path.name}: segment {n} is empty (it has no voxel).")
    report += overlap_notes(path, overlaps, "segment")
    return labels, affine


def paint(
    labels: NDArray[Any], mask: NDArray[np.bool_], value: int, overlaps: dict[tuple[int, int], int]
) -> bool:
    """Set ``labels[mask] = value``, counting in ``overlaps[(old, value)]`` the voxels that held
    another label ``old`` (the later value wins). Returns whether ``mask`` had any voxel."""
    under = labels[mask]
    taken, counts = np.unique(under[under > 0], return_counts=True)
    for old, count in zip(taken.tolist(), counts.tolist(), strict=True):
        overlaps[(int(old), int(value))] = int(count)
    labels[mask] = value
    return bool(under.size)


def overlap_notes(path: Path, overlaps: dict[tuple[int, int], int], what: str) -> list[str]:
    """One note per pair of overlapping labels, saying which one the voxels kept."""
    return [
        f"{path.name}: {what}s {a} and {b} overlap in {c:,} voxels; a label map holds one "
        f"value per voxel, so those voxels are {b} (the later, higher number wins)."
        for (a, b), c in sorted(overlaps.items())
    ]


def _spatial(array: NDArray[Any]) -> NDArray[Any]:
    """A highdicom volume's array without its trailing channel axis (if it has one)."""
    return array[..., 0] if array.ndim == 4 else array


def _seg_metadata(ds: Dataset, path: Path) -> VolumeMetadata:
    """Provenance of a label map on the SEG's own grid."""
    return VolumeMetadata(
        modality="SEG",
        description=str(ds.get("SeriesDescription", "") or ""),
        series_uid=str(ds.get("SeriesInstanceUID", "") or ""),
        study_uid=str(ds.get("StudyInstanceUID", "") or ""),
        frame_of_reference_uid=str(ds.get("FrameOfReferenceUID", "") or ""),
        patient_id=str(ds.get("PatientID", "") or ""),
        source_files=[path],
    )


def _segment_table(seg: hd.seg.Segmentation) -> tuple[LabelTable, dict[int, SegmentCodes]]:
    """Names (segment labels), colours (CIELab -> RGB) and codes of every segment."""
    from highdicom.sr import CodedConcept

    entries: dict[int, LabelEntry] = {}
    codes: dict[int, SegmentCodes] = {}
    for n in seg.segment_numbers:
        desc = seg.get_segment_description(n)
        name = str(desc.segment_label or "").strip() or f"segment_{n}"
        entries[int(n)] = LabelEntry(name, _colour(desc.get("RecommendedDisplayCIELabValue"), n))
        modifiers = desc.get("SegmentedPropertyTypeModifierCodeSequence", None) or []
        regions = desc.anatomic_regions
        codes[int(n)] = SegmentCodes(
            category=desc.segmented_property_category,
            type=desc.segmented_property_type,
            modifier=CodedConcept.from_dataset(modifiers[0]) if modifiers else None,
            anatomic_region=regions[0] if regions else None,
        )
    return LabelTable(entries), codes


def _colour(lab: Any, value: int) -> RGBA:
    """RGBA (0..1) of a RecommendedDisplayCIELabValue, or the default colour of ``value``."""
    from highdicom.color import CIELabColor

    if lab is None or len(lab) != 3:
        return default_color(int(value))
    r, g, b = CIELabColor.from_dicom_value([int(v) for v in lab]).to_rgb(clip=True)
    return (r / 255.0, g / 255.0, b / 255.0, 1.0)


# ----------------------------------------------------------------------- structure matching

#: Structure names by their lower-case spelling.
_BY_LOWER = {s.lower(): s for s in voc.STRUCTURES}


def structure_for_label(label: str) -> str | None:
    """The structure name a segment label or ROI name spells, or None.

    >>> structure_for_label("Inferior Vena Cava"), structure_for_label("Right kidney")
    ('inferior_vena_cava', 'kidney_right')
    >>> structure_for_label("vertebrae L1"), structure_for_label("Tumour") is None
    ('vertebrae_L1', True)
    """
    words = [w for w in re.split(r"[^0-9a-z]+", label.strip().lower()) if w]
    candidates = ["_".join(words)]
    if len(words) > 1 and words[0] in ("left", "right"):
        candidates.append("_".join(words[1:] + words[:1]))
    for c in candidates:
        if c in _BY_LOWER:
            return _BY_LOWER[c]
    return None


def structure_names(result: SegmentationResult) -> dict[int, str]:
    """Label value -> the fit's structure name: by codes, else by label, else the label itself.

    A segment whose codes and label name no known structure keeps its label, so a finding's
    own label (a tumour thrombus named after its finding) still reaches the fit.
    """
    out: dict[int, str] = {}
    for value, entry in result.table.items():
        c = result.codes.get(value)
        name = structure_for_codes(c.category, c.type, c.modifier) if c is not None else None
        out[value] = name or structure_for_label(entry.name) or entry.name
    return out
