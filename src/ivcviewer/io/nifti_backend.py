"""NIfTI-1/2 through nibabel: the only module that imports nibabel.

NIfTI stores an ``(i, j, k) -> RAS`` affine and an array indexed ``[i, j, k]`` (``i`` fastest);
both are turned into ivcviewer's ``(slice, row, col) -> LPS`` form here, at the boundary
(:func:`ivcviewer.geometry.affine_from_xyz_ras`).
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import geometry
from .._deps import import_optional_dependency
from ..errors import GeometryError, VolumeFormatError
from ..limits import Limits, default_limits
from ..report import GeometryReport, ReportCode, Severity
from .header import VolumeHeader
from .nifti_checks import check_header

#: Spatial units of the NIfTI header -> factor to millimetres ("unknown" is taken as mm).
_UNIT_TO_MM: dict[str, float] = {"unknown": 1.0, "mm": 1.0, "meter": 1000.0, "micron": 0.001}

#: NIfTI intent code for label maps (NIFTI_INTENT_LABEL).
_INTENT_LABEL = "label"

_READ_ERRORS = (OSError, EOFError, zlib.error, ValueError)


def _nib() -> ModuleType:
    return import_optional_dependency("nibabel", "reading and writing NIfTI files")


def _load(path: Path) -> Any:
    nib = _nib()
    try:
        img = nib.load(str(path))
    except FileNotFoundError:
        raise
    except (nib.filebasedimages.ImageFileError, *_READ_ERRORS) as exc:
        msg = " ".join(str(exc).split())
        raise VolumeFormatError(
            f"{path}: not a readable NIfTI file ({msg}). Check the file is complete and really "
            "NIfTI (.nii or gzip-compressed .nii.gz)."
        ) from None
    if not isinstance(img, (nib.Nifti1Image, nib.Nifti2Image)):
        raise VolumeFormatError(
            f"{path}: nibabel read it as {type(img).__name__}, not NIfTI; "
            "convert it to NIfTI, NRRD or MHA."
        )
    return img


def _shape3(path: Path, shape: tuple[int, ...]) -> tuple[int, int, int]:
    if len(shape) < 3:
        raise VolumeFormatError(
            f"{path}: a {len(shape)}D image of shape {shape}; a CT volume needs 3 dimensions. "
            "Open the DICOM series or a 3D file instead."
        )
    if any(n != 1 for n in shape[3:]):
        raise VolumeFormatError(
            f"{path}: a {len(shape)}D image of shape {shape} ({int(np.prod(shape[3:]))} volumes); "
            "only single 3D volumes are read. Split it first (for example nibabel's "
            "four_to_three or fslsplit) and open one volume."
        )
    return (int(shape[0]), int(shape[1]), int(shape[2]))


def _xform_gap_mm(
    qform: NDArray[np.float64], sform: NDArray[np.float64], shape: tuple[int, int, int]
) -> float:
    """Largest distance (mm) between where the qform and the sform put the grid's corners."""
    corners = np.array(
        [
            [i, j, k, 1.0]
            for i in (0, shape[0] - 1)
            for j in (0, shape[1] - 1)
            for k in (0, shape[2] - 1)
        ]
    )
    diff = corners @ (np.asarray(qform, dtype=float) - np.asarray(sform, dtype=float)).T
    return float(np.max(np.linalg.norm(diff[:, :3], axis=1)))


def read_header(path: str | os.PathLike[str], limits: Limits | None = None) -> VolumeHeader:
    """Read a NIfTI header (no voxels): shape, LPS affine, type, scaling.

    The header is checked first (:func:`~ivcviewer.io.nifti_checks.check_header`): a damaged
    header, a declared size the file cannot hold or the memory budget cannot take, and a
    ``.nii.gz`` whose gzip check fails are refused before nibabel reads anything.

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    VolumeFormatError
        For a file that is not NIfTI, a damaged header, a 2D or 4D image, or a non-scalar
        voxel type.
    ResourceLimitError
        For a declared size over the memory budget.
    """
    p = Path(path)
    check_header(p, limits or default_limits())
    return _header_of(p, _load(p))


