"""A NIfTI-1/2 header checked from its raw bytes, before nibabel reads the file.

nibabel trusts much of a header: it raises its own errors (``HeaderDataError``, a ``KeyError``
for unknown units, a ``ValueError`` for a quaternion that is not one), and allocates whatever
size a header declares. This module reads the first bytes itself (a bounded read, also from
inside a ``.nii.gz``) and refuses, in ivcviewer's words, a header that is damaged or that
declares more voxels than the file holds or than the memory budget allows. A ``.nii.gz`` is
decompressed once in chunks (nothing kept) so that its gzip check (CRC-32 and length) is
verified: nibabel itself stops reading at the last voxel and would never see a failed check.
"""

from __future__ import annotations

import gzip
import math
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import VolumeFormatError
from ..limits import Limits
from .data_files import (
    MAX_DEFLATE_RATIO,
    check_allocation,
    check_declared_size,
    inflated_size,
    regular_file_size,
)

#: sizeof_hdr of NIfTI-1 and NIfTI-2.
_SIZES = (348, 540)

#: NIfTI datatype code -> (bytes per voxel, name).
DATATYPES: dict[int, tuple[int, str]] = {
    2: (1, "uint8"),
    4: (2, "int16"),
    8: (4, "int32"),
    16: (4, "float32"),
    32: (8, "complex64"),
    64: (8, "float64"),
    128: (3, "RGB24"),
    256: (1, "int8"),
    512: (2, "uint16"),
    768: (4, "uint32"),
    1024: (8, "int64"),
    1280: (8, "uint64"),
    1536: (16, "float128"),
    1792: (16, "complex128"),
    2048: (32, "complex256"),
    2304: (4, "RGBA32"),
}

#: Spatial (bits 0-2) and temporal (bits 3-5) unit codes nibabel knows.
_SPACE_UNITS = {0, 1, 2, 3}
_TIME_UNITS = {0, 8, 16, 24, 32, 40, 48}


def _layout(fields: list[tuple[str, str, int]], itemsize: int) -> np.dtype[Any]:
    names, formats, offsets = zip(*fields, strict=True)
    return np.dtype(
        {
            "names": list(names),
            "formats": list(formats),
            "offsets": list(offsets),
            "itemsize": itemsize,
        }
    )


#: The fields checked here, at their offsets (little-endian; swapped for big-endian files).
_NIFTI1 = _layout(
    [
        ("dim", "(8,)<i2", 40),
        ("datatype", "<i2", 70),
        ("pixdim", "(8,)<f4", 76),
        ("vox_offset", "<f4", 108),
        ("scl_slope", "<f4", 112),
        ("scl_inter", "<f4", 116),
        ("xyzt_units", "u1", 123),
        ("qform_code", "<i2", 252),
        ("sform_code", "<i2", 254),
        ("quatern", "(3,)<f4", 256),
        ("qoffset", "(3,)<f4", 268),
        ("srow", "(12,)<f4", 280),
        ("magic", "S4", 344),
    ],
    348,
)
_NIFTI2 = _layout(
    [
        ("magic", "S8", 4),
        ("datatype", "<i2", 12),
        ("dim", "(8,)<i8", 16),
        ("pixdim", "(8,)<f8", 104),
        ("vox_offset", "<i8", 168),
        ("scl_slope", "<f8", 176),
        ("scl_inter", "<f8", 184),
        ("qform_code", "<i4", 344),
        ("sform_code", "<i4", 348),
        ("quatern", "(3,)<f8", 352),
        ("qoffset", "(3,)<f8", 376),
        ("srow", "(12,)<f8", 400),
        ("xyzt_units", "<i4", 500),
    ],
    540,
)
_SHAPES = {"dim": 8, "pixdim": 8, "quatern": 3, "qoffset": 3, "srow": 12}


@dataclass(frozen=True)
class NiftiDeclaration:
    """What a checked NIfTI header declares.

    Attributes
    ----------
    version
        1 or 2.
    shape
        The sizes ``dim[1..dim[0]]``.
    itemsize
        Bytes per voxel.
    vox_offset
        Where the voxels start in the (decompressed) file.
    data_bytes
        Bytes of voxels declared.
    """

    version: int
    shape: tuple[int, ...]
    itemsize: int
    vox_offset: int
    data_bytes: int


