"""Write a volume as a valid DICOM CT Image Storage series (one file per slice).

:func:`write_ct_series` writes a :class:`~ivcviewer.volume.Volume` whose affine is orthogonal
(any orientation, no shear). :func:`write_ct_slices` is the lower-level writer that takes
explicit per-slice positions and one orientation, so that irregular or gantry-tilted stacks can
be written on purpose (for tests and teaching).

Every file carries the type 1 and type 2 attributes of the CT Image IOD (patient, general
study, general series, frame of reference, general equipment, general image, image plane,
image pixel, CT image, VOI LUT and SOP common modules), so that ``dciodvfy`` reports no errors.
Stored values are ``round((HU - intercept) / slope)`` as ``uint16`` when none is negative, else
``int16``, with BitsStored 12 when they fit in 12 bits (as most CT scanners write), else 16.

The series is written into a temporary folder beside ``out_dir`` and renamed into place, so a
reader never sees a half-written series.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydicom import uid as pduid
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset

from .. import geometry
from .._atomic import discard_dir, temp_dir_beside
from ..errors import DicomSeriesError, GeometryError
from ..volume import Volume

#: CT Image Storage SOP Class UID.
CT_IMAGE_STORAGE = pduid.CTImageStorage

#: Transfer syntaxes this writer can produce (the compressed ones through pydicom's encoders).
WRITABLE_SYNTAXES: tuple[str, ...] = (
    pduid.ExplicitVRLittleEndian,
    pduid.ImplicitVRLittleEndian,
    pduid.RLELossless,
    pduid.JPEG2000Lossless,
    pduid.JPEGLSLossless,
)

#: Fixed study date and time of synthetic series (keeps the output deterministic).
SYNTHETIC_DATE = "20240101"
SYNTHETIC_TIME = "120000"

#: Tolerance (degrees) below which a stack counts as orthogonal to its image plane.
TILT_TOLERANCE_DEG = 1e-3


def _uid(seed: str | None, *parts: object) -> str:
    """A UID under pydicom's root; deterministic when ``seed`` is given."""
    if seed is None:
        return str(pduid.generate_uid())
    return str(pduid.generate_uid(entropy_srcs=[seed, *[str(p) for p in parts]]))


def _ds(v: float) -> str:
    """A Decimal String of at most 16 characters."""
    s = f"{float(v):.6f}".rstrip("0").rstrip(".")
    if s in ("-0", ""):
        s = "0"
    if len(s) > 16:
        s = f"{float(v):.10g}"
    return s


def geometry_from_affine(
    affine: ArrayLike, n_slices: int
) -> tuple[NDArray[np.float64], list[float], list[float], float]:
    """Per-slice positions, orientation, pixel spacing and slice step of an affine.

    Returns ``(positions_lps (n, 3), image_orientation (6), pixel_spacing (2), step_mm)``.

    >>> pos, iop, ps, step = geometry_from_affine(np.diag([2.5, 0.7, 0.8, 1.0]), 3)
    >>> pos[:, 0].tolist(), iop, ps, step
    ([0.0, 2.5, 5.0], [0.0, 0.0, 1.0, 0.0, 1.0, 0.0], [0.7, 0.8], 2.5)
    """
    a = geometry.as_affine(affine)
    col_step, row_step = a[:3, 1], a[:3, 2]  # moving down a column (next row), along a row
    row_spacing = float(np.linalg.norm(col_step))
    col_spacing = float(np.linalg.norm(row_step))
    row_dir = row_step / col_spacing
    col_dir = col_step / row_spacing
    if abs(float(row_dir @ col_dir)) > 1e-6:
        raise GeometryError(
            "The affine's row and column axes are not orthogonal, which DICOM cannot store: "
            f"{a[:3, 1:3].T.tolist()}."
        )
    positions = a[:3, 3][None, :] + np.arange(n_slices)[:, None] * a[:3, 0][None, :]
    iop = [float(v) for v in np.concatenate([row_dir, col_dir])]
    return positions, iop, [row_spacing, col_spacing], float(np.linalg.norm(a[:3, 0]))


