"""What a volume file's header says, read without its voxels."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import geometry
from ..report import GeometryReport


@dataclass
class VolumeHeader:
    """Geometry and type of a volume file, from its header only.

    Attributes
    ----------
    path
        The file.
    format
        ``"nifti"``, ``"nrrd"`` or ``"metaimage"``.
    shape
        Array shape ``(slice, row, col)``.
    affine
        4x4 ``(slice, row, col, 1)`` -> LPS mm.
    dtype
        The stored voxel type (before any ``scl_slope``/``scl_inter`` scaling).
    description
        A description from the header (NIfTI ``descrip``), else ``""``.
    slope, intercept
        Scaling the reader applies to stored values (1 and 0 when none).
    report
        What the header revealed (``rescale_applied``, ``no_orientation``, ...).
    extra
        Other header fields worth keeping (format-specific).
    """

    path: Path
    format: str
    shape: tuple[int, int, int]
    affine: NDArray[np.float64]
    dtype: np.dtype[Any]
    description: str = ""
    slope: float = 1.0
    intercept: float = 0.0
    report: GeometryReport = field(default_factory=GeometryReport)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def grid(self) -> geometry.Grid:
        """The voxel grid (shape and affine) as one :class:`~ivcviewer.geometry.Grid`."""
        return geometry.Grid(self.shape, self.affine)

    @property
    def spacing(self) -> NDArray[np.float64]:
        """Voxel spacing ``(slice, row, col)`` in mm."""
        return geometry.spacing_from_affine(self.affine)

    @property
    def scaled(self) -> bool:
        """True when stored values are scaled on reading."""
        return bool(self.slope != 1.0 or self.intercept != 0.0)
