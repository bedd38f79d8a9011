"""Read one DICOM file's header into image records, or say why the file is left out.

:func:`read_header` reads a file up to its pixel data (``stop_before_pixels``) and returns one
:class:`~ivcviewer.dicom.records.ImageHeader` per image (per frame of an enhanced multi-frame
file), a :class:`~ivcviewer.dicom.records.SkippedFile` for a file that makes no volume image
(not DICOM, not a cross-sectional image, a localizer, a secondary capture, no position), or a
:class:`TruncatedImage` for an image whose pixel data is missing or cut short, which is then
reported with its series.
"""

from __future__ import annotations

import os
import stat
import struct
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pydicom
from pydicom import uid as pduid
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import AllTransferSyntaxes

from ..errors import DicomSeriesError, GeometryError
from ..failures import cut
from ..report import ReportCode
from .bounded_file import BoundedFile
from .enhanced import frame_geometries
from .header_checks import (
    bad_geometry,
    bad_pixel_module,
    bad_position,
    deflate_bomb,
    is_uid,
)
from .header_values import BadHeaderValue, HeaderValues, joined, temporal_index
from .library_messages import first_notes, library_messages
from .mosaic import MosaicError, is_mosaic, mosaic_layout
from .records import (
    MULTI_FRAME_CLASSES,
    NATIVE_LE_SYNTAXES,
    SECONDARY_CAPTURE_CLASSES,
    SINGLE_FRAME_CLASSES,
    ImageHeader,
    ImageRecord,
    PixelFormat,
    SkippedFile,
)

#: (7FE0,0010) PixelData as stored little endian and big endian.
_PIXEL_DATA_TAGS = (b"\xe0\x7f\x10\x00", b"\x7f\xe0\x00\x10")


@dataclass(frozen=True)
class TruncatedImage:
    """An image of a series whose pixel data is missing or cut short.

    The file is left out like a :class:`SkippedFile`, and its series reports it too.
    """

    skipped: SkippedFile
    series_uid: str


@dataclass(frozen=True)
class _RawHeader:
    """A dataset read up to its pixel data, with what follows it in the file."""

    ds: Dataset
    file_size: int
    pixel_offset: int
    """Byte offset where the header reading stopped (the PixelData element, if any)."""
    element_head: bytes
    """The 12 bytes at ``pixel_offset``: the PixelData tag, VR and length when present."""
    notes: tuple[str, ...] = ()
    """What pydicom warned about while reading the header."""


def read_header(path: Path) -> list[ImageHeader] | SkippedFile | TruncatedImage:
    """Read one file's header and classify it.

    Parameters
    ----------
    path
        Any file: DICOM with or without its preamble, or anything else.

    Returns
    -------
    list of ImageHeader, SkippedFile or TruncatedImage
        One header per image (per frame of an enhanced multi-frame file); or why the file is
        left out (codes ``non_image_skipped``, ``localizer_skipped``,
        ``secondary_capture_skipped``, ``unreadable_file``); or, for an image whose pixel data
        is incomplete, the skipped file with its SeriesInstanceUID. A damaged file (a value
        that is not what its element must hold, an encoding pydicom cannot read) is left out
        with the reason, never raised.
    """
    raw = _read_dataset(path)
    if isinstance(raw, SkippedFile):
        return raw
    try:
        with library_messages():  # values converted on access may make pydicom complain
            return _classify(path, raw)
    except (DicomSeriesError, GeometryError, BadHeaderValue) as exc:
        return SkippedFile(path, ReportCode.UNREADABLE_FILE, str(exc))
    except HEADER_FAILURES as exc:
        return SkippedFile(
            path,
            ReportCode.UNREADABLE_FILE,
            f"a header value cannot be read ({type(exc).__name__}: {cut(str(exc), 160)})",
        )


#: What pydicom (and the value parsing here) raise on a damaged header or element.
HEADER_FAILURES: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    NotImplementedError,
    OverflowError,
    KeyError,
    IndexError,
    AttributeError,
    struct.error,
    zlib.error,
    EOFError,
    OSError,
    RecursionError,
)


