"""DICOM Segmentation (SEG) out: a label map on a CT that came from DICOM, through highdicom.

:func:`build_seg` makes the :class:`highdicom.seg.Segmentation` (nothing written);
:func:`write_seg` writes it atomically. One segment per label value present, numbered 1..N in
the order of the values, with the table's name (Segment Label) and colour (recommended display
CIELab), coded category and type (:mod:`.codes`; a structure without a known code is coded as
the generic *Tissue* / *Tissue* and its Segment Description says so), the algorithm type and
ivcviewer as the algorithm, and a tracking identifier (the name) and tracking UID that an SR can
reference. Labels of the table that are absent from the map are skipped (with a warning).

The frames lie on the CT's own images: the headers of the files the CT came from are read
(no pixel data) and must form one regular grid, and the label map, which may come in any voxel
order (napari and the phantom overlay use a canonical grid), is put onto that grid exactly, by
the affines, or refused if its voxels are not the images' voxels.

Encoding: BINARY by default (see ``docs/interop.md``, "DICOM SEG out", for why); frames are
written only where a segment is present.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from .. import __version__, geometry
from .._atomic import atomic_file
from ..errors import DicomSeriesError, GeometryError, MeasurementError, OutputExistsError
from ..failures import exception_summary
from ..io.formats import check_output_path, not_found
from ..io.labels import LabelTable
from ..measure.regions import _label_array
from ..volume import Volume
from .codes import GENERIC_CODES, SegmentCodes, codes_for_structure

if TYPE_CHECKING:
    from highdicom import AlgorithmIdentificationSequence
    from highdicom.seg import Segmentation, SegmentDescription
    from pydicom.dataset import Dataset

Algorithm = Literal["manual", "semiautomatic"]
Encoding = Literal["binary", "labelmap"]

#: The encoding written unless another is asked for (docs/interop.md says why).
DEFAULT_ENCODING: Encoding = "binary"
#: Transfer syntax of each encoding: BINARY frames are bit-packed and stored as they are (the
#: readers tested, dcmqi among them, do not all decode compressed binary frames); LABELMAP
#: frames are RLE compressed (dcmqi reads them).
TRANSFER_SYNTAX: dict[str, str] = {
    "binary": "1.2.840.10008.1.2.1",  # Explicit VR Little Endian
    "labelmap": "1.2.840.10008.1.2.5",  # RLE Lossless
}
#: Endings a SEG file may have.
SEG_SUFFIXES: tuple[str, ...] = (".dcm",)
#: How ivcviewer names itself as the algorithm, manufacturer and model.
ALGORITHM_NAME = "ivcviewer"
#: Series number of the SEG series.
SEG_SERIES_NUMBER = 900
#: Largest distance (in voxels) between a referenced image and the CT slice it must be.
POSITION_TOLERANCE_VOXELS = 1e-2
#: Longest Segment Label (DICOM LO).
MAX_LABEL_CHARS = 64
#: Segment Description of a segment coded generically.
GENERIC_DESCRIPTION = "no SNOMED CT code known for this name: coded as Tissue"


def _ct_name(ct: Volume) -> str:
    files = ct.metadata.source_files
    return f"the CT {files[0].parent}" if files else "the CT"


# ----------------------------------------------------------------------------- grids


def labels_on_grid(labels: Volume, grid: geometry.Grid, *, target: str = "the CT") -> NDArray[Any]:
    """``labels``' array in the voxel order of ``grid`` (same voxels, any axis order or flip).

    Raises
    ------
    GeometryError
        When the label map's voxels are not ``grid``'s voxels (other spacing, shift, extent or
        rotation); the message gives both grids.
    """
    m = np.linalg.inv(labels.affine) @ grid.affine  # grid index -> label index
    rot = m[:3, :3]
    order = [int(np.argmax(np.abs(rot[:, j]))) for j in range(3)]
    flips = [bool(rot[order[j], j] < 0) for j in range(3)]
    if sorted(order) == [0, 1, 2]:
        moved = labels.grid.reoriented(order, flips)
        if moved.same_as(grid):
            arr = labels.array.transpose(order)
            axes = tuple(j for j in range(3) if flips[j])
            return np.flip(arr, axes) if axes else arr
    raise GeometryError(
        f"The label map's grid (shape {labels.shape}, axes "
        f"{''.join(geometry.axis_codes(labels.affine))}, spacing "
        f"{np.round(labels.spacing, 4).tolist()} mm, origin "
        f"{np.round(labels.origin_lps, 3).tolist()}) is not the voxel grid of {target} "
        f"(shape {grid.shape}, spacing {np.round(grid.spacing, 4).tolist()} mm, origin "
        f"{np.round(grid.affine[:3, 3], 3).tolist()}); a SEG must lie on its CT's voxels: "
        "draw or resample the labels on this CT."
    )


# ----------------------------------------------------------------------------- source images


def _read_headers(ct: Volume) -> list[Dataset]:
    """The CT's DICOM headers (no pixels), empty identifying UIDs filled in memory."""
    import pydicom

    meta = ct.metadata
    if meta.source != "dicom" or not meta.source_files:
        origin = meta.source_files[0] if meta.source_files else "memory"
        raise DicomSeriesError(
            f"{origin}: the CT did not come from DICOM (source {meta.source or 'unknown'!r}), "
            "so a DICOM SEG has no images to reference; export the labels as NIfTI with their "
            "names instead (ivcviewer export LABELS --ct CT --to nifti)."
        )
    headers: list[Dataset] = []
    for path in meta.source_files:
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except (OSError, ValueError, EOFError) as exc:
            raise DicomSeriesError(
                f"{path}: cannot read the CT's DICOM header ({exception_summary(exc)}); the SEG "
                "must reference it: check that the CT's files are still there and unchanged."
            ) from exc
        if str(ds.get("SeriesInstanceUID", "")) != meta.series_uid:
            raise DicomSeriesError(
                f"{path}: SeriesInstanceUID {ds.get('SeriesInstanceUID', '')!s} is not the "
                f"CT's series {meta.series_uid}; reload the CT so its files are one series."
            )
        headers.append(ds)
    _fill_identity(headers, meta.source_files)
    return headers