def _header_of(p: Path, img: Any) -> VolumeHeader:
    hdr = img.header
    ni, nj, nk = _shape3(p, tuple(int(n) for n in img.shape))
    dtype = np.dtype(hdr.get_data_dtype())
    if dtype.fields is not None or dtype.kind not in "biuf":
        raise VolumeFormatError(
            f"{p}: voxel type {dtype} is not a scalar number (RGB or complex data); "
            "a CT volume or label map holds one number per voxel."
        )
    report = GeometryReport()
    qcode, scode = int(hdr["qform_code"]), int(hdr["sform_code"])
    if qcode == 0 and scode == 0:
        report.add(
            ReportCode.NO_ORIENTATION,
            Severity.WARNING,
            f"{p.name}: qform_code and sform_code are both 0, so the file states no position "
            "or orientation; nibabel's default (voxel sizes, no rotation) is used. "
            "Check left and right before trusting it.",
        )
    elif qcode > 0 and scode > 0:
        gap = _xform_gap_mm(hdr.get_qform(), hdr.get_sform(), (ni, nj, nk))
        if gap > 0.01:
            report.add(
                ReportCode.XFORM_MISMATCH,
                Severity.WARNING,
                f"{p.name}: the qform and sform place voxels up to {gap:.3g} mm apart; the sform "
                "is used (as nibabel and FSL do; ITK-based tools may use the qform).",
            )
    affine_ras = np.array(img.affine, dtype=float)
    unit = str(hdr.get_xyzt_units()[0])
    factor = _UNIT_TO_MM.get(unit, 1.0)
    if factor != 1.0:
        affine_ras[:3, :] *= factor
    try:
        affine = geometry.affine_from_xyz_ras(affine_ras)
    except GeometryError as exc:
        raise VolumeFormatError(f"{p}: its affine is not a valid voxel grid: {exc}") from None
    slope = float(img.dataobj.slope)
    inter = float(img.dataobj.inter)
    if slope != 1.0 or inter != 0.0:
        report.add(
            ReportCode.RESCALE_APPLIED,
            Severity.INFO,
            f"stored values converted with scl_slope={slope:g}, scl_inter={inter:g}",
        )
    raw_descrip = hdr["descrip"]
    descrip = bytes(np.asarray(raw_descrip).item()).decode("latin-1").strip("\x00 ").strip()
    return VolumeHeader(
        path=p,
        format="nifti",
        shape=(nk, nj, ni),
        affine=affine,
        dtype=dtype,
        description=descrip,
        slope=slope,
        intercept=inter,
        report=report,
        extra={
            "qform_code": qcode,
            "sform_code": scode,
            "spatial_unit": unit,
            "intent": str(hdr.get_intent()[0]),
        },
    )


def read(
    path: str | os.PathLike[str], limits: Limits | None = None
) -> tuple[VolumeHeader, NDArray[Any]]:
    """Read a NIfTI file: its header and its voxels ``(slice, row, col)`` with scaling applied.

    Values keep the stored type when there is no scaling; with ``scl_slope``/``scl_inter``
    they come back as floating point (callers decide the final type). The header and the
    gzip stream are checked first, as for :func:`read_header`.
    """
    p = Path(path)
    check_header(p, limits or default_limits())
    img = _load(p)
    header = _header_of(p, img)
    try:
        data = np.asanyarray(img.dataobj)
    except _READ_ERRORS as exc:
        msg = " ".join(str(exc).split())
        raise VolumeFormatError(
            f"{header.path}: the voxel data could not be read ({msg}); the file may be truncated."
        ) from None
    nk, nj, ni = header.shape
    data = np.asarray(data).reshape((ni, nj, nk), order="A")
    return header, np.ascontiguousarray(data.transpose(2, 1, 0))


def write(
    array: NDArray[Any],
    affine: NDArray[np.float64],
    path: str | os.PathLike[str],
    *,
    description: str = "",
    labels: bool = False,
) -> None:
    """Write a ``(slice, row, col)`` array with its LPS affine as NIfTI-1 (RAS, mm).

    The sform holds the affine (code 1, scanner); the qform too unless the grid is sheared
    (a gantry tilt), which a qform cannot express (its code is then 0). The array's type is
    kept, with no scaling. ``labels`` sets the NIfTI intent to ``label``.
    """
    nib = _nib()
    arr = np.asarray(array)
    affine_ras = geometry.xyz_ras_from_affine(affine)
    img = nib.Nifti1Image(arr.transpose(2, 1, 0), affine_ras)
    hdr = img.header
    hdr.set_data_dtype(arr.dtype)
    hdr.set_xyzt_units("mm")
    img.set_sform(affine_ras, code=1)
    try:
        geometry.itk_from_affine(affine)
    except GeometryError:
        img.set_qform(None, code=0)
    else:
        img.set_qform(affine_ras, code=1)
    hdr["descrip"] = description.encode("latin-1", errors="replace")[:79]
    if labels:
        hdr.set_intent(_INTENT_LABEL)
    nib.save(img, str(path))
