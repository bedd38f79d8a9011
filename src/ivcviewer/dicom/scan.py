"""Header-only discovery of DICOM image series in a folder tree, a file or a DICOMDIR.

:func:`scan` reads only the headers (``stop_before_pixels``), groups images by
SeriesInstanceUID, splits a UID that holds several stacks (orientations, image types,
acquisitions, matrix sizes), leaves out what is not a volume (localisers, secondary captures,
non-image objects, non-DICOM files) and reports every file it leaves out.
"""

from __future__ import annotations

import os
import struct
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from numpy.typing import NDArray
from pydicom import uid as pduid
from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from .. import geometry
from ..errors import DicomSeriesError, GeometryError, NoSeriesFoundError
from ..report import GeometryReport, Severity
from .enhanced import frame_geometries
from .stack import SPACING_TOLERANCE_MM, StackGeometry, analyse_stack

#: Single-frame cross-sectional image classes whose files are stacked into volumes.
SINGLE_FRAME_CLASSES: frozenset[str] = frozenset(
    {
        pduid.CTImageStorage,
        pduid.MRImageStorage,
        pduid.PositronEmissionTomographyImageStorage,
    }
)

#: Enhanced (multi-frame) cross-sectional classes read through their functional groups.
MULTI_FRAME_CLASSES: frozenset[str] = frozenset(
    {
        pduid.EnhancedCTImageStorage,
        pduid.LegacyConvertedEnhancedCTImageStorage,
        pduid.EnhancedMRImageStorage,
        pduid.LegacyConvertedEnhancedMRImageStorage,
        pduid.EnhancedPETImageStorage,
        pduid.LegacyConvertedEnhancedPETImageStorage,
    }
)

#: Secondary capture classes (screenshots, scanned documents): never stacked.
SECONDARY_CAPTURE_CLASSES: frozenset[str] = frozenset(
    {
        pduid.SecondaryCaptureImageStorage,
        pduid.MultiFrameSingleBitSecondaryCaptureImageStorage,
        pduid.MultiFrameGrayscaleByteSecondaryCaptureImageStorage,
        pduid.MultiFrameGrayscaleWordSecondaryCaptureImageStorage,
        pduid.MultiFrameTrueColorSecondaryCaptureImageStorage,
    }
)

#: Uncompressed little-endian syntaxes whose pixel bytes can be read in place.
NATIVE_LE_SYNTAXES: frozenset[str] = frozenset(
    {pduid.ImplicitVRLittleEndian, pduid.ExplicitVRLittleEndian}
)

#: (7FE0,0010) PixelData as stored little endian and big endian.
_PIXEL_DATA_TAGS = (b"\xe0\x7f\x10\x00", b"\x7f\xe0\x00\x10")


@dataclass(frozen=True)
class SkippedFile:
    """A file :func:`scan` left out, with a report code and the reason."""

    path: Path
    code: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        """JSON form ``{path, code, reason}``."""
        return {"path": str(self.path), "code": self.code, "reason": self.reason}


@dataclass(frozen=True)
class PixelFormat:
    """How the stored pixel values of a stack are encoded."""

    rows: int
    columns: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    samples_per_pixel: int
    photometric: str
    transfer_syntax: str

    @property
    def frame_bytes(self) -> int:
        """Bytes of one uncompressed frame."""
        return self.rows * self.columns * self.samples_per_pixel * self.bits_allocated // 8

    @property
    def compressed(self) -> bool:
        """The pixel data is encapsulated (compressed)."""
        return bool(pduid.UID(self.transfer_syntax).is_compressed)


@dataclass(frozen=True)
class ImageRecord:
    """One image (a file, or one frame of a multi-frame file) as its header describes it."""

    path: Path
    frame: int
    n_frames: int
    sop_class_uid: str
    position: tuple[float, float, float]
    orientation: tuple[float, ...]
    pixel_spacing: tuple[float, float]
    slice_thickness: float | None
    rescale: tuple[float, float] | None
    window: tuple[float, float] | None
    instance_number: int
    acquisition_number: str
    image_type: tuple[str, ...]
    pixel_format: PixelFormat
    data_offset: int | None
    """Absolute byte offset of this frame's stored values, for uncompressed little-endian
    files whose PixelData element was checked; ``None`` means: decode through pydicom."""