def _classify(path: Path, raw: _RawHeader) -> list[ImageHeader] | SkippedFile | TruncatedImage:
    """:func:`read_header` after the dataset was read; may raise any of :data:`HEADER_FAILURES`."""
    ds = raw.ds
    meta = getattr(ds, "file_meta", None)
    f = HeaderValues(ds)
    sop_class = f.text("SOPClassUID")
    if not sop_class and meta is not None:
        sop_class = str(meta.get("MediaStorageSOPClassUID", "") or "")
    image_type = tuple(v.upper() for v in f.texts("ImageType"))
    left_out = _left_out(path, ds, sop_class, image_type)
    if left_out is not None:
        return left_out

    series_uid = f.text("SeriesInstanceUID")
    if series_uid and not is_uid(series_uid):
        return SkippedFile(
            path,
            ReportCode.UNREADABLE_FILE,
            f"SeriesInstanceUID {_quote(series_uid)} is not a UID (digits and dots, at most 64 "
            "characters), so the image cannot be given a series",
        )
    ts = transfer_syntax_of(meta)
    if ts not in AllTransferSyntaxes:
        return SkippedFile(
            path,
            ReportCode.UNREADABLE_FILE,
            f"TransferSyntaxUID {_quote(ts)} names no known transfer syntax, so its pixel data "
            "cannot be decoded",
        )
    mismatch = _encoding_mismatch(raw, ts)
    if mismatch:
        return SkippedFile(path, ReportCode.UNREADABLE_FILE, mismatch)
    if raw.element_head[:4] not in _PIXEL_DATA_TAGS:
        if raw.pixel_offset >= raw.file_size:
            return TruncatedImage(
                SkippedFile(
                    path, ReportCode.UNREADABLE_FILE, "file ends before its pixel data (truncated)"
                ),
                series_uid,
            )
        return SkippedFile(path, ReportCode.NON_IMAGE_SKIPPED, "no PixelData element")
    try:
        fmt = _pixel_format(f, ts)
    except (AttributeError, TypeError, ValueError) as exc:
        return SkippedFile(
            path, ReportCode.UNREADABLE_FILE, f"image pixel module incomplete: {exc}"
        )
    n_frames = _number_of_frames(f)
    bad = bad_pixel_module(fmt, n_frames, raw.file_size - raw.pixel_offset)
    if bad:
        return SkippedFile(path, ReportCode.UNREADABLE_FILE, bad)
    data_start = _native_data_start(path, raw, fmt, n_frames)
    if isinstance(data_start, SkippedFile):
        return TruncatedImage(data_start, series_uid)
    records = _records(ds, path, sop_class, fmt, n_frames, data_start, image_type)
    if isinstance(records, SkippedFile):
        return records
    series_number = f.numbers("SeriesNumber")
    return [
        ImageHeader(
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


def _encoding_mismatch(raw: _RawHeader, ts: str) -> str:
    """Why the file is not encoded as its TransferSyntaxUID says ('' when it is)."""
    vr_note = next(
        (n for n in raw.notes if "Expected explicit VR" in n or "Expected implicit VR" in n), ""
    )
    if vr_note:
        return (
            f"the data set is not encoded as its TransferSyntaxUID {pduid.UID(ts).name} says "
            f"(explicit or implicit VR; pydicom: {cut(vr_note, 100)})"
        )
    compressed = bool(pduid.UID(ts).is_compressed)
    if compressed and raw.element_head[:4] in _PIXEL_DATA_TAGS:
        explicit_length = raw.element_head[8:12] if raw.element_head[6:8] == b"\0\0" else b""
        if explicit_length != b"\xff\xff\xff\xff":
            return (
                f"the TransferSyntaxUID says {pduid.UID(ts).name} (compressed), but the pixel "
                "data is stored as one uncompressed block"
            )
    return ""


def transfer_syntax_of(meta: Dataset | None) -> str:
    """The TransferSyntaxUID of a file meta group as text (Implicit VR Little Endian if none)."""
    if not meta or "TransferSyntaxUID" not in meta:
        return str(pduid.ImplicitVRLittleEndian)
    value = meta["TransferSyntaxUID"].value
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return str(value or "").strip(" \x00")


def _quote(value: str, width: int = 70) -> str:
    """``repr(value)`` cut to ``width`` characters."""
    return cut(repr(value), width)


def _number_of_frames(f: HeaderValues) -> int:
    """NumberOfFrames (1 when absent); a ValueError for a value that is not a whole number."""
    value = f.number("NumberOfFrames", 1.0)
    if not float(value).is_integer():
        raise ValueError(f"NumberOfFrames {value!r} is not a whole number")
    return int(value)


def _read_dataset(path: Path) -> _RawHeader | SkippedFile:
    """The header up to the pixel data, also of DICOM written without its preamble."""
    with library_messages() as notes:
        raw = _read_dataset_quietly(path)
    if isinstance(raw, SkippedFile):
        if notes and raw.code is ReportCode.UNREADABLE_FILE:
            return SkippedFile(raw.path, raw.code, f"{raw.reason} (pydicom: {first_notes(notes)})")
        return raw
    return replace(raw, notes=tuple(notes))


def _read_dataset_quietly(path: Path) -> _RawHeader | SkippedFile:
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            return SkippedFile(path, ReportCode.NON_IMAGE_SKIPPED, "not a regular file")
        size = st.st_size
        with open(path, "rb") as fp:
            bomb = deflate_bomb(fp, size)
            if bomb:
                return SkippedFile(path, ReportCode.UNREADABLE_FILE, bomb)
            bounded = BoundedFile(fp, size)
            try:
                ds = pydicom.dcmread(bounded, stop_before_pixels=True)
            except InvalidDicomError:
                if not _looks_like_headerless_dicom(path):
                    return SkippedFile(path, ReportCode.NON_IMAGE_SKIPPED, "not a DICOM file")
                fp.seek(0)
                ds = pydicom.dcmread(bounded, stop_before_pixels=True, force=True)
            pixel_offset = fp.tell()
            element_head = fp.read(12)
    except zlib.error as exc:
        return SkippedFile(
            path,
            ReportCode.UNREADABLE_FILE,
            f"the transfer syntax says deflated, but the data set is not deflate data ({exc})",
        )
    except HEADER_FAILURES as exc:
        return SkippedFile(
            path,
            ReportCode.UNREADABLE_FILE,
            f"header cannot be read ({type(exc).__name__}: {cut(str(exc), 160)})",
        )
    return _RawHeader(ds, size, pixel_offset, element_head)


def _looks_like_headerless_dicom(path: Path) -> bool:
    """DICOM without the 128-byte preamble: starts with a group 0x0002 or 0x0008 tag."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return len(head) == 8 and head[:2] in (b"\x02\x00", b"\x08\x00") and head[3:4] == b"\x00"


#: ImageType values of a derived secondary image that still makes a stack of slices (axial
#: images, reformats); other derived secondary images (screen captures, renderings) are left out.
_VOLUME_IMAGE_TYPES = frozenset({"AXIAL", "REFORMATTED", "MPR"})


def _left_out(
    path: Path, ds: Dataset, sop_class: str, image_type: tuple[str, ...]
) -> SkippedFile | None:
    """Why a file makes no volume image, by its SOP class and ImageType (``None``: it may)."""
    if sop_class == pduid.MediaStorageDirectoryStorage or "DirectoryRecordSequence" in ds:
        return SkippedFile(path, ReportCode.NON_IMAGE_SKIPPED, "DICOMDIR (media directory index)")
    if sop_class in SECONDARY_CAPTURE_CLASSES:
        return SkippedFile(
            path,
            ReportCode.SECONDARY_CAPTURE_SKIPPED,
            f"secondary capture ({pduid.UID(sop_class).name})",
        )
    if sop_class not in SINGLE_FRAME_CLASSES and sop_class not in MULTI_FRAME_CLASSES:
        name = pduid.UID(sop_class).name if sop_class else "no SOP Class UID"
        return SkippedFile(
            path, ReportCode.NON_IMAGE_SKIPPED, f"not a cross-sectional image ({name})"
        )
    if "LOCALIZER" in image_type:
        return SkippedFile(
            path, ReportCode.LOCALIZER_SKIPPED, f"localizer (ImageType {joined(image_type)})"
        )
    if (
        len(image_type) >= 2
        and image_type[0] == "DERIVED"
        and image_type[1] == "SECONDARY"
        and not _VOLUME_IMAGE_TYPES.intersection(image_type)
    ):
        return SkippedFile(
            path,
            ReportCode.SECONDARY_CAPTURE_SKIPPED,
            f"derived secondary image (ImageType {joined(image_type)})",
        )
    return None


def _pixel_format(f: HeaderValues, transfer_syntax: str) -> PixelFormat:
    """The image pixel module; raises ValueError (or TypeError) when it is incomplete."""
    return PixelFormat(
        rows=f.ushort("Rows"),
        columns=f.ushort("Columns"),
        bits_allocated=f.ushort("BitsAllocated"),
        bits_stored=f.ushort("BitsStored", f.ushort("BitsAllocated")),
        pixel_representation=f.ushort("PixelRepresentation", 0),
        samples_per_pixel=f.ushort("SamplesPerPixel", 1),
        photometric=f.text("PhotometricInterpretation") or "MONOCHROME2",
        transfer_syntax=transfer_syntax,
    )


def _native_data_start(
    path: Path, raw: _RawHeader, fmt: PixelFormat, n_frames: int
) -> int | None | SkippedFile:
    """Byte offset of the stored values of uncompressed little-endian pixel data.

    ``None`` for other transfer syntaxes (decoded through pydicom); a :class:`SkippedFile`
    when the PixelData element is shorter than the frames need or the file is cut short.
    """
    if fmt.transfer_syntax not in NATIVE_LE_SYNTAXES:
        return None
    explicit = fmt.transfer_syntax == pduid.ExplicitVRLittleEndian
    hdr_len = 12 if explicit else 8
    length = int.from_bytes(raw.element_head[hdr_len - 4 : hdr_len], "little")
    expected = fmt.frame_bytes * n_frames
    if length == 0xFFFFFFFF or length < expected:
        return SkippedFile(
            path,
            ReportCode.UNREADABLE_FILE,
            f"PixelData holds {length} bytes, {expected} expected for {n_frames} "
            f"frame(s) of {fmt.rows}x{fmt.columns}x{fmt.bits_allocated} bit",
        )
    if raw.pixel_offset + hdr_len + expected > raw.file_size:
        return SkippedFile(
            path,
            ReportCode.UNREADABLE_FILE,
            f"truncated: pixel data needs {raw.pixel_offset + hdr_len + expected} bytes, "
            f"the file has {raw.file_size}",
        )
    return raw.pixel_offset + hdr_len


def _window(ds: Dataset) -> tuple[float, float] | None:
    """``(WindowCenter, WindowWidth)``, the first of each, or ``None``."""
    f = HeaderValues(ds)
    c, w = f.numbers("WindowCenter"), f.numbers("WindowWidth")
    return (c[0], w[0]) if c and w else None


def _rescale(ds: Dataset) -> tuple[float, float] | None:
    """``(RescaleSlope, RescaleIntercept)`` or ``None``."""
    f = HeaderValues(ds)
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
    f = HeaderValues(ds)
    common: dict[str, Any] = dict(
        path=path,
        n_frames=n_frames,
        sop_class_uid=sop_class,
        instance_number=int(f.number("InstanceNumber", 0.0)),
        acquisition_number=f.text("AcquisitionNumber"),
        image_type=image_type,
        pixel_format=fmt,
        echo=joined(tuple(f.texts("EchoNumbers"))),
        temporal_index=temporal_index(ds),
    )
    if sop_class in MULTI_FRAME_CLASSES:
        return _frame_records(ds, path, fmt, data_start, common)
    ipp, iop, ps = (
        f.numbers("ImagePositionPatient"),
        f.numbers("ImageOrientationPatient"),
        f.numbers("PixelSpacing"),
    )
    wrong = [
        f"{name} has {len(v)} value(s), {n} needed"
        for name, v, n in (
            ("ImagePositionPatient", ipp, 3),
            ("ImageOrientationPatient", iop, 6),
            ("PixelSpacing", ps, 2),
        )
        if v and len(v) != n
    ]
    if wrong:
        return SkippedFile(path, ReportCode.UNREADABLE_FILE, "; ".join(wrong))
    if len(ipp) != 3 or len(iop) != 6 or len(ps) != 2:
        return SkippedFile(
            path,
            ReportCode.NON_IMAGE_SKIPPED,
            "no ImagePositionPatient/ImageOrientationPatient/PixelSpacing: the image cannot be "
            "placed in patient space",
        )
    bad = bad_position(ipp) or bad_geometry(iop, ps)
    if bad:
        return SkippedFile(path, ReportCode.UNREADABLE_FILE, bad)
    thickness = f.number("SliceThickness", None)
    if is_mosaic(image_type):
        try:
            common["mosaic"] = mosaic_layout(ds, fmt.rows, fmt.columns, tuple(iop))
        except MosaicError as exc:
            return SkippedFile(
                path,
                ReportCode.MOSAIC,
                f"vendor mosaic (ImageType {joined(image_type)}) that cannot be unpacked into "
                f"slices: {exc}; it is not loaded as one big slice. Fix: convert it with a tool "
                "that reads the vendor's private header (dcm2niix) and open the result",
            )
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


def _frame_records(
    ds: Dataset,
    path: Path,
    fmt: PixelFormat,
    data_start: int | None,
    common: dict[str, Any],
) -> list[ImageRecord] | SkippedFile:
    """One record per frame of an enhanced multi-frame file, from its functional groups."""
    out = []
    for i, fg in enumerate(frame_geometries(ds, path)):
        if fg.position is None or fg.orientation is None or fg.pixel_spacing is None:
            return SkippedFile(
                path,
                ReportCode.NON_IMAGE_SKIPPED,
                f"frame {i + 1} has no PlanePosition/PlaneOrientation/PixelMeasures; "
                "it cannot be placed in patient space",
            )
        bad = bad_position(fg.position) or bad_geometry(fg.orientation, fg.pixel_spacing)
        if bad:
            return SkippedFile(path, ReportCode.UNREADABLE_FILE, f"frame {i + 1}: {bad}")
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
                **{
                    **common,
                    "image_type": fg.frame_type or common["image_type"],
                    "temporal_index": fg.temporal_index or common["temporal_index"],
                    "echo": f"TE {fg.echo_time} ms" if fg.echo_time else common["echo"],
                },
            )
        )
    return out
