"""NRRD and MetaImage (and anything else ITK reads) through SimpleITK.

The only module of the package that imports SimpleITK. ITK images are LPS with an index
``(x, y, z)``; ``GetArrayFromImage`` already returns ``(z, y, x)`` = ``(slice, row, col)``, so
the geometry converts with :func:`ivcviewer.geometry.affine_from_itk`.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import geometry
from .._deps import import_optional_dependency
from ..errors import GeometryError, VolumeFormatError
from ..limits import Limits, default_limits
from .formats import not_found, volume_format
from .header import VolumeHeader
from .itk_headers import check_itk_header
from .native_output import Captured, native_output

#: Header keys kept in ``VolumeHeader.extra`` (NRRD/MetaImage).
_KEEP_KEYS = ("Modality", "content", "NRRD_content")
#: Keys ``Segment<i>_<ending>`` kept too (see :mod:`ivcviewer.io.labelmap_sniff`), of at most
#: this many header keys.
_SEGMENT_KEY_ENDINGS = ("_Name", "_LabelValue", "_Color")
_MAX_SEGMENT_KEYS = 5000


def _sitk() -> ModuleType:
    return import_optional_dependency("SimpleITK", "reading and writing NRRD and MetaImage files")


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    # ITK messages start with the source location; the last informative line says what failed.
    return lines[-1] if lines else type(exc).__name__


def _reader(path: Path, limits: Limits | None) -> Any:
    sitk = _sitk()
    if not path.exists():
        raise not_found(path)
    fmt = volume_format(path)
    if fmt is None:
        raise VolumeFormatError(
            f"{path}: not an NRRD or MetaImage file name (.nrrd, .nhdr, .mha, .mhd). Fix: give "
            "the file its format's ending."
        )
    check_itk_header(path, fmt, limits or default_limits())
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        with native_output() as said:
            reader.ReadImageInformation()
    except RuntimeError as exc:
        raise VolumeFormatError(
            f"{path}: SimpleITK cannot read this file ({said.first_line() or _first_line(exc)})."
            " Fix: check that it is complete and that a detached header's data file is beside it."
        ) from None
    _warn_said(path, said)
    return reader


def _warn_said(path: Path, said: Captured) -> None:
    """What SimpleITK printed on a read that worked, as a warning naming the file."""
    if said.first_line():
        warnings.warn(f"{path}: SimpleITK said: {said.first_line()}", stacklevel=3)


def _check_dims(path: Path, size: tuple[int, ...], ncomp: int) -> None:
    if len(size) < 3:
        raise VolumeFormatError(
            f"{path}: a {len(size)}D image of size {size}; a CT volume needs 3 dimensions."
        )
    if any(n != 1 for n in size[3:]):
        raise VolumeFormatError(
            f"{path}: a {len(size)}D image of size {size}; only single 3D volumes are read. "
            "Extract one 3D volume first."
        )
    if ncomp != 1:
        raise VolumeFormatError(
            f"{path}: {ncomp} components per voxel (a vector or RGB image); a CT volume or "
            "label map holds one number per voxel."
        )


def _header_from(path: Path, reader_or_image: Any, dtype: np.dtype[Any]) -> VolumeHeader:
    dim = int(reader_or_image.GetDimension())
    size = tuple(int(n) for n in reader_or_image.GetSize())
    origin = np.asarray(reader_or_image.GetOrigin(), dtype=float)[:3]
    spacing = np.asarray(reader_or_image.GetSpacing(), dtype=float)[:3]
    direction = np.asarray(reader_or_image.GetDirection(), dtype=float).reshape(dim, dim)[:3, :3]
    try:
        affine = geometry.affine_from_itk(
            origin.tolist(), spacing.tolist(), direction.ravel().tolist()
        )
    except GeometryError as exc:
        raise VolumeFormatError(f"{path}: its geometry is not a valid voxel grid: {exc}") from None
    extra: dict[str, Any] = {}
    keys = reader_or_image.GetMetaDataKeys()
    for key in _KEEP_KEYS:
        if key in keys:
            extra[key] = reader_or_image.GetMetaData(key)
    for key in keys[:_MAX_SEGMENT_KEYS]:  # a label map's names (3D Slicer, dcmqi)
        if key.startswith("Segment") and key.endswith(_SEGMENT_KEY_ENDINGS):
            extra[key] = reader_or_image.GetMetaData(key)[:200]
    fmt = volume_format(path) or "itk"
    return VolumeHeader(
        path=path,
        format=fmt,
        shape=(size[2], size[1], size[0]),
        affine=affine,
        dtype=dtype,
        description=str(extra.get("content", extra.get("NRRD_content", ""))),
        extra=extra,
    )


def read_header(path: str | os.PathLike[str], limits: Limits | None = None) -> VolumeHeader:
    """Read an NRRD/MetaImage header (no voxels): shape, LPS affine, voxel type.

    The header and its data are checked first
    (:func:`~ivcviewer.io.itk_headers.check_itk_header`), so that SimpleITK never sees a
    malformed header, a data file outside the header's folder or an impossible size.

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    VolumeFormatError
        For an unreadable file or malformed header, a 2D or 4D image, or a vector image.
    ResourceLimitError
        For declared voxels over the memory budget.
    """
    sitk = _sitk()
    p = Path(path)
    reader = _reader(p, limits)
    size = tuple(int(n) for n in reader.GetSize())
    _check_dims(p, size, int(reader.GetNumberOfComponents()))
    pixel_id = reader.GetPixelID()
    dtype = np.dtype(_numpy_dtype(sitk, pixel_id))
    return _header_from(p, reader, dtype)


def _numpy_dtype(sitk: ModuleType, pixel_id: int) -> Any:
    table = {
        sitk.sitkUInt8: np.uint8,
        sitk.sitkInt8: np.int8,
        sitk.sitkUInt16: np.uint16,
        sitk.sitkInt16: np.int16,
        sitk.sitkUInt32: np.uint32,
        sitk.sitkInt32: np.int32,
        sitk.sitkUInt64: np.uint64,
        sitk.sitkInt64: np.int64,
        sitk.sitkFloat32: np.float32,
        sitk.sitkFloat64: np.float64,
    }
    return table.get(pixel_id, np.float64)


def read(
    path: str | os.PathLike[str], limits: Limits | None = None
) -> tuple[VolumeHeader, NDArray[Any]]:
    """Read an NRRD or MetaImage file: header and voxels ``(slice, row, col)``.

    Checked first as for :func:`read_header`.
    """
    sitk = _sitk()
    p = Path(path)
    reader = _reader(p, limits)
    size = tuple(int(n) for n in reader.GetSize())
    _check_dims(p, size, int(reader.GetNumberOfComponents()))
    try:
        with native_output() as said:
            image = reader.Execute()
    except RuntimeError as exc:
        raise VolumeFormatError(
            f"{p}: the voxel data could not be read ({said.first_line() or _first_line(exc)}); "
            "the file may be truncated or its data file missing. Fix: check that the file is "
            "complete (or export it again)."
        ) from None
    _warn_said(p, said)
    array = sitk.GetArrayFromImage(image)
    header = _header_from(p, image, array.dtype)
    array = array.reshape(header.shape)
    return header, np.ascontiguousarray(array)


def write(
    array: NDArray[Any],
    affine: NDArray[np.float64],
    path: str | os.PathLike[str],
    *,
    compress: bool = True,
) -> None:
    """Write a ``(slice, row, col)`` array with its LPS affine (NRRD, MHA, ...; by ending).

    Raises
    ------
    VolumeFormatError
        For a sheared affine (gantry tilt), which ITK formats cannot store.
    """
    sitk = _sitk()
    try:
        origin, spacing, direction = geometry.itk_from_affine(affine)
    except GeometryError as exc:
        raise VolumeFormatError(f"{path}: {exc} Or write NIfTI, whose sform keeps it.") from None
    image = sitk.GetImageFromArray(np.ascontiguousarray(array))
    image.SetOrigin(tuple(float(v) for v in origin))
    image.SetSpacing(tuple(float(v) for v in spacing))
    image.SetDirection(tuple(float(v) for v in direction.ravel()))
    try:
        sitk.WriteImage(image, str(path), compress)
    except RuntimeError as exc:
        raise VolumeFormatError(
            f"{path}: SimpleITK could not write it ({_first_line(exc)})."
        ) from None