@dataclass
class SeriesInfo:
    """One stack of parallel images that loads as one volume.

    ``files`` are sorted along the slice normal; ``shape``, ``spacing_mm`` and ``affine``
    describe the stack as stored (gaps count as slices of the regular grid; duplicates once).
    """

    series_uid: str
    modality: str
    description: str
    files: list[Path]
    n_images: int
    shape: tuple[int, int, int]
    spacing_mm: tuple[float, float, float]
    affine: NDArray[np.float64]
    report: GeometryReport
    window: tuple[float, float] | None
    study_uid: str = ""
    frame_of_reference_uid: str = ""
    patient_id: str = ""
    series_number: int | None = None
    sop_class_uid: str = ""
    stack_label: str = ""
    images: list[ImageRecord] = field(default_factory=list, repr=False)
    stack: StackGeometry | None = field(default=None, repr=False)
    unreadable: list[SkippedFile] = field(default_factory=list)

    @property
    def pixel_format(self) -> PixelFormat:
        """The stack's pixel encoding (that of its first image)."""
        return self.images[0].pixel_format

    def to_dict(self) -> dict[str, Any]:
        """JSON form used by ``ivcviewer info --json``."""
        return {
            "series_uid": self.series_uid,
            "modality": self.modality,
            "description": self.description,
            "stack_label": self.stack_label,
            "n_images": self.n_images,
            "shape": list(self.shape),
            "spacing_mm": [float(v) for v in self.spacing_mm],
            "affine_lps": self.affine.tolist(),
            "window": list(self.window) if self.window else None,
            "transfer_syntax": self.pixel_format.transfer_syntax,
            "report": self.report.to_list(),
        }


@dataclass
class ScanResult:
    """The series found under a path and every file left out."""

    root: Path
    series: list[SeriesInfo] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)

    def get(self, series_uid: str) -> list[SeriesInfo]:
        """The stacks of one SeriesInstanceUID (several when the UID was split)."""
        return [s for s in self.series if s.series_uid == series_uid]

    def to_dict(self) -> dict[str, Any]:
        """JSON form ``{series: [...], skipped: [...]}``."""
        return {
            "series": [s.to_dict() for s in self.series],
            "skipped": [s.to_dict() for s in self.skipped],
        }


@dataclass
class _Header:
    """Series-level attributes of one image, used for grouping."""

    record: ImageRecord
    series_uid: str
    study_uid: str
    frame_of_reference_uid: str
    modality: str
    description: str
    series_number: int | None
    patient_id: str


def scan(
    path: Path | str,
    *,
    recursive: bool = True,
    tolerance_mm: float = SPACING_TOLERANCE_MM,
) -> ScanResult:
    """Find the image series under ``path`` by reading headers only.

    Parameters
    ----------
    path
        A folder (searched recursively unless ``recursive`` is false), one DICOM file, or a
        DICOMDIR (its referenced files are scanned).
    recursive
        Search sub-folders.
    tolerance_mm
        Position tolerance for the stack checks (see :mod:`ivcviewer.dicom.stack`).

    Returns
    -------
    ScanResult
        Series sorted by study, series number and UID; ``skipped`` lists every file left out
        with its code (``localizer_skipped``, ``non_image_skipped``,
        ``secondary_capture_skipped``, ``unreadable_file``) and the reason.

    Raises
    ------
    NoSeriesFoundError
        When ``path`` does not exist.
    """
    root = Path(path)
    if not root.exists():
        raise NoSeriesFoundError(f"{root}: no such file or folder; give a DICOM folder or file.")
    result = ScanResult(root=root)
    headers: list[_Header] = []
    unreadable_by_series: dict[str, list[SkippedFile]] = defaultdict(list)
    for file in _candidate_files(root, recursive, result.skipped):
        out = _read_header(file)
        if isinstance(out, SkippedFile):
            result.skipped.append(out)
            continue
        if isinstance(out, tuple):  # (skipped, series uid) of a truncated image
            result.skipped.append(out[0])
            unreadable_by_series[out[1]].append(out[0])
            continue
        headers.extend(out)

    by_uid: dict[str, list[_Header]] = defaultdict(list)
    for h in headers:
        by_uid[h.series_uid].append(h)
    for uid, group in by_uid.items():
        try:
            result.series.extend(
                _build_series(uid, group, unreadable_by_series.get(uid, []), tolerance_mm)
            )
        except DicomSeriesError as exc:  # a geometry no grid can hold: say so per file
            result.skipped.extend(
                SkippedFile(h.record.path, "unreadable_file", str(exc)) for h in group
            )
    result.series.sort(
        key=lambda s: (
            s.study_uid,
            s.series_number if s.series_number is not None else 1 << 30,
            s.series_uid,
            s.stack_label,
        )
    )
    return result


