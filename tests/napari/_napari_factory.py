"""Small synthetic CT volumes (axial, sagittal, tilted) for the napari tests.

Each geometry is given as DICOM tags (ImageOrientationPatient, the first ImagePositionPatient,
PixelSpacing and the step between slice positions) and turned into a Volume with
:func:`ivcviewer.geometry.affine_from_dicom`, exactly as a loader does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ivcviewer import geometry
from ivcviewer.geometry import affine_from_dicom
from ivcviewer.report import GeometryReport
from ivcviewer.volume import Volume, VolumeMetadata

SHAPE = (20, 48, 48)
TILT_DEG = 15.0


@dataclass(frozen=True)
class DicomGeometry:
    """The DICOM tags that place a stack: IOP, IPP of slice 0, PixelSpacing, slice step."""

    name: str
    iop: tuple[float, ...]
    ipp0: tuple[float, float, float]
    pixel_spacing: tuple[float, float]
    step: tuple[float, float, float]

    def lps(self, ijk: tuple[int, int, int]) -> NDArray[np.float64]:
        """LPS of voxel (slice, row, col) straight from the DICOM equations (no affine)."""
        k, r, c = ijk
        row_dir = np.array(self.iop[:3])
        col_dir = np.array(self.iop[3:])
        ipp = np.array(self.ipp0) + k * np.array(self.step)
        return ipp + c * self.pixel_spacing[1] * row_dir + r * self.pixel_spacing[0] * col_dir


_t = np.radians(TILT_DEG)

GEOMETRIES: dict[str, DicomGeometry] = {
    "axial": DicomGeometry(
        "axial", (1, 0, 0, 0, 1, 0), (-100.0, -120.0, 50.0), (0.8, 0.7), (0.0, 0.0, 2.5)
    ),
    # rows run head to feet, columns anterior to posterior; slices step towards the left
    "sagittal": DicomGeometry(
        "sagittal", (0, 1, 0, 0, 0, -1), (-15.0, -20.0, 60.0), (1.2, 0.9), (1.5, 0.0, 0.0)
    ),
    # gantry tilted about the x axis; the table (slice positions) moves along z
    "tilted": DicomGeometry(
        "tilted",
        (1, 0, 0, 0, float(np.cos(_t)), float(np.sin(_t))),
        (-90.0, -110.0, -30.0),
        (0.75, 0.75),
        (0.0, 0.0, 3.0),
    ),
}


def affine_of(geom: DicomGeometry) -> NDArray[np.float64]:
    """The Volume affine of a geometry, through :func:`affine_from_dicom`."""
    return affine_from_dicom(geom.iop, geom.ipp0, geom.pixel_spacing, geom.step)


def unique_volume(geom: DicomGeometry, shape: tuple[int, int, int] = SHAPE) -> Volume:
    """A volume whose voxel values are all different (value = flat index), int32."""
    arr = np.arange(np.prod(shape), dtype=np.int32).reshape(shape)
    return Volume(arr, affine_of(geom), VolumeMetadata(description=f"{geom.name} unique"))


def phantom_volume(
    geom: DicomGeometry,
    bright: tuple[slice, slice, slice],
    dark: tuple[slice, slice, slice] | None = None,
    shape: tuple[int, int, int] = SHAPE,
    window: tuple[float, float] = (40.0, 400.0),
    report: GeometryReport | None = None,
) -> Volume:
    """Soft tissue (40 HU) with a bright block (1000 HU) and optionally an air block."""
    arr = np.full(shape, 40, dtype=np.int16)
    arr[bright] = 1000
    if dark is not None:
        arr[dark] = -1000
    return Volume(
        arr,
        affine_of(geom),
        VolumeMetadata(description=f"{geom.name} phantom", series_uid="1.2.3.4", window=window),
        report or GeometryReport(),
    )


#: Marker voxels (slice, row, col) and their HU values, written into DICOM test series.
MARKERS: dict[tuple[int, int, int], int] = {
    (0, 0, 0): 500,
    (3, 40, 7): 700,
    (11, 5, 30): 900,
    (19, 47, 47): 1100,
}


def marker_volume(geom: DicomGeometry, shape: tuple[int, int, int] = SHAPE) -> Volume:
    """Soft tissue (40 HU) with one voxel of a distinct HU value per marker."""
    arr = np.full(shape, 40, dtype=np.int16)
    for ijk, value in MARKERS.items():
        arr[ijk] = value
    return Volume(arr, affine_of(geom), VolumeMetadata(description=f"{geom.name} markers"))


def write_dicom_series(geom: DicomGeometry, out_dir: Path, seed: str) -> Path:
    """Write :func:`marker_volume` as a CT series (a tilted geometry slice by slice)."""
    from ivcviewer.dicom import write_ct_series, write_ct_slices

    volume = marker_volume(geom)
    if geometry.gantry_tilt_deg(volume.affine) > 1e-3:
        n = volume.shape[0]
        positions = np.array(geom.ipp0) + np.arange(n)[:, None] * np.array(geom.step)
        write_ct_slices(
            volume.array,
            out_dir,
            positions_lps=positions,
            image_orientation=list(geom.iop),
            pixel_spacing=list(geom.pixel_spacing),
            slice_thickness=float(np.linalg.norm(geom.step)),
            series_description=f"{geom.name} markers",
            uid_seed=seed,
        )
    else:
        write_ct_series(volume, out_dir, series_description=f"{geom.name} markers", uid_seed=seed)
    return out_dir


def dicom_lps_of_value(folder: Path, value: int) -> NDArray[np.float64]:
    """LPS of the one pixel holding HU ``value``, from that file's own tags (pydicom).

    The in-plane position uses :func:`affine_from_dicom` with the file's
    ImageOrientationPatient, ImagePositionPatient and PixelSpacing.
    """
    import pydicom

    hits = []
    for f in sorted(folder.iterdir()):
        ds = pydicom.dcmread(f)
        hu = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        for r, c in np.argwhere(np.isclose(hu, value)):
            iop = [float(v) for v in ds.ImageOrientationPatient]
            a = affine_from_dicom(
                iop,
                [float(v) for v in ds.ImagePositionPatient],
                [float(v) for v in ds.PixelSpacing],
                geometry.slice_normal(iop),  # unused for slice index 0
            )
            hits.append(geometry.apply_affine(a, [0, int(r), int(c)]))
    if len(hits) != 1:
        raise ValueError(f"{folder}: expected one pixel of {value} HU, found {len(hits)}")
    return np.asarray(hits[0])