def _head(path: Path, gz: bool) -> bytes:
    """The first 540 bytes of the (decompressed) file: a bounded read."""
    try:
        if gz:
            with gzip.open(path, "rb") as fh:
                return fh.read(540)
        with open(path, "rb") as fh:
            return fh.read(540)
    except (OSError, EOFError, zlib.error) as exc:
        raise VolumeFormatError(
            f"{path}: its NIfTI header cannot be read ({exc}). Fix: check that the file is "
            "complete and really NIfTI (.nii, or gzip-compressed .nii.gz)."
        ) from None


def _fields(path: Path, head: bytes) -> tuple[int, dict[str, Any]]:
    bad = f"{path}: not a NIfTI header: sizeof_hdr must be 348 (NIfTI-1) or 540 (NIfTI-2)"
    if len(head) < 348:
        raise VolumeFormatError(
            f"{bad}, but the file holds only {len(head)} header bytes. Fix: check that the file "
            "is complete and really NIfTI."
        )
    for order in "<>":
        size = int(np.frombuffer(head[:4], dtype=f"{order}i4")[0])
        if size in _SIZES:
            break
    else:
        raise VolumeFormatError(
            f"{bad} in either byte order, found {int(np.frombuffer(head[:4], '<i4')[0])}. Fix: "
            "check that the file is complete and really NIfTI (.nii or .nii.gz)."
        )
    version = 1 if size == 348 else 2
    if len(head) < size:
        raise VolumeFormatError(
            f"{path}: a NIfTI-2 header needs 540 bytes, the file holds {len(head)}. Fix: the "
            "file is truncated; export it again."
        )
    layout = _NIFTI1 if version == 1 else _NIFTI2
    if order == ">":
        layout = layout.newbyteorder(">")
    rec = np.frombuffer(head[:size], dtype=layout)[0]
    fields = {name: rec[name] for name in layout.names or ()}
    for name, n in _SHAPES.items():
        fields[name] = np.asarray(fields[name]).reshape(-1)[:n]
    return version, fields


def _check_magic(path: Path, version: int, magic: bytes) -> None:
    want = b"n+1" if version == 1 else b"n+2\x00\r\n\x1a\n"
    if not bytes(magic).startswith(want):
        pair = version == 1 and bytes(magic).startswith(b"ni1")
        raise VolumeFormatError(
            f"{path}: its NIfTI-{version} magic is {bytes(magic)!r}, not {want!r}"
            + (" (a .hdr/.img pair's header, whose voxels are in another file)" if pair else "")
            + ". Fix: convert the image to a single-file .nii or .nii.gz."
        )


def _check_shape(path: Path, dim: Any) -> tuple[int, ...]:
    ndim = int(dim[0])
    if not 1 <= ndim <= 7:
        raise VolumeFormatError(
            f"{path}: its header's dim[0] (the number of dimensions) is {ndim}, outside 1..7, "
            "so the header is damaged. Fix: export the image again."
        )
    shape = tuple(int(n) for n in dim[1 : ndim + 1])
    if any(n < 1 for n in shape):
        raise VolumeFormatError(
            f"{path}: its header declares sizes {shape}; every size must be at least 1, so the "
            "header is damaged. Fix: export the image again."
        )
    return shape