#: Attributes a SEG copies or references that anonymisation may have emptied.
_IDENTITY = ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID")
#: Type 2 attributes of the patient and study a SEG repeats from its images.
_TYPE2_COPIED = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "StudyID",
    "AccessionNumber",
    "ReferringPhysicianName",
)


def _fill_identity(headers: list[Dataset], files: Sequence[Path]) -> None:
    """Fill empty identifying UIDs of the (in-memory) headers, with a warning.

    SOPClassUID and SOPInstanceUID come from each file's meta information (the same identity);
    an empty StudyInstanceUID or SeriesInstanceUID (an anonymised series) gets a UID derived
    from the frame of reference and the files' instance UIDs, the same on every export of
    the series. The files themselves are not changed.
    """
    from pydicom.uid import generate_uid

    def empty(ds: Dataset, key: str) -> bool:
        return not str(ds.get(key, "") or "").strip()

    for ds in headers:
        file_meta = getattr(ds, "file_meta", None) or {}
        for key, meta_key in (
            ("SOPClassUID", "MediaStorageSOPClassUID"),
            ("SOPInstanceUID", "MediaStorageSOPInstanceUID"),
        ):
            if empty(ds, key) and meta_key in file_meta:
                setattr(ds, key, file_meta[meta_key].value)
    derived = []
    for key in ("StudyInstanceUID", "SeriesInstanceUID"):
        if any(empty(ds, key) for ds in headers):
            seed = [key, str(headers[0].get("FrameOfReferenceUID", ""))]
            seed += sorted(str(ds.get("SOPInstanceUID", "")) for ds in headers)
            uid = str(generate_uid(entropy_srcs=seed))
            for ds in headers:
                setattr(ds, key, uid)
            derived.append(f"{key} {uid}")
    for ds in headers:  # type 2 attributes a SEG copies from its images: empty if absent
        for key in _TYPE2_COPIED:
            if key not in ds:
                setattr(ds, key, "")
    missing = [k for k in _IDENTITY if any(empty(ds, k) for ds in headers)]
    if missing:
        raise DicomSeriesError(
            f"{files[0]}: the CT's images have no {', '.join(missing)} (not even in their file "
            "meta information), so a SEG cannot reference them; export NIfTI with names instead."
        )
    if derived:
        warnings.warn(
            f"{files[0].parent}: the CT's series is anonymised without "
            f"{' and '.join(d.split()[0] for d in derived)}; the SEG references it by derived "
            f"UIDs ({'; '.join(derived)}), which a PACS will not match to the series",
            stacklevel=4,
        )