# ----------------------------------------------------------------------------- discovery


def _is_dicomdir(path: Path) -> bool:
    if path.name.upper() == "DICOMDIR":
        return True
    try:
        meta = pydicom.filereader.read_file_meta_info(path)
    except (InvalidDicomError, OSError, EOFError, ValueError, KeyError):
        return False
    return str(meta.get("MediaStorageSOPClassUID", "")) == pduid.MediaStorageDirectoryStorage


def _candidate_files(root: Path, recursive: bool, skipped: list[SkippedFile]) -> Iterator[Path]:
    """Files to read: those under a folder, the file itself, or a DICOMDIR's references."""
    if root.is_file():
        if _is_dicomdir(root):
            yield from _dicomdir_files(root, skipped)
        else:
            yield root
        return
    if recursive:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                yield Path(dirpath) / name
    else:
        for p in sorted(root.iterdir()):
            if p.is_file():
                yield p


def _dicomdir_files(dicomdir: Path, skipped: list[SkippedFile]) -> Iterable[Path]:
    """Files referenced by a DICOMDIR."""
    from pydicom.fileset import FileSet

    try:
        fs = FileSet(pydicom.dcmread(dicomdir))
    except (InvalidDicomError, OSError, EOFError, ValueError, KeyError, AttributeError) as exc:
        skipped.append(SkippedFile(dicomdir, "unreadable_file", f"unreadable DICOMDIR: {exc}"))
        return []
    files: list[Path] = []
    for instance in fs:
        p = Path(instance.path)
        if p.is_file():
            files.append(p)
        else:
            skipped.append(
                SkippedFile(p, "unreadable_file", f"listed in {dicomdir} but the file is missing")
            )
    return sorted(files)