def write_ct_series(
    volume: Volume,
    out_dir: Path | str,
    *,
    series_description: str = "ivcviewer CT",
    patient_name: str = "Phantom^Abdomen",
    patient_id: str = "IVCVIEWER-0001",
    study_description: str = "ivcviewer synthetic CT",
    uid_seed: str | None = None,
    window: tuple[float, float] | None = (40.0, 400.0),
    rescale_intercept: float = -1024.0,
    rescale_slope: float = 1.0,
    transfer_syntax: str = pduid.ExplicitVRLittleEndian,
    extra_tags: Mapping[str, Any] | None = None,
    allow_tilt: bool = False,
    series_number: int = 1,
    overwrite: bool = False,
    file_names: Sequence[str] | None = None,
) -> list[Path]:
    """Write ``volume`` (HU) as a CT Image Storage series, one file per slice.

    Parameters
    ----------
    volume
        HU values ``(slice, row, col)`` and the voxel-to-LPS affine. Slice ``k`` is written at
        ``affine @ (k, 0, 0, 1)`` with the affine's row and column directions and spacings.
    out_dir
        Folder to create. It must not exist (or be empty) unless ``overwrite`` is true.
    series_description, patient_name, patient_id, study_description
        Text attributes.
    uid_seed
        When given, all UIDs derive from it (deterministic output); else random UIDs.
    window
        ``(center, width)`` written as WindowCenter/WindowWidth; ``None`` writes none.
    rescale_intercept, rescale_slope
        Modality LUT: stored = ``round((HU - intercept) / slope)``.
    transfer_syntax
        One of :data:`WRITABLE_SYNTAXES`.
    extra_tags
        Attributes set on every file, by keyword (``{"KVP": 120}``); a ``None`` value deletes
        the attribute (for example ``{"RescaleSlope": None}`` to write a non-conformant file).
    allow_tilt
        Write a sheared (gantry-tilted) affine as it is, with GantryDetectorTilt. Without it a
        sheared affine is refused.
    series_number
        SeriesNumber.
    overwrite
        Replace an existing non-empty ``out_dir``.
    file_names
        One name per slice (default ``CT0001.dcm``, ...).

    Returns
    -------
    list of Path
        The files written, in slice order.

    Raises
    ------
    GeometryError
        For a sheared affine when ``allow_tilt`` is false.
    DicomSeriesError
        For values that do not fit 16 bits after the rescale, or an unwritable syntax.
    """
    n = volume.shape[0]
    tilt = geometry.gantry_tilt_deg(volume.affine)
    if tilt > TILT_TOLERANCE_DEG and not allow_tilt:
        raise GeometryError(
            f"The volume's affine is sheared by {tilt:.3f} degrees (a gantry tilt); refusing to "
            "write it as a plain CT series. Pass allow_tilt=True to write it tilted on purpose, "
            "or resample the volume first."
        )
    positions, iop, spacing, step = geometry_from_affine(volume.affine, n)
    extra: dict[str, Any] = dict(extra_tags or {})
    if tilt > TILT_TOLERANCE_DEG:
        extra.setdefault("GantryDetectorTilt", _ds(tilt))
    return write_ct_slices(
        volume.array,
        out_dir,
        positions_lps=positions,
        image_orientation=iop,
        pixel_spacing=spacing,
        slice_thickness=step,
        series_description=series_description,
        patient_name=patient_name,
        patient_id=patient_id,
        study_description=study_description,
        uid_seed=uid_seed,
        window=window,
        rescale_intercept=rescale_intercept,
        rescale_slope=rescale_slope,
        transfer_syntax=transfer_syntax,
        extra_tags=extra,
        series_number=series_number,
        overwrite=overwrite,
        file_names=file_names,
    )