def _frame_planes(ds: Dataset) -> list[tuple[Any, Any, Any]]:
    """``(ImagePositionPatient, ImageOrientationPatient, PixelSpacing)`` of each frame."""
    if "PerFrameFunctionalGroupsSequence" not in ds:
        return [(ds.ImagePositionPatient, ds.ImageOrientationPatient, ds.PixelSpacing)]
    shared = ds.SharedFunctionalGroupsSequence[0]
    out = []
    for item in ds.PerFrameFunctionalGroupsSequence:

        def group(name: str, item: Dataset = item) -> Dataset:
            return (item if name in item else shared)[name][0]

        out.append(
            (
                group("PlanePositionSequence").ImagePositionPatient,
                group("PlaneOrientationSequence").ImageOrientationPatient,
                group("PixelMeasuresSequence").PixelSpacing,
            )
        )
    return out


@dataclass(frozen=True)
class SourceImages:
    """The CT's DICOM images as a SEG references them.

    Attributes
    ----------
    headers
        The headers (no pixels), in the order the SEG's source images are given.
    slices
        For every frame of those images, in order, its slice of ``grid``.
    grid
        The images' own voxel grid: slices in order along the normal, rows and columns as
        stored.
    """

    headers: list[Dataset]
    slices: list[int]
    grid: geometry.Grid


#: One frame's plane: ``(header index, position, row step, column step)`` (LPS mm).
_Plane = tuple[int, NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]