def _check_numbers(path: Path, fields: dict[str, Any], ndim: int) -> None:
    fix = "so the header is damaged. Fix: export the image again."
    pixdim = [float(v) for v in fields["pixdim"][: max(4, ndim + 1)]]
    if not all(math.isfinite(v) for v in pixdim):
        raise VolumeFormatError(
            f"{path}: its voxel sizes (pixdim) {pixdim} are not all finite, {fix}"
        )
    if int(fields["sform_code"]) <= 0 and any(v == 0.0 for v in pixdim[1:4]):
        raise VolumeFormatError(f"{path}: a voxel size (pixdim[1..3] = {pixdim[1:4]}) is 0, {fix}")
    if int(fields["qform_code"]) > 0 and any(v < 0.0 for v in pixdim[1:4]):
        raise VolumeFormatError(
            f"{path}: a voxel size (pixdim[1..3] = {pixdim[1:4]}) is negative while the qform is "
            f"used, {fix}"
        )
    for key in ("scl_slope", "scl_inter", "vox_offset"):
        if not math.isfinite(float(fields[key])):
            raise VolumeFormatError(f"{path}: {key} is {float(fields[key])}, not finite, {fix}")
    if int(fields["qform_code"]) > 0:
        quat = [float(v) for v in fields["quatern"]] + [float(v) for v in fields["qoffset"]]
        if not all(math.isfinite(v) for v in quat):
            raise VolumeFormatError(
                f"{path}: its qform (quatern/qoffset) {quat} is not finite, {fix}"
            )
        norm = sum(v * v for v in quat[:3])
        if norm > 1.0 + 1e-5:
            raise VolumeFormatError(
                f"{path}: its qform quaternion (b, c, d) = {quat[:3]} has b^2+c^2+d^2 = "
                f"{norm:.6g} > 1, which is no rotation, {fix}"
            )
    if int(fields["sform_code"]) > 0:
        srow = [float(v) for v in fields["srow"]]
        if not all(math.isfinite(v) for v in srow):
            raise VolumeFormatError(f"{path}: its sform (srow_x/y/z) is not finite, {fix}")
    units = int(fields["xyzt_units"])
    if units & 7 not in _SPACE_UNITS or units & 56 not in _TIME_UNITS or units & ~63:
        raise VolumeFormatError(
            f"{path}: its xyzt_units code {units} names no known spatial/temporal unit (spatial "
            f"code {units & 7}: 0 unknown, 1 m, 2 mm, 3 micron), so distances cannot be "
            "trusted. Fix: export the image again (or set the units to mm)."
        )


def check_header(path: Path, limits: Limits, *, verify_data: bool = True) -> NiftiDeclaration:
    """Check a NIfTI file's header and sizes before nibabel reads it.

    Parameters
    ----------
    path
        A ``.nii`` or ``.nii.gz`` file.
    limits
        The memory budget the declared voxels must fit.
    verify_data
        For ``.nii.gz``: decompress the whole stream (in chunks, nothing kept) to check that it
        holds the declared voxels and that its gzip check passes.

    Returns
    -------
    NiftiDeclaration
        What the header declares.

    Raises
    ------
    VolumeFormatError
        For a damaged header, a declared size larger than the file, or a failed gzip check.
    ResourceLimitError
        For declared voxels over the memory budget.
    """
    file_size = regular_file_size(path)
    gz = path.name.lower().endswith(".gz")
    version, fields = _fields(path, _head(path, gz))
    _check_magic(path, version, fields["magic"])
    shape = _check_shape(path, fields["dim"])
    _check_numbers(path, fields, len(shape))
    code = int(fields["datatype"])
    if code not in DATATYPES:
        raise VolumeFormatError(
            f"{path}: its datatype code {code} names no NIfTI voxel type, so the header is "
            "damaged. Fix: export the image again."
        )
    itemsize, type_name = DATATYPES[code]
    vox_offset = max(int(float(fields["vox_offset"])), 348 if version == 1 else 540)
    data_bytes = math.prod(shape) * itemsize
    what = f"sizes {' x '.join(str(n) for n in shape)} of {type_name}"
    if gz:
        check_declared_size(
            path, vox_offset + data_bytes, file_size * MAX_DEFLATE_RATIO, what + " (compressed)"
        )
    else:
        check_declared_size(path, vox_offset + data_bytes, file_size, what)
    check_allocation(limits, path, data_bytes, what)
    if gz and verify_data:
        slack = max(64 << 20, data_bytes)
        total = inflated_size(path, 0, vox_offset + data_bytes + slack, role="gzip stream")
        check_declared_size(path, vox_offset + data_bytes, total, what + " (decompressed)")
    return NiftiDeclaration(version, shape, itemsize, vox_offset, data_bytes)
