"""The :class:`Volume`: a CT (or label) array with its exact place in patient space."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import geometry
from .errors import GeometryError
from .report import GeometryReport

#: Abdomen soft-tissue window (width 400, level 40), used when a series carries none.
ABDOMEN_WINDOW: tuple[float, float] = (40.0, 400.0)


@dataclass
class VolumeMetadata:
    """What is known about where a volume came from.

    ``window`` is ``(center, width)`` in HU.
    """

    modality: str = "CT"
    description: str = ""
    series_uid: str = ""
    study_uid: str = ""
    frame_of_reference_uid: str = ""
    patient_id: str = ""
    window: tuple[float, float] = ABDOMEN_WINDOW
    source_files: list[Path] = field(default_factory=list)
    source: str = ""
    rescale_applied: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def copy(self) -> VolumeMetadata:
        """A deep copy: changing it (its ``extra`` or ``source_files`` too) leaves this one."""
        return copy.deepcopy(self)


@dataclass
class Volume:
    """A 3D image on a voxel grid placed in DICOM patient space.

    Attributes
    ----------
    array
        Voxel values indexed ``(slice, row, col)``: HU for CT (``int16`` where the values fit,
        else ``float32``), label values for a label map.
    affine
        4x4 matrix mapping ``(slice, row, col, 1)`` (zero-based, voxel centres) to LPS mm
        ``(x, y, z, 1)``: +x patient's left, +y posterior, +z superior.
    metadata
        Provenance and display defaults.
    report
        What the loader found (codes such as ``missing_slices``, ``gantry_tilt``).

    A volume derived from another (:meth:`to_canonical`, :meth:`with_array`) owns copies of
    its metadata and report: editing one never changes the other.

    Examples
    --------
    >>> from ivcviewer.geometry import affine_from_dicom
    >>> aff = affine_from_dicom([1, 0, 0, 0, 1, 0], [0, 0, 0], [0.7, 0.7], [0, 0, 2.5])
    >>> v = Volume(np.zeros((4, 5, 6), np.int16), aff)
    >>> v.spacing
    array([2.5, 0.7, 0.7])
    >>> v.voxel_to_lps([1, 0, 0])
    array([0. , 0. , 2.5])
    """

    array: NDArray[Any]
    affine: NDArray[np.float64]
    metadata: VolumeMetadata = field(default_factory=VolumeMetadata)
    report: GeometryReport = field(default_factory=GeometryReport)

    def __post_init__(self) -> None:
        arr = np.asarray(self.array)
        if arr.ndim != 3:
            raise GeometryError(
                f"Volume array must be 3D (slice, row, col), got shape {arr.shape}."
            )
        self.array = arr
        self.affine = geometry.as_affine(self.affine)

    @property
    def shape(self) -> tuple[int, int, int]:
        """Array shape ``(slice, row, col)``."""
        s = self.array.shape
        return (int(s[0]), int(s[1]), int(s[2]))

    @property
    def grid(self) -> geometry.Grid:
        """The voxel grid: shape and affine as one :class:`~ivcviewer.geometry.Grid`."""
        return geometry.Grid(self.shape, self.affine)

    @property
    def spacing(self) -> NDArray[np.float64]:
        """Voxel spacing ``(slice, row, col)`` in mm."""
        return geometry.spacing_from_affine(self.affine)

    @property
    def origin_lps(self) -> NDArray[np.float64]:
        """LPS mm of voxel ``(0, 0, 0)``."""
        return self.affine[:3, 3].copy()

    @property
    def voxel_volume_mm3(self) -> float:
        """Volume of one voxel in mm^3 (exact for sheared grids too)."""
        return float(abs(np.linalg.det(self.affine[:3, :3])))

    def voxel_to_lps(self, ijk: ArrayLike) -> NDArray[np.float64]:
        """LPS mm of ``(slice, row, col)`` indices."""
        return geometry.voxel_to_lps(self.affine, ijk)

    def lps_to_voxel(self, points_lps: ArrayLike) -> NDArray[np.float64]:
        """Fractional ``(slice, row, col)`` indices of LPS points."""
        return geometry.lps_to_voxel(self.affine, points_lps)

    def napari_kwargs(self) -> dict[str, Any]:
        """``scale``/``translate`` (or ``affine``) and ``units`` for a napari layer."""
        return geometry.napari_transform(self.affine)

    def to_canonical(self) -> Volume:
        """The same image with its axes reordered and flipped towards ``(S, P, L)``.

        The data are views (no copy); world positions are unchanged; the metadata and report
        are copies. Used for display so that sagittal or coronal acquisitions slice as axial
        images.

        >>> v = Volume(np.zeros((4, 5, 6)), np.diag([-2.0, 1.0, 1.0, 1.0]))
        >>> c = v.to_canonical()
        >>> c.shape, geometry.axis_codes(c.affine)
        ((6, 5, 4), ('S', 'P', 'L'))
        """
        order, flips = geometry.canonical_axes(self.affine)
        arr = self.array.transpose(order)
        axes = tuple(i for i, f in enumerate(flips) if f)
        if axes:
            arr = np.flip(arr, axes)
        grid = self.grid.reoriented(order, flips)
        return replace(
            self,
            array=arr,
            affine=np.array(grid.affine),
            metadata=self.metadata.copy(),
            report=self.report.copy(),
        )

    def with_array(self, array: NDArray[Any]) -> Volume:
        """A volume on the same grid with other values (for example a label map).

        It has a copy of this volume's metadata and an empty report.
        """
        a = np.asarray(array)
        if a.shape != self.array.shape:
            raise GeometryError(
                f"Array shape {a.shape} does not match the volume's grid {self.array.shape}."
            )
        return replace(self, array=a, metadata=self.metadata.copy(), report=GeometryReport())

    def describe(self) -> str:
        """One line: shape, spacing and axis codes."""
        sp = ", ".join(f"{v:.3g}" for v in self.spacing)
        return (
            f"{self.metadata.modality} {self.shape[0]}x{self.shape[1]}x{self.shape[2]} "
            f"(slice, row, col), spacing {sp} mm, axes {''.join(geometry.axis_codes(self.affine))}"
        )


def hu_dtype(values_min: float, values_max: float, integral: bool) -> np.dtype[Any]:
    """``int16`` when integral values fit, else ``float32``.

    >>> hu_dtype(-1024, 3071, True), hu_dtype(-1024, 3071.5, False)
    (dtype('int16'), dtype('float32'))
    """
    if integral and values_min >= -32768 and values_max <= 32767:
        return np.dtype(np.int16)
    return np.dtype(np.float32)