def _looks_like_headerless_dicom(path: Path) -> bool:
    """DICOM without the 128-byte preamble: starts with a group 0x0002 or 0x0008 tag."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return len(head) == 8 and head[:2] in (b"\x02\x00", b"\x08\x00") and head[3:4] == b"\x00"


# ----------------------------------------------------------------------------- one file


def _read_header(path: Path) -> list[_Header] | SkippedFile | tuple[SkippedFile, str]:
    """Read one file's header and classify it."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fp:
            try:
                ds = pydicom.dcmread(fp, stop_before_pixels=True)
            except InvalidDicomError:
                if not _looks_like_headerless_dicom(path):
                    return SkippedFile(path, "non_image_skipped", "not a DICOM file")
                fp.seek(0)
                ds = pydicom.dcmread(fp, stop_before_pixels=True, force=True)
            pixel_offset = fp.tell()
            element_head = fp.read(12)
    except (OSError, EOFError, ValueError, KeyError, TypeError, struct.error) as exc:
        return SkippedFile(path, "unreadable_file", f"header cannot be read: {exc}")

    meta = getattr(ds, "file_meta", None)
    f = _Fields(ds)
    sop_class = f.text("SOPClassUID")
    if not sop_class and meta is not None:
        sop_class = str(meta.get("MediaStorageSOPClassUID", "") or "")
    if sop_class == pduid.MediaStorageDirectoryStorage or "DirectoryRecordSequence" in ds:
        return SkippedFile(path, "non_image_skipped", "DICOMDIR (media directory index)")
    if sop_class in SECONDARY_CAPTURE_CLASSES:
        return SkippedFile(
            path, "secondary_capture_skipped", f"secondary capture ({pduid.UID(sop_class).name})"
        )
    if sop_class not in SINGLE_FRAME_CLASSES and sop_class not in MULTI_FRAME_CLASSES:
        name = pduid.UID(sop_class).name if sop_class else "no SOP Class UID"
        return SkippedFile(path, "non_image_skipped", f"not a cross-sectional image ({name})")
    image_type = tuple(v.upper() for v in f.texts("ImageType"))
    if "LOCALIZER" in image_type:
        return SkippedFile(
            path, "localizer_skipped", f"localizer (ImageType {_joined(image_type)})"
        )
    if (
        len(image_type) >= 2
        and image_type[0] == "DERIVED"
        and image_type[1] == "SECONDARY"
        and "AXIAL" not in image_type
    ):
        return SkippedFile(
            path,
            "secondary_capture_skipped",
            f"derived secondary image (ImageType {_joined(image_type)})",
        )

    series_uid = f.text("SeriesInstanceUID")
    ts = (
        str(meta.get("TransferSyntaxUID", pduid.ImplicitVRLittleEndian))
        if meta
        else str(pduid.ImplicitVRLittleEndian)
    )
    if element_head[:4] not in _PIXEL_DATA_TAGS:
        if pixel_offset >= size:
            return (
                SkippedFile(path, "unreadable_file", "file ends before its pixel data (truncated)"),
                series_uid,
            )
        return SkippedFile(path, "non_image_skipped", "no PixelData element")
    try:
        fmt = PixelFormat(
            rows=f.ushort("Rows"),
            columns=f.ushort("Columns"),
            bits_allocated=f.ushort("BitsAllocated"),
            bits_stored=f.ushort("BitsStored", f.ushort("BitsAllocated")),
            pixel_representation=f.ushort("PixelRepresentation", 0),
            samples_per_pixel=f.ushort("SamplesPerPixel", 1),
            photometric=f.text("PhotometricInterpretation") or "MONOCHROME2",
            transfer_syntax=ts,
        )
    except (AttributeError, TypeError, ValueError) as exc:
        return SkippedFile(path, "unreadable_file", f"image pixel module incomplete: {exc}")
    n_frames = int(f.number("NumberOfFrames", 1.0))

    # pixel data present and complete?
    data_start: int | None = None
    if ts in NATIVE_LE_SYNTAXES:
        explicit = ts == pduid.ExplicitVRLittleEndian
        hdr_len = 12 if explicit else 8
        length = int.from_bytes(element_head[hdr_len - 4 : hdr_len], "little")
        expected = fmt.frame_bytes * n_frames
        if length == 0xFFFFFFFF or length < expected:
            return (
                SkippedFile(
                    path,
                    "unreadable_file",
                    f"PixelData holds {length} bytes, {expected} expected for {n_frames} "
                    f"frame(s) of {fmt.rows}x{fmt.columns}x{fmt.bits_allocated} bit",
                ),
                series_uid,
            )
        if pixel_offset + hdr_len + expected > size:
            return (
                SkippedFile(
                    path,
                    "unreadable_file",
                    f"truncated: pixel data needs {pixel_offset + hdr_len + expected} bytes, "
                    f"the file has {size}",
                ),
                series_uid,
            )
        data_start = pixel_offset + hdr_len

    try:
        records = _records(ds, path, sop_class, fmt, n_frames, data_start, image_type)
    except (DicomSeriesError, GeometryError) as exc:
        return SkippedFile(path, "unreadable_file", str(exc))
    if isinstance(records, SkippedFile):
        return records
    series_number = f.numbers("SeriesNumber")
    return [
        _Header(
            record=r,
            series_uid=series_uid,
            study_uid=f.text("StudyInstanceUID"),
            frame_of_reference_uid=f.text("FrameOfReferenceUID"),
            modality=f.text("Modality"),
            description=str(ds.get("SeriesDescription", "") or ""),
            series_number=int(series_number[0]) if series_number else None,
            patient_id=str(ds.get("PatientID", "") or ""),
        )
        for r in records
    ]


def _joined(values: tuple[str, ...]) -> str:
    """A multi-valued string as DICOM writes it (``ORIGINAL\\PRIMARY``)."""
    return "\\".join(values)


#: Tags of the keywords :class:`_Fields` reads.
_TAGS: dict[str, int] = {}