def _planes(headers: Sequence[Dataset], files: Sequence[Path]) -> list[_Plane]:
    """``(header index, position, row step, column step)`` of every frame, in file order."""
    out: list[_Plane] = []
    for i, ds in enumerate(headers):
        try:
            for ipp, iop, ps in _frame_planes(ds):
                p, o, s = (np.asarray(v, dtype=float).ravel() for v in (ipp, iop, ps))
                if (p.size, o.size, s.size) != (3, 6, 2) or not np.isfinite([*p, *o, *s]).all():
                    raise ValueError("values of the wrong length or not finite")
                out.append((i, p, o[3:] * s[0], o[:3] * s[1]))
        except (AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:
            raise DicomSeriesError(
                f"{files[i]}: the image's plane (ImagePositionPatient, ImageOrientationPatient, "
                f"PixelSpacing) cannot be read ({exception_summary(exc)}); a SEG needs it to "
                "place its frames: use a CT whose images carry their geometry."
            ) from exc
    return out


def source_images(ct: Volume) -> SourceImages:
    """The headers of the CT's DICOM images and the grid they form.

    Works for a series of single-frame images (sorted along the slice normal) and for one
    multi-frame image (frames in file order), whatever voxel order ``ct`` was loaded or
    reoriented to.

    Raises
    ------
    DicomSeriesError
        For a CT not from DICOM, unreadable headers, or several multi-frame files.
    GeometryError
        When the images do not form one regular grid (other orientations, sizes or pixel
        spacings, or uneven slice positions).
    """
    headers = _read_headers(ct)
    if len(headers) > 1 and any("PerFrameFunctionalGroupsSequence" in h for h in headers):
        raise DicomSeriesError(
            f"{ct.metadata.source_files[0]}: the CT is made of several multi-frame files; a SEG "
            "is written for a series of single-frame images or for one multi-frame image."
        )
    planes = _planes(headers, ct.metadata.source_files)
    _, _, row, col = planes[0]
    normal = np.cross(col, row)
    normal /= np.linalg.norm(normal)
    n = len(planes)
    ordered = [int(j) for j in np.argsort([np.dot(p, normal) for _, p, _, _ in planes])]
    rank = [0] * n
    for k, j in enumerate(ordered):
        rank[j] = k
    start, end = planes[ordered[0]][1], planes[ordered[-1]][1]
    thickness = float(headers[0].get("SliceThickness", 1) or 1)
    step = (end - start) / (n - 1) if n > 1 else normal * thickness
    affine = np.eye(4)
    affine[:3, 0], affine[:3, 1], affine[:3, 2], affine[:3, 3] = step, row, col, start
    grid = geometry.Grid((n, int(headers[0].Rows), int(headers[0].Columns)), affine)
    inv = np.linalg.inv(affine)
    for j, (i, p, r, c) in enumerate(planes):
        vox = geometry.apply_affine(inv, np.stack([p, p + r, p + c]))
        k = rank[j]
        expected = np.array([[k, 0, 0], [k, 1, 0], [k, 0, 1]], dtype=float)
        size = (int(headers[i].Rows), int(headers[i].Columns))
        if size != grid.shape[1:] or np.abs(vox - expected).max() > POSITION_TOLERANCE_VOXELS:
            raise GeometryError(
                f"{ct.metadata.source_files[i]}: the image (position {np.round(p, 3).tolist()}, "
                f"{size[0]} x {size[1]} pixels) is not slice {k} of one regular grid with the "
                f"series' other images (orientation, pixel spacing, size or slice step differ); "
                "a SEG needs evenly spaced parallel images of one size."
            )
    if len(headers) == 1:
        return SourceImages(headers, rank, grid)
    return SourceImages([headers[planes[j][0]] for j in ordered], list(range(n)), grid)


# ----------------------------------------------------------------------------- segments


def _segment_values(arr: NDArray[Any], table: LabelTable) -> tuple[list[int], LabelTable]:
    """The label values to write (present in ``arr``), and the table with entries for all."""
    present = [int(v) for v in np.unique(arr) if v != 0]
    if present and present[0] < 0:
        raise MeasurementError(
            f"Label map values must be 0 (background) or positive, got {present[0]}; a SEG "
            "numbers its segments from 1."
        )
    full, added = table.with_defaults(present)
    if added:
        warnings.warn(
            f"label value(s) {added} are not in the label table: written as "
            f"{', '.join(full[v].name for v in added[:5])}{'...' if len(added) > 5 else ''}",
            stacklevel=3,
        )
    empty = [v for v in table if v not in set(present)]
    if empty:
        names = ", ".join(f"{table[v].name} ({v})" for v in empty[:8])
        warnings.warn(
            f"{len(empty)} label(s) of the table have no voxel and are not written as "
            f"segments: {names}{'...' if len(empty) > 8 else ''}",
            stacklevel=3,
        )
    if not present:
        raise MeasurementError(
            "The label map has no labelled voxel on the CT, so there is no segment to write; "
            "paint or fit at least one region first."
        )
    return present, full


def _algorithm(
    algorithm: Algorithm, parameters: Mapping[str, str] | None
) -> AlgorithmIdentificationSequence:
    import highdicom as hd
    from pydicom.sr.codedict import codes

    family = {
        "manual": codes.cid7162.ManualProcessing,
        "semiautomatic": codes.cid7162.DeformableModels,
    }[algorithm]
    return hd.AlgorithmIdentificationSequence(
        name=ALGORITHM_NAME,
        family=family,
        version=__version__,
        parameters=dict(parameters) if parameters else None,
    )


def segment_description(
    number: int,
    name: str,
    rgba: Sequence[float],
    codes: SegmentCodes | None,
    algorithm: Algorithm,
    algorithm_id: AlgorithmIdentificationSequence,
) -> SegmentDescription:
    """One segment's description: label, colour, codes, algorithm and tracking identifiers."""
    import highdicom as hd

    generic = codes is None
    c = GENERIC_CODES if codes is None else codes
    r, g, b = (min(255.0, max(0.0, round(float(x) * 255))) for x in rgba[:3])
    desc = hd.seg.SegmentDescription(
        segment_number=number,
        segment_label=name[:MAX_LABEL_CHARS],
        segmented_property_category=c.category,
        segmented_property_type=c.type,
        algorithm_type=algorithm.upper(),
        algorithm_identification=algorithm_id,
        tracking_id=name[:MAX_LABEL_CHARS],
        tracking_uid=hd.UID(),
        anatomic_regions=None if c.anatomic_region is None else [c.anatomic_region],
        display_color=hd.color.CIELabColor.from_rgb(r, g, b),
    )
    if algorithm == "manual":
        # Segment Algorithm Name is 1C: only for algorithms that are not manual; the
        # identification sequence (type 3) still names ivcviewer (family Manual Processing)
        del desc.SegmentAlgorithmName
    if c.anatomic_region is not None and c.anatomic_region_modifier is not None:
        region = desc.AnatomicRegionSequence[0]
        region.AnatomicRegionModifierSequence = [c.anatomic_region_modifier]
    if c.modifier is not None:
        item = desc.SegmentedPropertyTypeCodeSequence[0]
        item.SegmentedPropertyTypeModifierCodeSequence = [c.modifier]
    if generic:
        desc.SegmentDescription = GENERIC_DESCRIPTION
    return desc


# ----------------------------------------------------------------------------- the SEG


def build_seg(
    labels: Volume,
    table: LabelTable,
    ct: Volume,
    *,
    algorithm: Algorithm,
    codes: Mapping[int, SegmentCodes] | None = None,
    encoding: Encoding = DEFAULT_ENCODING,
    series_description: str = "ivcviewer segmentation",
    algorithm_parameters: Mapping[str, str] | None = None,
) -> Segmentation:
    """The DICOM SEG of ``labels`` on ``ct`` (not written).

    Parameters
    ----------
    labels
        Integer label map on the CT's voxels (any voxel order).
    table
        Names and colours of the label values.
    ct
        The CT, loaded from DICOM (its ``metadata.source_files`` are read, headers only).
    algorithm
        ``"manual"`` (painted) or ``"semiautomatic"`` (fitted by ivcviewer).
    codes
        Codes by label value; other values are coded by their name
        (:func:`~ivcviewer.interop.codes.codes_for_structure`), else generically.
    encoding
        ``"binary"`` (default) or ``"labelmap"``.
    series_description
        SeriesDescription of the SEG.
    algorithm_parameters
        Recorded in the Algorithm Identification (for example the case file's id).
    """
    if algorithm not in ("manual", "semiautomatic"):
        raise ValueError(
            f"Argument 'algorithm' must be 'manual' or 'semiautomatic', got {algorithm!r}."
        )
    if encoding not in ("binary", "labelmap"):
        raise ValueError(f"Argument 'encoding' must be 'binary' or 'labelmap', got {encoding!r}.")
    sources = source_images(ct)
    arr = labels_on_grid(labels.with_array(_label_array(labels)), sources.grid, target=_ct_name(ct))
    values, full = _segment_values(arr, table)
    lut_dtype = np.uint8 if len(values) < 256 else np.uint16
    numbers = np.searchsorted(np.asarray(values), arr)  # value -> 1..N (0 stays 0)
    frames = np.where(arr > 0, numbers + 1, 0).astype(lut_dtype)[sources.slices]
    algorithm_id = _algorithm(algorithm, algorithm_parameters)
    given = dict(codes or {})
    descriptions = [
        segment_description(
            i,
            full[v].name,
            full[v].rgba,
            given.get(v) or codes_for_structure(full[v].name),
            algorithm,
            algorithm_id,
        )
        for i, v in enumerate(values, start=1)
    ]
    try:
        seg = _segmentation(sources.headers, frames, encoding, descriptions, series_description)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise DicomSeriesError(
            f"{ct.metadata.source_files[0]}: a SEG cannot be made from the CT's DICOM headers "
            f"({exception_summary(exc)}); check the series with dciodvfy, or export NIfTI with "
            "names instead."
        ) from exc
    seg.SeriesDescription = series_description[:64]
    seg.ContentCreatorName = ""
    return seg


def _segmentation(
    headers: list[Dataset],
    frames: NDArray[Any],
    encoding: Encoding,
    descriptions: list[SegmentDescription],
    series_description: str,
) -> Segmentation:
    import highdicom as hd

    return hd.seg.Segmentation(
        source_images=headers,
        pixel_array=frames,
        segmentation_type=encoding.upper(),
        segment_descriptions=descriptions,
        series_instance_uid=hd.UID(),
        series_number=SEG_SERIES_NUMBER,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer=ALGORITHM_NAME,
        manufacturer_model_name=ALGORITHM_NAME,
        software_versions=__version__,
        device_serial_number=ALGORITHM_NAME,
        content_description=series_description[:64],
        content_label="IVCVIEWER",
        omit_empty_frames=True,
        transfer_syntax_uid=TRANSFER_SYNTAX[encoding],
    )


def check_seg_output(out: str | Path, inputs: Sequence[str | Path], *, force: bool = False) -> Path:
    """Validate where a SEG goes: a ``.dcm`` name, outside every input folder, new unless
    ``force``.

    Raises
    ------
    FileNotFoundError
        When the folder to write into does not exist.
    VolumeFormatError
        For another ending or a path inside an input folder.
    OutputExistsError
        For an existing file without ``force`` (or a folder at that path).
    """
    path = Path(out)
    check_output_path(path, inputs, suffixes=SEG_SUFFIXES)
    if path.is_dir() or (path.exists() and not force):
        what = "a folder" if path.is_dir() else "a file"
        raise OutputExistsError(
            f"{path}: {what} is already there; choose another name"
            f"{'' if path.is_dir() else ' or pass --force to replace it'}."
        )
    if not path.parent.is_dir():
        raise not_found(path.parent)
    return path


def write_seg(
    labels: Volume,
    table: LabelTable,
    ct: Volume,
    out: str | Path,
    *,
    algorithm: Algorithm,
    codes: Mapping[int, SegmentCodes] | None = None,
    encoding: Encoding = DEFAULT_ENCODING,
    force: bool = False,
    series_description: str = "ivcviewer segmentation",
    algorithm_parameters: Mapping[str, str] | None = None,
) -> Path:
    """Build the SEG (:func:`build_seg`) and write it to ``out`` atomically.

    ``out`` must end in ``.dcm``, lie outside the CT's DICOM folder (a SEG there would join
    the folder's series when it is read again) and not exist unless ``force``; otherwise where
    it goes is the user's choice. The file appears complete or not at all.
    """
    path = check_seg_output(out, ct.metadata.source_files, force=force)
    seg = build_seg(
        labels,
        table,
        ct,
        algorithm=algorithm,
        codes=codes,
        encoding=encoding,
        series_description=series_description,
        algorithm_parameters=algorithm_parameters,
    )
    with atomic_file(path, suffix=".dcm") as tmp:
        seg.save_as(tmp, enforce_file_format=True)
    return path
