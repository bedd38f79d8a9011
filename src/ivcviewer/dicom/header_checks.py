"""What a DICOM header must hold before ivcviewer trusts it.

Checks that turn a damaged or hostile header into a reason instead of an exception, an
allocation or a wrong grid: UIDs that are UIDs, a pixel module a CT image can have (and a
frame count its file can hold), a deflated data set that does not inflate without bound, and
positions, orientations and pixel spacings that are finite and describe a grid.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydicom import uid as pduid

from .records import PixelFormat


def is_uid(text: str) -> bool:
    """Digits separated by single dots, at most 64 characters (DICOM's UID form).

    >>> is_uid("1.2.840.10008.1.2"), is_uid("1..2"), is_uid("hello")
    (True, False, False)
    """
    return len(text) <= 64 and _UID_FORM.fullmatch(text) is not None


_UID_FORM = re.compile(r"[0-9]+(\.[0-9]+)*")


#: BitsAllocated values a CT volume can hold.
SUPPORTED_BITS_ALLOCATED = (8, 16, 32)


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


#: The deflated transfer syntax's UID as it appears in a file meta group.
_DEFLATED = str(pduid.DeflatedExplicitVRLittleEndian).encode()


#: Largest data set a deflated file may inflate to when its header is read.
MAX_INFLATED_BYTES = 256 << 20


def deflate_bomb(fp: Any, size: int) -> str:
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


def bad_position(ipp: Sequence[float]) -> str:
    """Why an ImagePositionPatient cannot place an image ('' when it can).

    >>> bad_position([0.0, float("nan"), 1.0])
    'ImagePositionPatient [0.0, nan, 1.0] must be finite numbers'
    """
    if not np.all(np.isfinite(np.asarray(ipp, dtype=float))):
        return f"ImagePositionPatient {[float(v) for v in ipp]} must be finite numbers"
    return ""


def bad_geometry(iop: Sequence[float], pixel_spacing: Sequence[float]) -> str:
    """Why an orientation or pixel spacing cannot describe a grid ('' when it can).

    >>> bad_geometry([1, 0, 0, 0, 1, 0], [0.7, 0.7])
    ''
    >>> "orthogonal" in bad_geometry([1, 0, 0, 1, 0, 0], [1, 1])
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