class _Fields:
    """Header values of a dataset, parsed from the raw little-endian bytes when possible.

    pydicom converts values on first access, which costs more than reading the file; for the
    plain string, decimal and unsigned-short values a scan needs, the raw bytes are parsed
    directly. Anything else (big endian, already converted, unparsable) goes through pydicom.
    """

    def __init__(self, ds: Dataset) -> None:
        self.ds = ds

    def _raw(self, keyword: str) -> bytes | None | bool:
        """Raw value bytes; ``False`` when absent; ``None`` when pydicom must convert it."""
        tag = _TAGS.get(keyword)
        if tag is None:
            tag = _TAGS.setdefault(keyword, int(tag_for_keyword(keyword) or 0))
        elem = self.ds.get_item(tag)
        if elem is None:
            return False
        if isinstance(elem, RawDataElement) and elem.is_little_endian:
            return elem.value if isinstance(elem.value, bytes) else None
        return None

    def text(self, keyword: str) -> str:
        """A single ASCII value (UI, CS, SH, IS as text); ``""`` when absent."""
        raw = self._raw(keyword)
        if raw is False:
            return ""
        if isinstance(raw, bytes):
            return raw.decode("latin-1").strip(" \x00")
        value = self.ds[keyword].value
        return "" if value is None else str(value)

    def texts(self, keyword: str) -> list[str]:
        """A multi-valued string (CS)."""
        raw = self._raw(keyword)
        if raw is False:
            return []
        if isinstance(raw, bytes):
            text = raw.decode("latin-1").strip(" \x00")
            return [v.strip() for v in text.split("\\")] if text else []
        return [str(v) for v in _as_list(self.ds[keyword].value)]

    def numbers(self, keyword: str) -> list[float]:
        """A DS or IS value (one or several numbers); ``[]`` when absent or empty."""
        raw = self._raw(keyword)
        if raw is False:
            return []
        if isinstance(raw, bytes):
            try:
                return [float(v) for v in raw.split(b"\\") if v.strip(b" \x00")]
            except ValueError:
                pass
        return [float(v) for v in _as_list(self.ds[keyword].value)]

    def number(self, keyword: str, default: float | None) -> Any:
        """The first number of a DS or IS value, or ``default``."""
        values = self.numbers(keyword)
        return values[0] if values else default

    def ushort(self, keyword: str, default: int | None = None) -> int:
        """A US value; ``default`` (or a ValueError when none) when absent."""
        raw = self._raw(keyword)
        if isinstance(raw, bytes) and len(raw) >= 2:
            return int.from_bytes(raw[:2], "little")
        if raw is None:
            return int(self.ds[keyword].value)
        if default is None:
            raise ValueError(f"{keyword} is missing")
        return default


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, (str, bytes)):
        return [value]
    try:
        return list(value)
    except TypeError:
        return [value]


def _window(ds: Dataset) -> tuple[float, float] | None:
    f = _Fields(ds)
    c, w = f.numbers("WindowCenter"), f.numbers("WindowWidth")
    return (c[0], w[0]) if c and w else None


def _rescale(ds: Dataset) -> tuple[float, float] | None:
    f = _Fields(ds)
    slope, intercept = f.numbers("RescaleSlope"), f.numbers("RescaleIntercept")
    return (slope[0], intercept[0]) if slope and intercept else None


def _records(
    ds: Dataset,
    path: Path,
    sop_class: str,
    fmt: PixelFormat,
    n_frames: int,
    data_start: int | None,
    image_type: tuple[str, ...],
) -> list[ImageRecord] | SkippedFile:
    """One record per image (per frame for an enhanced multi-frame file)."""
    f = _Fields(ds)
    instance_number = int(f.number("InstanceNumber", 0.0))
    acquisition = f.text("AcquisitionNumber")
    thickness = f.number("SliceThickness", None)
    common: dict[str, Any] = dict(
        path=path,
        n_frames=n_frames,
        sop_class_uid=sop_class,
        instance_number=instance_number,
        acquisition_number=acquisition,
        image_type=image_type,
        pixel_format=fmt,
    )
    if sop_class in MULTI_FRAME_CLASSES:
        out = []
        for i, fg in enumerate(frame_geometries(ds, path)):
            if fg.position is None or fg.orientation is None or fg.pixel_spacing is None:
                return SkippedFile(
                    path,
                    "non_image_skipped",
                    f"frame {i + 1} has no PlanePosition/PlaneOrientation/PixelMeasures; "
                    "it cannot be placed in patient space",
                )
            bad = _bad_geometry(fg.orientation, fg.pixel_spacing)
            if bad:
                return SkippedFile(path, "unreadable_file", f"frame {i + 1}: {bad}")
            out.append(
                ImageRecord(
                    frame=i,
                    position=fg.position,
                    orientation=fg.orientation,
                    pixel_spacing=fg.pixel_spacing,
                    slice_thickness=fg.slice_thickness,
                    rescale=fg.rescale if fg.rescale is not None else _rescale(ds),
                    window=fg.window if fg.window is not None else _window(ds),
                    data_offset=None if data_start is None else data_start + i * fmt.frame_bytes,
                    **common,
                )
            )
        return out
    ipp, iop, ps = (
        f.numbers("ImagePositionPatient"),
        f.numbers("ImageOrientationPatient"),
        f.numbers("PixelSpacing"),
    )
    if len(ipp) != 3 or len(iop) != 6 or len(ps) != 2:
        return SkippedFile(
            path,
            "non_image_skipped",
            "no ImagePositionPatient/ImageOrientationPatient/PixelSpacing: the image cannot be "
            "placed in patient space",
        )
    bad = _bad_geometry(iop, ps)
    if bad:
        return SkippedFile(path, "unreadable_file", bad)
    return [
        ImageRecord(
            frame=0,
            position=(float(ipp[0]), float(ipp[1]), float(ipp[2])),
            orientation=tuple(float(v) for v in iop),
            pixel_spacing=(float(ps[0]), float(ps[1])),
            slice_thickness=float(thickness) if thickness not in (None, "") else None,
            rescale=_rescale(ds),
            window=_window(ds),
            data_offset=data_start,
            **common,
        )
    ]


