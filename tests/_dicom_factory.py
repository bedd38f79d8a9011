"""Small synthetic DICOM series for the loader tests, written with ivcviewer's writer or pydicom."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from numpy.typing import NDArray
from pydicom import uid as pduid
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence

from ivcviewer.dicom import write_ct_series, write_ct_slices
from ivcviewer.geometry import affine_from_dicom
from ivcviewer.volume import Volume

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
ORIGIN = (-20.0, -30.0, 100.0)
PIXEL_SPACING = (0.8, 0.7)  # (row spacing, column spacing)
STEP = 2.5


def ramp(n: int = 8, rows: int = 32, cols: int = 32, step: int = 100) -> NDArray[np.int16]:
    """HU values that differ on every slice, row and column (linear in each index).

    Slice k holds ``step * k + 2 * row + col - 1000``, so each voxel's value tells where it is.
    """
    k, r, c = np.meshgrid(np.arange(n), np.arange(rows), np.arange(cols), indexing="ij")
    return (step * k + 2 * r + c - 1000).astype(np.int16)


def axial_volume(n: int = 8, rows: int = 32, cols: int = 32) -> Volume:
    """A ramp volume on an axial grid (slice axis towards the head)."""
    aff = affine_from_dicom(AXIAL, ORIGIN, PIXEL_SPACING, (0.0, 0.0, STEP))
    return Volume(ramp(n, rows, cols), aff)


def positions_along(
    normal_offsets: Sequence[float],
    orientation: Sequence[float] = AXIAL,
    origin: Sequence[float] = ORIGIN,
    lateral: Sequence[float] = (0.0, 0.0, 0.0),
) -> NDArray[np.float64]:
    """ImagePositionPatient of slices at the given distances along the normal.

    ``lateral`` is an in-plane shift added per mm along the normal (a gantry tilt).
    """
    iop = np.asarray(orientation, dtype=float)
    n = np.cross(iop[:3], iop[3:])
    t = np.asarray(normal_offsets, dtype=float)[:, None]
    return np.asarray(origin, dtype=float) + t * n + t * np.asarray(lateral, dtype=float)


def write_stack(
    folder: Path,
    slices_hu: NDArray[Any],
    normal_offsets: Sequence[float],
    *,
    orientation: Sequence[float] = AXIAL,
    lateral: Sequence[float] = (0.0, 0.0, 0.0),
    seed: str = "stack",
    **kwargs: Any,
) -> list[Path]:
    """Write slices at explicit distances along the normal (gaps, duplicates, uneven steps)."""
    return write_ct_slices(
        slices_hu,
        folder,
        positions_lps=positions_along(normal_offsets, orientation, ORIGIN, lateral),
        image_orientation=orientation,
        pixel_spacing=PIXEL_SPACING,
        slice_thickness=STEP,
        uid_seed=seed,
        **kwargs,
    )


def write_volume(folder: Path, volume: Volume, seed: str = "vol", **kwargs: Any) -> list[Path]:
    """:func:`write_ct_series` with deterministic UIDs."""
    return write_ct_series(volume, folder, uid_seed=seed, **kwargs)


def write_text_file(path: Path) -> Path:
    """A file that is not DICOM."""
    path.write_text("scanner notes: not an image\n")
    return path


def enhanced_ct_file(
    path: Path,
    volume: Volume,
    *,
    frame_order: Sequence[int] | None = None,
    rescale: tuple[float, float] = (1.0, -1024.0),
    transfer_syntax: str = pduid.ExplicitVRLittleEndian,
) -> Path:
    """Write ``volume`` as one Enhanced CT Image Storage file with functional groups.

    Frame ``j`` of the file holds slice ``frame_order[j]`` of the volume (default: in order);
    positions go in the per-frame groups, orientation, pixel measures, rescale and window in
    the shared groups.
    """
    n, rows, cols = volume.shape
    order = list(frame_order) if frame_order is not None else list(range(n))
    aff = volume.affine
    row_sp = float(np.linalg.norm(aff[:3, 1]))
    col_sp = float(np.linalg.norm(aff[:3, 2]))
    iop = [*(aff[:3, 2] / col_sp), *(aff[:3, 1] / row_sp)]
    slope, intercept = rescale
    stored = np.rint((volume.array.astype(float) - intercept) / slope).astype(np.uint16)

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = pduid.EnhancedCTImageStorage
    sop_uid = pduid.generate_uid(entropy_srcs=[str(path), "sop"])
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = pduid.ExplicitVRLittleEndian
    ds = FileDataset(str(path), Dataset(), file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = pduid.EnhancedCTImageStorage
    ds.SOPInstanceUID = sop_uid
    ds.PatientName = "Enhanced^Test"
    ds.PatientID = "ENH-1"
    ds.StudyInstanceUID = pduid.generate_uid(entropy_srcs=[str(path), "study"])
    ds.SeriesInstanceUID = pduid.generate_uid(entropy_srcs=[str(path), "series"])
    ds.FrameOfReferenceUID = pduid.generate_uid(entropy_srcs=[str(path), "for"])
    ds.Modality = "CT"
    ds.SeriesNumber = 7
    ds.InstanceNumber = 1
    ds.SeriesDescription = "enhanced"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL", "NONE"]
    ds.NumberOfFrames = n
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0

    shared = Dataset()
    pm = Dataset()
    pm.PixelSpacing = [row_sp, col_sp]
    pm.SliceThickness = float(np.linalg.norm(aff[:3, 0]))
    shared.PixelMeasuresSequence = DicomSequence([pm])
    po = Dataset()
    po.ImageOrientationPatient = [float(v) for v in iop]
    shared.PlaneOrientationSequence = DicomSequence([po])
    pvt = Dataset()
    pvt.RescaleIntercept = intercept
    pvt.RescaleSlope = slope
    pvt.RescaleType = "HU"
    shared.PixelValueTransformationSequence = DicomSequence([pvt])
    voi = Dataset()
    voi.WindowCenter = 50
    voi.WindowWidth = 350
    shared.FrameVOILUTSequence = DicomSequence([voi])
    ds.SharedFunctionalGroupsSequence = DicomSequence([shared])

    per_frame = []
    for j, k in enumerate(order):
        item = Dataset()
        pp = Dataset()
        pp.ImagePositionPatient = [float(v) for v in aff[:3, 3] + k * aff[:3, 0]]
        item.PlanePositionSequence = DicomSequence([pp])
        fc = Dataset()
        fc.InStackPositionNumber = j + 1
        item.FrameContentSequence = DicomSequence([fc])
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = DicomSequence(per_frame)
    ds.PixelData = np.ascontiguousarray(stored[order]).astype("<u2").tobytes()
    if transfer_syntax != pduid.ExplicitVRLittleEndian:
        ds.compress(transfer_syntax, generate_instance_uid=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def write_dicomdir(files: Sequence[Path], out_dir: Path) -> Path:
    """Copy ``files`` into a new File-set with a DICOMDIR (pydicom's FileSet); return DICOMDIR."""
    from pydicom.fileset import FileSet

    fs = FileSet()
    for f in files:
        fs.add(pydicom.dcmread(f))
    fs.write(out_dir)
    return out_dir / "DICOMDIR"


def dicomdir_referencing(root: Path, referenced: Sequence[Sequence[str]]) -> Path:
    """A DICOMDIR at ``root`` whose records reference the given file IDs (nothing else).

    The IDs are written as given, valid or not (``..``, absolute paths, lower case).
    """
    import warnings

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = pduid.MediaStorageDirectoryStorage
    meta.MediaStorageSOPInstanceUID = pduid.generate_uid(entropy_srcs=[str(root)])
    meta.TransferSyntaxUID = pduid.ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.FileSetID = "INDEX"
    records = []
    for parts in referenced:
        rec = Dataset()
        rec.DirectoryRecordType = "PRIVATE"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom says: not a valid file ID (the point)
            rec.ReferencedFileID = list(parts)
        records.append(rec)
    ds.DirectoryRecordSequence = DicomSequence(records)
    path = root / "DICOMDIR"
    root.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def truncate(path: Path, keep_bytes: int) -> None:
    """Cut a file to its first ``keep_bytes`` bytes (a broken copy)."""
    data = path.read_bytes()[:keep_bytes]
    path.write_bytes(data)