def write_ct_slices(
    slices_hu: ArrayLike,
    out_dir: Path | str,
    *,
    positions_lps: ArrayLike,
    image_orientation: Sequence[float],
    pixel_spacing: Sequence[float],
    slice_thickness: float,
    file_names: Sequence[str] | None = None,
    per_slice_tags: Sequence[Mapping[str, Any]] | None = None,
    series_description: str = "ivcviewer CT",
    patient_name: str = "Phantom^Abdomen",
    patient_id: str = "IVCVIEWER-0001",
    study_description: str = "ivcviewer synthetic CT",
    uid_seed: str | None = None,
    window: tuple[float, float] | None = (40.0, 400.0),
    rescale_intercept: float = -1024.0,
    rescale_slope: float = 1.0,
    transfer_syntax: str = pduid.ExplicitVRLittleEndian,
    extra_tags: Mapping[str, Any] | None = None,
    series_number: int = 1,
    overwrite: bool = False,
) -> list[Path]:
    """Write CT slices with explicit per-slice positions (any stack geometry).

    Parameters
    ----------
    slices_hu
        HU values ``(n, rows, cols)``; slice ``k`` is written at ``positions_lps[k]``.
    positions_lps
        ``(n, 3)`` ImagePositionPatient of each slice, mm. Nothing is checked: gaps, duplicates
        and tilts are written as given.
    image_orientation
        ImageOrientationPatient (row direction then column direction).
    pixel_spacing
        PixelSpacing ``(row spacing, column spacing)``, mm.
    slice_thickness
        SliceThickness, mm.
    file_names
        One name per slice (default ``CT0001.dcm``, ...).
    per_slice_tags
        One mapping per slice applied after ``extra_tags`` (``None`` values delete).
    series_description, patient_name, patient_id, study_description, uid_seed, window, \
rescale_intercept, rescale_slope, transfer_syntax, extra_tags, series_number, overwrite
        As in :func:`write_ct_series`.

    Returns
    -------
    list of Path
        The files written, in the order of ``slices_hu``.
    """
    arr, pos = _checked_slices(slices_hu, positions_lps, file_names, per_slice_tags)
    if transfer_syntax not in WRITABLE_SYNTAXES:
        raise DicomSeriesError(
            f"transfer_syntax {transfer_syntax!r} cannot be written; use one of "
            f"{[pduid.UID(t).name for t in WRITABLE_SYNTAXES]}."
        )
    stored, pixel_representation, bits_stored = _stored_values(
        arr, rescale_intercept, rescale_slope
    )
    out = Path(out_dir)
    _check_out_dir(out, overwrite)
    n = len(arr)
    names = list(file_names) if file_names is not None else [f"CT{i + 1:04d}.dcm" for i in range(n)]
    series = _SeriesTags(
        study_uid=_uid(uid_seed, "study"),
        series_uid=_uid(uid_seed, "series", series_number, series_description),
        for_uid=_uid(uid_seed, "frame-of-reference"),
        series_description=series_description,
        series_number=series_number,
        patient_name=patient_name,
        patient_id=patient_id,
        study_description=study_description,
        image_orientation=tuple(float(v) for v in image_orientation),
        pixel_spacing=tuple(float(v) for v in pixel_spacing),
        slice_thickness=slice_thickness,
        rows=int(arr.shape[1]),
        cols=int(arr.shape[2]),
        pixel_representation=pixel_representation,
        bits_stored=bits_stored,
        window=window,
        rescale_intercept=rescale_intercept,
        rescale_slope=rescale_slope,
    )
    normal = geometry.slice_normal(image_orientation)

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_dir_beside(out)
    try:
        for k in range(n):
            ds = _slice_dataset(
                stored[k],
                series,
                position=pos[k],
                slice_location=float(pos[k] @ normal),
                instance_number=k + 1,
                sop_uid=_uid(uid_seed, "sop", series_number, series_description, k),
            )
            for tags in (extra_tags, per_slice_tags[k] if per_slice_tags is not None else None):
                _set_tags(ds, tags or {})
            _encode(ds, transfer_syntax)
            ds.save_as(tmp / names[k], enforce_file_format=True)
        _publish(tmp, out, overwrite)
    except BaseException:
        discard_dir(tmp)
        raise
    return [out / name for name in names]


