"""Small synthetic volumes written with nibabel and SimpleITK, for the io tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import SimpleITK as sitk
from numpy.typing import NDArray

#: A NIfTI (i, j, k) -> RAS affine that is neither identity nor axis-positive: x flipped
#: (i runs towards the patient's right), anisotropic spacing, an offset origin.
RAS_AFFINE = np.array(
    [
        [-0.5, 0.0, 0.0, 10.0],
        [0.0, 0.75, 0.0, -20.0],
        [0.0, 0.0, 2.0, 30.0],
        [0.0, 0.0, 0.0, 1.0],
    ]
)


def xyz_data(shape: tuple[int, int, int] = (7, 6, 5), dtype: Any = np.int16) -> NDArray[Any]:
    """An array indexed [i, j, k] whose every voxel has a distinct value (-1000 upwards)."""
    n = int(np.prod(shape))
    return (np.arange(n).reshape(shape) - 1000).astype(dtype)


def write_nifti(
    path: Path,
    data: NDArray[Any],
    affine: NDArray[np.float64] = RAS_AFFINE,
    *,
    slope: float | None = None,
    inter: float | None = None,
    qform_code: int = 1,
    sform_code: int = 1,
    unit: str = "mm",
) -> Path:
    """Write ``data`` (indexed [i, j, k, ...]) as NIfTI with the given header fields."""
    img = nib.Nifti1Image(data, affine)
    img.set_sform(affine, code=sform_code)
    img.set_qform(affine, code=qform_code)
    img.header.set_xyzt_units(unit)
    if slope is not None or inter is not None:
        img.header.set_slope_inter(slope if slope is not None else 1.0, inter or 0.0)
    nib.save(img, str(path))
    return path


def oblique_direction() -> NDArray[np.float64]:
    """A rotation (about 20 degrees about z then 10 about x) as an ITK row-major 3x3."""
    a, b = np.radians(20), np.radians(10)
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    return rz @ rx


def write_itk(
    path: Path,
    zyx: NDArray[Any],
    *,
    origin: tuple[float, float, float] = (-50.0, 20.0, 100.0),
    spacing: tuple[float, float, float] = (0.7, 0.8, 2.5),
    direction: NDArray[np.float64] | None = None,
) -> sitk.Image:
    """Write a ``(z, y, x)`` array with SimpleITK (format by ending); returns the image."""
    img = sitk.GetImageFromArray(zyx)
    img.SetOrigin(origin)
    img.SetSpacing(spacing)
    if direction is not None:
        img.SetDirection(tuple(np.asarray(direction, dtype=float).ravel()))
    sitk.WriteImage(img, str(path))
    return img
