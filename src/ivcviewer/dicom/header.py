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
import re
import stat
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom import uid as pduid
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import AllTransferSyntaxes

from ..errors import DicomSeriesError, GeometryError
from ..report import ReportCode
from .enhanced import frame_geometries
from .header_values import BadHeaderValue, HeaderValues, joined
from .library_messages import first_notes, library_messages
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
        return _classify(path, raw)
    except (DicomSeriesError, GeometryError, BadHeaderValue) as exc:
        return SkippedFile(path, ReportCode.UNREADABLE_FILE, str(exc))
    except HEADER_FAILURES as exc:
        return SkippedFile(
            path,
            ReportCode.UNREADABLE_FILE,
            f"a header value cannot be read ({type(exc).__name__}: {_cut(str(exc))})",
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


def _cut(text: str, width: int = 160) -> str:
    """``text`` cut to ``width`` characters."""
    return text if len(text) <= width else text[: width - 1] + "..."


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
            f"(explicit or implicit VR; pydicom: {_cut(vr_note, 100)})"
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
    return _cut(repr(value), width)


def is_uid(text: str) -> bool:
    """Digits separated by single dots, at most 64 characters (DICOM's UID form).

    >>> is_uid("1.2.840.10008.1.2"), is_uid("1..2"), is_uid("hello")
    (True, False, False)
    """
    return len(text) <= 64 and _UID_FORM.fullmatch(text) is not None


_UID_FORM = re.compile(r"[0-9]+(\.[0-9]+)*")

#: BitsAllocated values a CT volume can hold.
SUPPORTED_BITS_ALLOCATED = (8, 16, 32)


def _number_of_frames(f: HeaderValues) -> int:
    """NumberOfFrames (1 when absent); a ValueError for a value that is not a whole number."""
    value = f.number("NumberOfFrames", 1.0)
    if not float(value).is_integer():
        raise ValueError(f"NumberOfFrames {value!r} is not a whole number")
    return int(value)


def bad_pixel_module(fmt: PixelFormat, n_frames: int, bytes_after_header: int) -> str:
    """Why the image pixel module cannot describe a CT image ('' when it can).

    ``bytes_after_header`` is what the file holds from its PixelData element on: compressed
    pixel data needs at least one 8-byte item header per frame, so a NumberOfFrames the file
    cannot hold is refused before anything is allocated for it.

    >>> fmt = PixelFormat(512, 512, 7, 7, 0, 1, "MONOCHROME2", "1.2.840.10008.1.2.1")
    >>> bad_pixel_module(fmt, 1, 1 << 20)[:30]
    'BitsAllocated 7 is not 8, 16 o'
    """
    sizes = f"{fmt.rows}x{fmt.columns}, {n_frames} frame(s)"
    if fmt.rows < 1 or fmt.columns < 1:
        return f"Rows x Columns {fmt.rows}x{fmt.columns}: an image needs at least one pixel"
    if n_frames < 1:
        return f"NumberOfFrames {n_frames}: an image needs at least one frame"
    if fmt.bits_allocated not in SUPPORTED_BITS_ALLOCATED:
        return (
            f"BitsAllocated {fmt.bits_allocated} is not 8, 16 or 32, the sizes a CT image "
            f"stores ({sizes})"
        )
    if not 1 <= fmt.bits_stored <= fmt.bits_allocated:
        return f"BitsStored {fmt.bits_stored} does not fit BitsAllocated {fmt.bits_allocated}"
    if fmt.samples_per_pixel not in (1, 3):
        return f"SamplesPerPixel {fmt.samples_per_pixel}: an image has 1 (grey) or 3 (colour)"
    if fmt.compressed and n_frames * 8 > bytes_after_header:
        return (
            f"NumberOfFrames {n_frames} cannot be held by the {bytes_after_header} bytes of "
            f"compressed pixel data ({sizes}); the header is damaged"
        )
    return ""


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
            bomb = _deflate_bomb(fp, size)
            if bomb:
                return SkippedFile(path, ReportCode.UNREADABLE_FILE, bomb)
            try:
                ds = pydicom.dcmread(fp, stop_before_pixels=True)
            except InvalidDicomError:
                if not _looks_like_headerless_dicom(path):
                    return SkippedFile(path, ReportCode.NON_IMAGE_SKIPPED, "not a DICOM file")
                fp.seek(0)
                ds = pydicom.dcmread(fp, stop_before_pixels=True, force=True)
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
            f"header cannot be read ({type(exc).__name__}: {_cut(str(exc))})",
        )
    return _RawHeader(ds, size, pixel_offset, element_head)