def _bad_geometry(iop: Sequence[float], pixel_spacing: Sequence[float]) -> str:
    """Why an orientation or pixel spacing cannot describe a grid ('' when it can).

    >>> _bad_geometry([1, 0, 0, 0, 1, 0], [0.7, 0.7])
    ''
    >>> "orthogonal" in _bad_geometry([1, 0, 0, 1, 0, 0], [1, 1])
    True
    """
    v = np.asarray(iop, dtype=float)
    row, col = v[:3], v[3:]
    if (
        abs(np.linalg.norm(row) - 1) > 1e-3
        or abs(np.linalg.norm(col) - 1) > 1e-3
        or abs(float(row @ col)) > 1e-3
    ):
        return (
            f"ImageOrientationPatient {v.tolist()}: the row and column directions must be "
            "orthogonal unit vectors"
        )
    if min(pixel_spacing) <= 0:
        return f"PixelSpacing {list(pixel_spacing)} must be positive"
    return ""


# ----------------------------------------------------------------------------- grouping


def _same_orientation(a: tuple[float, ...], b: tuple[float, ...], tol: float = 1e-3) -> bool:
    return bool(np.max(np.abs(np.subtract(a, b))) <= tol)


def _orientation_name(iop: tuple[float, ...]) -> str:
    n = geometry.slice_normal(iop)
    axis = int(np.argmax(np.abs(n)))
    name = ("sagittal", "coronal", "axial")[axis]
    return name if abs(n[axis]) > 0.99 else f"oblique ({name}-like)"


def _split(headers: list[_Header]) -> list[tuple[list[_Header], list[str]]]:
    """Split one UID's images into stacks; each comes with the reasons it was split off."""
    # orientation clusters
    clusters: list[tuple[tuple[float, ...], list[_Header]]] = []
    for h in headers:
        for rep, members in clusters:
            if _same_orientation(rep, h.record.orientation):
                members.append(h)
                break
        else:
            clusters.append((h.record.orientation, [h]))
    stacks: list[tuple[list[_Header], list[str]]] = []
    for rep, members in clusters:
        reasons = []
        if len(clusters) > 1:
            reasons.append(f"orientation {_orientation_name(rep)} {list(np.round(rep, 4))}")
        # matrix size, pixel spacing and image type must agree within a stack
        sub: dict[tuple[Any, ...], list[_Header]] = defaultdict(list)
        for h in members:
            r = h.record
            key = (
                r.pixel_format.rows,
                r.pixel_format.columns,
                round(r.pixel_spacing[0], 4),
                round(r.pixel_spacing[1], 4),
                r.image_type[:3],
            )
            sub[key].append(h)
        for key, group in sub.items():
            why = list(reasons)
            if len(sub) > 1:
                why.append(
                    f"matrix {key[0]}x{key[1]}, pixel spacing {key[2]}x{key[3]} mm, "
                    f"ImageType {_joined(key[4])}"
                )
            for acq_group, acq_why in _split_acquisitions(group):
                stacks.append((acq_group, why + acq_why))
    return stacks