def _checked_slices(
    slices_hu: ArrayLike,
    positions_lps: ArrayLike,
    file_names: Sequence[str] | None,
    per_slice_tags: Sequence[Mapping[str, Any]] | None,
) -> tuple[NDArray[Any], NDArray[np.float64]]:
    """The slices as a 3D array and their positions, checked against each other."""
    arr = np.asarray(slices_hu)
    if arr.ndim != 3:
        raise DicomSeriesError(f"slices_hu must be 3D (n, rows, cols), got shape {arr.shape}.")
    n = int(arr.shape[0])
    pos = np.asarray(positions_lps, dtype=float)
    if pos.shape != (n, 3):
        raise DicomSeriesError(f"positions_lps must have shape ({n}, 3), got {pos.shape}.")
    if file_names is not None and len(file_names) != n:
        raise DicomSeriesError(f"file_names must have {n} names, got {len(file_names)}.")
    if per_slice_tags is not None and len(per_slice_tags) != n:
        raise DicomSeriesError(f"per_slice_tags must have {n} mappings, got {len(per_slice_tags)}.")
    return arr, pos


def _stored_values(
    hu: NDArray[Any], rescale_intercept: float, rescale_slope: float
) -> tuple[NDArray[Any], int, int]:
    """Stored values ``round((HU - intercept) / slope)`` in 16 bits.

    Returns ``(stored, PixelRepresentation, BitsStored)``: ``uint16`` (0) when no value is
    negative, else ``int16`` (1); BitsStored 12 when the values fit in 12 bits, else 16.

    >>> stored, representation, bits = _stored_values(np.array([-1024.0, 0.0, 1000.0]), -1024, 1)
    >>> stored.tolist(), representation, bits
    ([0, 1024, 2024], 0, 12)
    """
    if rescale_slope == 0:
        raise DicomSeriesError("rescale_slope must not be 0.")
    stored_f = np.rint((hu.astype(np.float64) - rescale_intercept) / rescale_slope)
    lo, hi = (float(stored_f.min()), float(stored_f.max())) if hu.size else (0.0, 0.0)
    if lo >= 0 and hi <= 65535:
        return stored_f.astype(np.uint16), 0, 12 if hi < 4096 else 16
    if lo >= -32768 and hi <= 32767:
        return stored_f.astype(np.int16), 1, 12 if lo >= -2048 and hi < 2048 else 16
    raise DicomSeriesError(
        f"HU range {float(hu.min())}..{float(hu.max())} does not fit 16 bits with "
        f"intercept {rescale_intercept} and slope {rescale_slope} (stored {lo}..{hi}); "
        "choose another intercept or slope."
    )


def _check_out_dir(out: Path, overwrite: bool) -> None:
    """Refuse an output path that is a file, or a non-empty folder unless ``overwrite``."""
    if out.exists() and not out.is_dir():
        raise DicomSeriesError(f"Output path {out} exists and is not a folder.")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise DicomSeriesError(
            f"Output folder {out} is not empty; pass overwrite=True or choose a new folder."
        )


def _set_tags(ds: FileDataset, tags: Mapping[str, Any]) -> None:
    """Set attributes by keyword; a ``None`` value deletes the attribute."""
    for key, value in tags.items():
        if value is None:
            if key in ds:
                delattr(ds, key)
        else:
            setattr(ds, key, value)


def _encode(ds: FileDataset, transfer_syntax: str) -> None:
    """Bring the file meta in step with the dataset and encode its pixel data."""
    # keep the file meta in step with an overridden SOP class or instance
    if ds.get("SOPClassUID"):
        ds.file_meta.MediaStorageSOPClassUID = pduid.UID(ds.SOPClassUID)
    if ds.get("SOPInstanceUID"):
        ds.file_meta.MediaStorageSOPInstanceUID = pduid.UID(ds.SOPInstanceUID)
    if transfer_syntax in (pduid.ExplicitVRLittleEndian, pduid.ImplicitVRLittleEndian):
        ds.file_meta.TransferSyntaxUID = pduid.UID(transfer_syntax)
    else:
        ds.compress(transfer_syntax, generate_instance_uid=False)


def _publish(tmp: Path, out: Path, overwrite: bool) -> None:
    """Rename the finished temporary folder to ``out`` (replacing it when asked)."""
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise DicomSeriesError(f"Output folder {out} was filled while writing; not replaced.")
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
        os.replace(tmp, out)
        discard_dir(old)
    else:
        os.replace(tmp, out)  # replaces an empty folder atomically


