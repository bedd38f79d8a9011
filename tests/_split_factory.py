"""Synthetic DICOM for the split and mosaic tests: repeated stacks in one series, mosaics.

Built on :mod:`_dicom_factory`; the mosaics are written with pydicom, their Siemens CSA image
header with :func:`csa2_header` (read back by nibabel's reader in the tests).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from _dicom_factory import (
    AXIAL,
    PIXEL_SPACING,
    axial_volume,
    enhanced_ct_file,
    ramp,
    write_stack,
    write_volume,
)
from numpy.typing import NDArray
from pydicom import uid as pduid
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence

from ivcviewer import geometry
from ivcviewer.volume import Volume

#: HU added per repeat, so that each voxel tells which repeat (echo, phase, ...) it comes from.
REPEAT_OFFSET = 7


def repeat_values(n: int, repeat: int, rows: int = 16, cols: int = 16) -> NDArray[np.int16]:
    """The HU of repeat ``repeat`` of an ``n``-slice stack: a ramp shifted by the repeat."""
    return (ramp(n, rows, cols) + REPEAT_OFFSET * repeat).astype(np.int16)


def write_repeats(
    folder: Path,
    n_repeats: int,
    offsets: Sequence[float] | Callable[[int], Sequence[float]],
    tags_of: Callable[[int], Mapping[str, Any]],
    *,
    seed: str = "repeats",
    **kwargs: Any,
) -> list[Path]:
    """One series (one SeriesInstanceUID) holding ``n_repeats`` stacks of slices.

    Parameters
    ----------
    offsets
        Slice positions along the normal (mm) of every repeat, or a function giving those of
        repeat ``r``.
    tags_of
        The tags (EchoNumbers, AcquisitionNumber, ImageType, ...) of repeat ``r``.

    Returns
    -------
    list of Path
        The files, repeat after repeat. Repeat ``r`` holds :func:`repeat_values` ``(n, r)``.
    """
    slices, positions, tags = [], [], []
    for r in range(n_repeats):
        where = list(offsets(r) if callable(offsets) else offsets)
        slices.append(repeat_values(len(where), r))
        positions.extend(where)
        tags.extend(dict(tags_of(r)) for _ in where)
    return write_stack(
        folder,
        np.concatenate(slices),
        positions,
        seed=seed,
        per_slice_tags=tags,
        file_names=[f"IM{i + 1:04d}.dcm" for i in range(len(positions))],
        **kwargs,
    )


def write_good_and_gapped(root: Path, n_good: int = 5) -> Path:
    """``n_good`` regular series ("good 0", ...; good ``i`` holds ``axial_volume(n=3 + i)``) and
    one with a missing slice ("with a gap"), all in one study under ``root``."""
    study = {"StudyInstanceUID": pydicom.uid.generate_uid(entropy_srcs=[str(root), "study"])}
    for i in range(n_good):
        write_volume(
            root / f"good{i}",
            axial_volume(n=3 + i, rows=16, cols=16),
            seed=f"good{i}",
            series_number=i + 1,
            series_description=f"good {i}",
            extra_tags=study,
        )
    write_stack(
        root / "gap",
        repeat_values(3, 0),
        [0.0, 2.5, 7.5],
        seed="gap",
        series_number=n_good + 1,
        series_description="with a gap",
        extra_tags=study,
    )
    return root


def enhanced_repeats(
    path: Path,
    volume: Volume,
    n_repeats: int,
    frame_groups: Callable[[int], Mapping[str, Dataset]],
    *,
    mr: bool = False,
) -> Path:
    """An enhanced multi-frame file holding ``volume`` ``n_repeats`` times (shared positions).

    Frames of repeat ``r`` hold ``volume`` + ``REPEAT_OFFSET * r`` and carry the per-frame
    functional group items ``frame_groups(r)`` (keyword -> item, e.g. a frame type sequence);
    a ``FrameContentSequence`` item given there is merged into the frame's own. ``mr`` makes it
    an Enhanced MR Image Storage file.
    """
    n = volume.shape[0]
    enhanced_ct_file(path, volume, frame_order=list(range(n)) * n_repeats)
    ds = pydicom.dcmread(path)
    ds.NumberOfFrames = n * n_repeats
    if mr:
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = pduid.EnhancedMRImageStorage
        ds.Modality = "MR"
    stored = []
    for r in range(n_repeats):
        for k in range(n):
            item = ds.PerFrameFunctionalGroupsSequence[r * n + k]
            for keyword, group in frame_groups(r).items():
                if keyword == "FrameContentSequence":
                    for elem in group:
                        item.FrameContentSequence[0].add(elem)
                else:
                    setattr(item, keyword, DicomSequence([group]))
        stored.append(volume.array.astype(np.int32) + REPEAT_OFFSET * r + 1024)
    ds.PixelData = np.concatenate(stored).astype("<u2").tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def item(**values: Any) -> Dataset:
    """A functional group item with ``values`` (keyword -> value)."""
    ds = Dataset()
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


def enhanced_two_frame_types(path: Path, volume: Volume, frame_types: Sequence[str]) -> Path:
    """An Enhanced CT file holding ``volume`` once per frame type (frames at shared positions).

    Frames of the ``t``-th type hold ``volume`` + ``REPEAT_OFFSET * t`` and name their type in
    a per-frame CT Image Frame Type Sequence.
    """
    return enhanced_repeats(
        path,
        volume,
        len(frame_types),
        lambda t: {"CTImageFrameTypeSequence": item(FrameType=frame_types[t].split("\\"))},
    )


# ----------------------------------------------------------------------------- mosaics


def csa2_header(tags: Mapping[str, tuple[str, Sequence[Any]]]) -> bytes:
    """A Siemens CSA2 header (``SV10``) holding ``tags``: name -> (VR, items).

    The layout is the one nibabel's ``csareader`` and dcm2niix read: a 16-byte preamble
    with the tag count, then per tag a 64-byte name, VM, VR, syngo type, item count and a check
    value, then per item four int32 (the second the item's length) and the padded text.
    """
    out = bytearray(b"SV10\x04\x03\x02\x01")
    out += struct.pack("<2I", len(tags), 77)
    for name, (vr, items) in tags.items():
        out += name.encode("ascii").ljust(64, b"\0")
        out += struct.pack("<i4s3i", len(items), vr.encode("ascii").ljust(4, b"\0"), 0, 6, 77)
        texts = [str(v).encode("ascii") + b"\0" for v in items]
        texts += [b""] * (6 - len(texts))
        for text in texts:
            out += struct.pack("<4i", len(text), len(text), 77, len(text))
            out += text + b"\0" * (-len(text) % 4)
    return bytes(out)


def mosaic_image(tiles: NDArray[Any]) -> NDArray[Any]:
    """Tile ``(n, rows, cols)`` slices row by row on a ``ceil(sqrt(n))`` square grid (zeros pad)."""
    n, tr, tc = tiles.shape
    g = math.ceil(math.sqrt(n))
    out = np.zeros((g * tr, g * tc), dtype=tiles.dtype)
    for k in range(n):
        i, j = divmod(k, g)
        out[i * tr : (i + 1) * tr, j * tc : (j + 1) * tc] = tiles[k]
    return out


def write_mosaic(
    path: Path,
    tiles: NDArray[np.uint16],
    *,
    first_tile_origin: Sequence[float],
    step_mm: float = 3.0,
    orientation: Sequence[float] = AXIAL,
    descending: bool = False,
    private_count: bool = True,
    csa: bool = True,
    n_declared: int | None = None,
    csa_bytes: bytes | None = None,
    series_uid: str | None = None,
    acquisition: int = 1,
    instance: int = 1,
) -> Path:
    """A Siemens MR mosaic file of ``tiles`` (stored values, one per slice).

    ``first_tile_origin`` is the true position of the first tile's first voxel; the file's
    ImagePositionPatient is that of the whole mosaic (shifted back by half the difference of
    mosaic and tile size), as Siemens writes it. ``descending`` makes the CSA SliceNormalVector
    point against ``row x column`` (tile ``k`` lies ``k * step_mm`` against the normal).
    ``private_count`` and ``csa`` leave out the private NumberOfImagesInMosaic element or the
    CSA header; ``n_declared`` overrides the slice count written there; ``csa_bytes`` replaces
    the CSA header written.
    """
    n, tr, tc = tiles.shape
    grid = math.ceil(math.sqrt(n))
    iop = np.asarray(orientation, dtype=float)
    row_sp, col_sp = PIXEL_SPACING
    shift = (grid * tr - tr) / 2 * row_sp * iop[3:] + (grid * tc - tc) / 2 * col_sp * iop[:3]
    position = np.asarray(first_tile_origin, dtype=float) - shift
    normal = geometry.slice_normal(orientation) * (-1.0 if descending else 1.0)
    declared = n if n_declared is None else n_declared

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = pduid.MRImageStorage
    sop = pduid.generate_uid(entropy_srcs=[str(path), "sop"])
    meta.MediaStorageSOPInstanceUID = sop
    meta.TransferSyntaxUID = pduid.ExplicitVRLittleEndian
    ds = FileDataset(str(path), Dataset(), file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = pduid.MRImageStorage, sop
    ds.PatientID, ds.PatientName, ds.Modality = "MOSAIC-1", "Mosaic^Test", "MR"
    ds.Manufacturer = "SIEMENS"
    ds.StudyInstanceUID = pduid.generate_uid(entropy_srcs=["mosaic-study"])
    ds.SeriesInstanceUID = series_uid or pduid.generate_uid(entropy_srcs=[str(path), "series"])
    ds.FrameOfReferenceUID = pduid.generate_uid(entropy_srcs=["mosaic-for"])
    ds.SeriesNumber, ds.InstanceNumber, ds.AcquisitionNumber = 3, instance, acquisition
    ds.SeriesDescription = "ep2d_bold"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND", "MOSAIC"]
    ds.ImagePositionPatient = [float(v) for v in position]
    ds.ImageOrientationPatient = [float(v) for v in iop]
    ds.PixelSpacing = [row_sp, col_sp]
    ds.SliceThickness = step_mm * 0.8
    ds.SpacingBetweenSlices = step_mm
    image = mosaic_image(tiles.astype(np.uint16))
    ds.Rows, ds.Columns = image.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    if private_count:
        block = ds.private_block(0x0019, "SIEMENS MR HEADER", create=True)
        block.add_new(0x0A, "US", declared)
    if csa:
        block = ds.private_block(0x0029, "SIEMENS CSA HEADER", create=True)
        header = csa2_header(
            {
                "NumberOfImagesInMosaic": ("US", [declared]),
                "AcquisitionMatrixText": ("SH", [f"{tr}*{tc}"]),
                "SliceNormalVector": ("FD", [f"{v:.8f}" for v in normal]),
            }
        )
        block.add_new(0x10, "OB", header if csa_bytes is None else csa_bytes)
    ds.PixelData = image.astype("<u2").tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path