def _split_acquisitions(group: list[_Header]) -> list[tuple[list[_Header], list[str]]]:
    """Split by AcquisitionNumber when that (and only that) removes duplicate positions."""

    def has_duplicates(hs: list[_Header]) -> bool:
        n = geometry.slice_normal(hs[0].record.orientation)
        d = np.sort([np.dot(h.record.position, n) for h in hs])
        return bool(np.any(np.diff(d) <= SPACING_TOLERANCE_MM))

    if len(group) < 2 or not has_duplicates(group):
        return [(group, [])]
    by_acq: dict[str, list[_Header]] = defaultdict(list)
    for h in group:
        by_acq[h.record.acquisition_number].append(h)
    if len(by_acq) < 2 or any(has_duplicates(hs) for hs in by_acq.values() if len(hs) > 1):
        return [(group, [])]
    return [(hs, [f"AcquisitionNumber {acq}"]) for acq, hs in sorted(by_acq.items())]


def _build_series(
    uid: str, headers: list[_Header], unreadable: list[SkippedFile], tolerance_mm: float
) -> list[SeriesInfo]:
    stacks = _split(headers)
    out = []
    for i, (group, reasons) in enumerate(stacks):
        info = _stack_info(uid, group, tolerance_mm)
        if len(stacks) > 1:
            info.stack_label = f"stack {i + 1} of {len(stacks)}: " + ", ".join(reasons)
            info.report.items.insert(
                0,
                _item(
                    "series_split",
                    Severity.INFO,
                    f"SeriesInstanceUID {uid} holds {len(stacks)} stacks; this one is "
                    f"{info.stack_label} ({info.n_images} images).",
                ),
            )
            if any(r.startswith("orientation") for r in reasons):
                info.report.items.insert(
                    1,
                    _item(
                        "mixed_orientation",
                        Severity.WARNING,
                        f"SeriesInstanceUID {uid} mixes image orientations; each orientation "
                        "was loaded as its own stack.",
                    ),
                )
        if unreadable:
            info.unreadable = list(unreadable)
            names = ", ".join(str(s.path) for s in unreadable[:5])
            more = f" and {len(unreadable) - 5} more" if len(unreadable) > 5 else ""
            info.report.add(
                "unreadable_file",
                Severity.ERROR,
                f"{len(unreadable)} file(s) of this series cannot be read and are left out: "
                f"{names}{more} ({unreadable[0].reason}).",
            )
        out.append(info)
    return out


def _item(code: str, severity: Severity, message: str) -> Any:
    from ..report import ReportItem

    return ReportItem(code, severity, message)