@dataclass(frozen=True)
class _SeriesTags:
    """The attribute values every file of a written series shares."""

    study_uid: str
    series_uid: str
    for_uid: str
    series_description: str
    series_number: int
    patient_name: str
    patient_id: str
    study_description: str
    image_orientation: tuple[float, ...]
    pixel_spacing: tuple[float, ...]
    slice_thickness: float
    rows: int
    cols: int
    pixel_representation: int
    bits_stored: int
    window: tuple[float, float] | None
    rescale_intercept: float
    rescale_slope: float


def _slice_dataset(
    pixels: NDArray[Any],
    series: _SeriesTags,
    *,
    position: NDArray[np.float64],
    slice_location: float,
    instance_number: int,
    sop_uid: str,
) -> FileDataset:
    """One CT Image Storage dataset with every type 1/2 attribute of the IOD."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = pduid.UID(sop_uid)
    meta.TransferSyntaxUID = pduid.ExplicitVRLittleEndian
    meta.ImplementationClassUID = pduid.PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = "IVCVIEWER_01"

    ds = FileDataset("", Dataset(), file_meta=meta, preamble=b"\0" * 128)
    # SOP common
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = CT_IMAGE_STORAGE
    ds.SOPInstanceUID = sop_uid
    # Patient
    ds.PatientName = series.patient_name
    ds.PatientID = series.patient_id
    ds.PatientBirthDate = ""
    ds.PatientSex = "O"
    # General study
    ds.StudyInstanceUID = series.study_uid
    ds.StudyDate = SYNTHETIC_DATE
    ds.StudyTime = SYNTHETIC_TIME
    ds.SeriesDate = SYNTHETIC_DATE
    ds.SeriesTime = SYNTHETIC_TIME
    ds.ContentDate = SYNTHETIC_DATE
    ds.ContentTime = SYNTHETIC_TIME
    ds.ReferringPhysicianName = ""
    ds.StudyID = "1"
    ds.AccessionNumber = ""
    ds.StudyDescription = series.study_description
    # General series
    ds.Modality = "CT"
    ds.SeriesInstanceUID = series.series_uid
    ds.SeriesNumber = series.series_number
    ds.SeriesDescription = series.series_description
    ds.PatientPosition = "FFS"
    ds.BodyPartExamined = "ABDOMEN"  # unpaired: Laterality (2C) must then be absent
    # Frame of reference
    ds.FrameOfReferenceUID = series.for_uid
    ds.PositionReferenceIndicator = ""
    # General equipment
    ds.Manufacturer = "ivcviewer"
    ds.ManufacturerModelName = "ivcviewer.dicom.write"
    # General acquisition / image
    ds.AcquisitionNumber = 1
    ds.InstanceNumber = instance_number
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.BurnedInAnnotation = "NO"
    # Image plane
    ds.PixelSpacing = [_ds(v) for v in series.pixel_spacing]
    ds.ImageOrientationPatient = [_ds(v) for v in series.image_orientation]
    ds.ImagePositionPatient = [_ds(v) for v in position]
    ds.SliceThickness = _ds(series.slice_thickness)
    ds.SliceLocation = _ds(slice_location)
    # CT image
    ds.KVP = "120"
    ds.RescaleIntercept = _ds(series.rescale_intercept)
    ds.RescaleSlope = _ds(series.rescale_slope)
    ds.RescaleType = "HU"
    # VOI LUT
    if series.window is not None:
        ds.WindowCenter = _ds(series.window[0])
        ds.WindowWidth = _ds(series.window[1])
    # Image pixel
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = series.rows
    ds.Columns = series.cols
    ds.BitsAllocated = 16
    ds.BitsStored = series.bits_stored
    ds.HighBit = series.bits_stored - 1
    ds.PixelRepresentation = series.pixel_representation
    ds.PixelData = (
        np.ascontiguousarray(pixels)
        .astype("<u2" if series.pixel_representation == 0 else "<i2")
        .tobytes()
    )
    return ds