#: The deflated transfer syntax's UID as it appears in a file meta group.
_DEFLATED = str(pduid.DeflatedExplicitVRLittleEndian).encode()

#: Largest data set a deflated file may inflate to when its header is read.
MAX_INFLATED_BYTES = 256 << 20


def _deflate_bomb(fp: Any, size: int) -> str:
    """Why a deflated file would inflate past :data:`MAX_INFLATED_BYTES` ('' when it won't).

    pydicom inflates the whole data set to read its header, so a small deflated file could
    ask for gigabytes; files that do not name the deflated syntax pass untouched.
    """
    head = fp.read(1024)
    fp.seek(0)
    if _DEFLATED not in head or head[128:132] != b"DICM" or head[132:136] != b"\x02\x00\x00\x00":
        return ""
    group_length = int.from_bytes(head[140:144], "little")  # (0002,0000) UL, explicit VR
    fp.seek(144 + group_length)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    total = 0
    try:
        while total <= MAX_INFLATED_BYTES:
            chunk = fp.read(1 << 20)
            if not chunk:
                break
            total += len(inflater.decompress(chunk, MAX_INFLATED_BYTES + 1 - total))
            while inflater.unconsumed_tail and total <= MAX_INFLATED_BYTES:
                total += len(
                    inflater.decompress(inflater.unconsumed_tail, MAX_INFLATED_BYTES + 1 - total)
                )
    except zlib.error:
        total = 0  # not deflate data: pydicom's read says so
    finally:
        fp.seek(0)
    if total > MAX_INFLATED_BYTES:
        return (
            f"the deflated data set of this {size}-byte file inflates to more than "
            f"{MAX_INFLATED_BYTES >> 20} MiB; the file is damaged or hostile"
        )
    return ""


def _looks_like_headerless_dicom(path: Path) -> bool:
    """DICOM without the 128-byte preamble: starts with a group 0x0002 or 0x0008 tag."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return len(head) == 8 and head[:2] in (b"\x02\x00", b"\x08\x00") and head[3:4] == b"\x00"


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
        and "AXIAL" not in image_type
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
    bad = _bad_position(ipp) or _bad_geometry(iop, ps)
    if bad:
        return SkippedFile(path, ReportCode.UNREADABLE_FILE, bad)
    thickness = f.number("SliceThickness", None)
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
        bad = _bad_position(fg.position) or _bad_geometry(fg.orientation, fg.pixel_spacing)
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
                **common,
            )
        )
    return out


def _bad_position(ipp: Sequence[float]) -> str:
    """Why an ImagePositionPatient cannot place an image ('' when it can).

    >>> _bad_position([0.0, float("nan"), 1.0])
    'ImagePositionPatient [0.0, nan, 1.0] must be finite numbers'
    """
    if not np.all(np.isfinite(np.asarray(ipp, dtype=float))):
        return f"ImagePositionPatient {[float(v) for v in ipp]} must be finite numbers"
    return ""


def _bad_geometry(iop: Sequence[float], pixel_spacing: Sequence[float]) -> str:
    """Why an orientation or pixel spacing cannot describe a grid ('' when it can).

    >>> _bad_geometry([1, 0, 0, 0, 1, 0], [0.7, 0.7])
    ''
    >>> "orthogonal" in _bad_geometry([1, 0, 0, 1, 0, 0], [1, 1])
    True
    """
    v = np.asarray(iop, dtype=float)
    row, col = v[:3], v[3:]
    if not np.all(np.isfinite(v)):
        return f"ImageOrientationPatient {v.tolist()} must be finite numbers"
    if not np.all(np.isfinite(pixel_spacing)):
        return f"PixelSpacing {list(pixel_spacing)} must be finite numbers"
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