def _stack_info(uid: str, headers: list[_Header], tolerance_mm: float) -> SeriesInfo:
    """Sort one stack along its normal and describe its grid and what is wrong with it."""
    headers = sorted(
        headers, key=lambda h: (h.record.instance_number, str(h.record.path), h.record.frame)
    )
    records = [h.record for h in headers]
    first = headers[0]
    iop = tuple(np.mean([r.orientation for r in records], axis=0))
    positions = np.array([r.position for r in records])
    g = analyse_stack(positions, iop, tolerance_mm)
    images = [records[i] for i in g.order]
    report = GeometryReport()
    row_sp, col_sp = images[0].pixel_spacing

    n_unique = len(g.unique)
    if n_unique == 1:
        thickness = images[0].slice_thickness
        step = float(thickness) if thickness and thickness > 0 else 1.0
        slice_vector = g.normal * step
        report.add(
            "single_slice",
            Severity.INFO,
            f"one slice position; SliceThickness {thickness} mm used as spacing ({step} mm)."
            if thickness
            else "one slice position and no SliceThickness: 1 mm used as spacing.",
        )
    else:
        step = g.step_mm
        slice_vector = g.slice_vector
    _report_stack(report, g, images, tolerance_mm)

    first_image = images[0]
    try:
        affine = geometry.affine_from_dicom(
            iop, first_image.position, first_image.pixel_spacing, [float(v) for v in slice_vector]
        )
    except GeometryError as exc:
        raise DicomSeriesError(f"Series {uid} ({first_image.path}): {exc}") from exc
    if g.tilted:
        report.add(
            "gantry_tilt",
            Severity.WARNING,
            f"the stack is tilted {g.tilt_deg:.2f} degrees from the image-plane normal "
            "(gantry tilt): the affine is sheared (resample to get an orthogonal grid).",
        )
    if abs(np.max(np.abs(g.normal))) < 0.99:
        report.add(
            "oblique",
            Severity.INFO,
            f"the image plane is oblique (normal {np.round(g.normal, 4).tolist()} LPS).",
        )
    modality = first.modality
    if modality != "CT":
        report.add(
            "not_ct",
            Severity.WARNING,
            f"modality is {modality or 'missing'}: values may not be HU.",
        )
    if modality == "CT" and any(r.rescale is None for r in images):
        n_missing = sum(r.rescale is None for r in images)
        example = next(r.path for r in images if r.rescale is None)
        report.add(
            "no_rescale",
            Severity.WARNING,
            f"{n_missing} of {len(images)} images have no RescaleSlope/RescaleIntercept: "
            f"stored values taken as HU (e.g. {example}).",
        )
    window = next((r.window for r in images if r.window is not None), None)
    if window is None:
        report.add("default_window", Severity.INFO, "no window in the series: abdomen 400/40 used.")
    fmt = images[0].pixel_format
    if fmt.compressed:
        report.add(
            "compressed",
            Severity.INFO,
            f"pixel data compressed with {pduid.UID(fmt.transfer_syntax).name}.",
        )

    files: list[Path] = []
    seen: set[Path] = set()
    for r in images:
        if r.path not in seen:
            seen.add(r.path)
            files.append(r.path)
    return SeriesInfo(
        series_uid=uid,
        modality=modality,
        description=first.description,
        files=files,
        n_images=len(images),
        shape=(max(g.n_slots, 1), fmt.rows, fmt.columns),
        spacing_mm=(float(np.linalg.norm(slice_vector)), float(row_sp), float(col_sp)),
        affine=affine,
        report=report,
        window=window,
        study_uid=first.study_uid,
        frame_of_reference_uid=first.frame_of_reference_uid,
        patient_id=first.patient_id,
        series_number=first.series_number,
        sop_class_uid=images[0].sop_class_uid,
        images=images,
        stack=g,
    )


def _describe(record: ImageRecord) -> str:
    return f"{record.path}" + (f" frame {record.frame + 1}" if record.n_frames > 1 else "")


def _report_stack(
    report: GeometryReport, g: StackGeometry, images: list[ImageRecord], tolerance_mm: float
) -> None:
    """Report duplicates, gaps and irregular steps of an analysed stack."""
    for grp in g.duplicates:
        names = ", ".join(_describe(images[i]) for i in grp)
        report.add(
            "duplicate_positions",
            Severity.WARNING,
            f"{len(grp)} images share the position {g.distances[grp[0]]:.3f} mm along the "
            f"normal: {names}.",
        )
    if g.missing_slots:
        report.add(
            "missing_slices",
            Severity.WARNING,
            f"{len(g.missing_slots)} slice(s) missing from a {g.step_mm:.4g} mm grid of "
            f"{g.n_slots} (grid indices {g.missing_slots[:20]}); the gap follows "
            f"{_gap_neighbours(g, images)}.",
        )
    if g.irregular:
        d = g.distances[g.unique]
        steps = np.diff(d)
        first_odd = int(g.unique[_first_odd(steps, tolerance_mm)])
        report.add(
            "irregular_spacing",
            Severity.WARNING,
            f"the steps between slices vary from {steps.min():.4g} to {steps.max():.4g} mm "
            f"(tolerance {tolerance_mm} mm; mean {g.step_mm:.4g} mm; largest offset from a "
            f"uniform grid {g.max_deviation_mm:.3g} mm)"
            + (", and the positions do not lie on one line" if g.off_line else "")
            + f"; first irregular step after {_describe(images[first_odd])}.",
        )


def _first_odd(steps: NDArray[np.float64], tolerance_mm: float) -> int:
    """Index of the first step that differs from the first one."""
    odd = np.flatnonzero(np.abs(steps - steps[0]) > tolerance_mm)
    return int(odd[0]) if len(odd) else 0


def _gap_neighbours(g: StackGeometry, images: list[ImageRecord]) -> str:
    if g.slots is None:
        return "an irregular step"
    jumps = np.flatnonzero(np.diff(g.slots) > 1)
    return "; ".join(_describe(images[int(g.unique[j])]) for j in jumps[:5])
