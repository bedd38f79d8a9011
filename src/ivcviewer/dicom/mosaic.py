"""Vendor mosaics: several slices tiled in one image (Siemens MR ``MOSAIC``), unpacked to a stack.

A Siemens mosaic stores the ``n`` slices of one volume as tiles of one large image, on a square
grid of ``ceil(sqrt(n))`` tiles per row and per column, row by row. Its header says so in
ImageType (``MOSAIC``), in the private element NumberOfImagesInMosaic (0019,xx0A of the
``SIEMENS MR HEADER`` block) and in the CSA image header (0029,xx10: NumberOfImagesInMosaic and
SliceNormalVector, the direction from one tile to the next). ImagePositionPatient of a mosaic
refers to the whole mosaic image, not to its first tile: the first tile's first voxel lies
``(mosaic size - tile size) / 2`` voxels further along the rows and the columns (the
correction dcm2niix and nibabel apply). The slice step is SpacingBetweenSlices (else
SliceThickness).

:func:`mosaic_layout` reads that from a header; :class:`MosaicLayout` unpacks the image and
places its tiles.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset

from .. import geometry
from .header_values import HeaderValues

#: Private creator of the block holding NumberOfImagesInMosaic (element 0x0A of group 0x0019).
SIEMENS_MR_HEADER = "SIEMENS MR HEADER"


class MosaicError(ValueError):
    """A mosaic whose tiles cannot be unpacked or placed (the message says why)."""


@dataclass(frozen=True)
class MosaicLayout:
    """How the slices of one mosaic image are tiled, and where the tiles lie.

    Attributes
    ----------
    n_slices
        NumberOfImagesInMosaic.
    grid
        Tiles per row and per column of the mosaic (``ceil(sqrt(n_slices))``).
    tile_rows, tile_cols
        Rows and columns of one tile.
    step_mm
        Distance between neighbouring slices, mm.
    step_source
        The header element the step comes from.
    descending
        The tiles run against ``row x column`` (the CSA SliceNormalVector points the other way):
        they are stacked in reverse so that slices go along the image-plane normal.
    normal_source
        Where the tile order along the normal comes from (the CSA header, or assumed).
    """

    n_slices: int
    grid: int
    tile_rows: int
    tile_cols: int
    step_mm: float
    step_source: str
    descending: bool
    normal_source: str

    def unpack(self, image: NDArray[Any]) -> NDArray[Any]:
        """The ``(n_slices, tile_rows, tile_cols)`` stack of the mosaic ``image``, along the normal.

        >>> lay = MosaicLayout(3, 2, 2, 2, 1.0, "SpacingBetweenSlices", False, "CSA")
        >>> img = np.arange(16).reshape(4, 4)
        >>> lay.unpack(img)[:, 0, 0].tolist(), lay.unpack(img)[1].tolist()
        ([0, 2, 8], [[2, 3], [6, 7]])
        """
        g, tr, tc = self.grid, self.tile_rows, self.tile_cols
        tiles = np.asarray(image).reshape(g, tr, g, tc).transpose(0, 2, 1, 3).reshape(g * g, tr, tc)
        tiles = tiles[: self.n_slices]
        return np.ascontiguousarray(tiles[::-1] if self.descending else tiles)

    def affine(
        self,
        image_orientation: tuple[float, ...],
        mosaic_position: tuple[float, float, float],
        pixel_spacing: tuple[float, float],
    ) -> NDArray[np.float64]:
        """The ``(slice, row, col, 1) -> LPS`` affine of the unpacked stack.

        ``mosaic_position`` is the mosaic's ImagePositionPatient; the first tile's first voxel is
        shifted from it by half the difference between mosaic and tile size, in rows and columns.
        """
        iop = np.asarray(image_orientation, dtype=float)
        row_dir, col_dir = iop[:3], iop[3:]
        row_sp, col_sp = pixel_spacing
        shift_rows = (self.grid * self.tile_rows - self.tile_rows) / 2.0
        shift_cols = (self.grid * self.tile_cols - self.tile_cols) / 2.0
        first = (
            np.asarray(mosaic_position, dtype=float)
            + col_dir * row_sp * shift_rows
            + row_dir * col_sp * shift_cols
        )
        normal = geometry.slice_normal(image_orientation)
        if self.descending:
            first = first - normal * self.step_mm * (self.n_slices - 1)
        return geometry.affine_from_dicom(
            image_orientation,
            [float(v) for v in first],
            pixel_spacing,
            [float(v) for v in normal * self.step_mm],
        )

    def describe(self) -> str:
        """One sentence for the report."""
        return (
            f"Siemens mosaic of {self.n_slices} slices ({self.grid} x {self.grid} tiles of "
            f"{self.tile_rows} x {self.tile_cols}) unpacked into a stack: first tile placed "
            f"{(self.grid - 1) / 2:g} tiles from the mosaic's ImagePositionPatient, slice step "
            f"{self.step_mm:g} mm from {self.step_source}, slice order from {self.normal_source}."
        )


def is_mosaic(image_type: tuple[str, ...]) -> bool:
    """ImageType flags a mosaic (``MOSAIC`` among its values)."""
    return "MOSAIC" in image_type


def mosaic_layout(
    ds: Dataset, rows: int, cols: int, image_orientation: tuple[float, ...]
) -> MosaicLayout:
    """The layout of the mosaic image ``ds`` of ``rows x cols`` pixels.

    Raises
    ------
    MosaicError
        When the header does not say how many slices the mosaic holds, or its grid does not
        divide the image into whole tiles.
    """
    csa = _csa_image_header(ds)
    n = _private_n_images(ds) or _csa_int(csa, "NumberOfImagesInMosaic")
    if not n or n < 1:
        raise MosaicError(
            "ImageType says MOSAIC but neither NumberOfImagesInMosaic (0019,xx0A, "
            f"{SIEMENS_MR_HEADER}) nor the CSA image header says how many slices it holds"
        )
    grid = math.ceil(math.sqrt(n))
    if rows % grid or cols % grid:
        raise MosaicError(
            f"a mosaic of {n} slices needs a {grid} x {grid} tile grid, which does not divide "
            f"its {rows} x {cols} pixels into whole tiles"
        )
    f = HeaderValues(ds)
    step, source = f.number("SpacingBetweenSlices", None), "SpacingBetweenSlices"
    if not step or step <= 0:
        step, source = f.number("SliceThickness", None), "SliceThickness (no SpacingBetweenSlices)"
    if not step or step <= 0:
        raise MosaicError(
            "neither SpacingBetweenSlices nor SliceThickness gives the step between its slices"
        )
    csa_normal = _csa_floats(csa, "SliceNormalVector")
    normal = geometry.slice_normal(image_orientation)
    descending, normal_source = False, "the image plane (no CSA SliceNormalVector)"
    if csa_normal is not None and len(csa_normal) == 3:
        dot = float(np.dot(csa_normal, normal))
        if abs(abs(dot) - 1.0) > 1e-3:
            raise MosaicError(
                f"the CSA SliceNormalVector {list(np.round(csa_normal, 4))} is not the normal of "
                "the image plane"
            )
        descending, normal_source = dot < 0, "the CSA SliceNormalVector"
    return MosaicLayout(
        n_slices=int(n),
        grid=grid,
        tile_rows=rows // grid,
        tile_cols=cols // grid,
        step_mm=float(step),
        step_source=source,
        descending=descending,
        normal_source=normal_source,
    )


def _private_n_images(ds: Dataset) -> int | None:
    """NumberOfImagesInMosaic from the ``SIEMENS MR HEADER`` private block, if present."""
    try:
        elem = ds.private_block(0x0019, SIEMENS_MR_HEADER)[0x0A]
    except KeyError:
        return None
    value = elem.value
    if isinstance(value, bytes):
        return int.from_bytes(value[:2], "little") if len(value) >= 2 else None
    try:
        return int(value[0] if isinstance(value, (list, tuple)) else value)
    except (TypeError, ValueError, IndexError):
        return None


def _csa_image_header(ds: Dataset) -> dict[str, Any] | None:
    """The parsed CSA image header (nibabel's reader), or ``None`` when absent or unreadable."""
    from nibabel.nicom import csareader

    try:
        header = csareader.get_csa_header(ds, "image")
    except (
        csareader.CSAReadError,
        struct.error,
        AssertionError,  # nibabel asserts that unused items are empty
        KeyError,
        ValueError,
        TypeError,
        IndexError,
    ):
        return None
    return header if isinstance(header, dict) else None


def _csa_floats(csa: dict[str, Any] | None, name: str) -> NDArray[np.float64] | None:
    """A CSA tag's items as floats (``None`` when the tag is absent or empty)."""
    if csa is None:
        return None
    try:
        items = csa["tags"][name]["items"]
        return np.asarray([float(v) for v in items], dtype=float) if items else None
    except (KeyError, TypeError, ValueError):
        return None


def _csa_int(csa: dict[str, Any] | None, name: str) -> int | None:
    """A CSA tag's first item as an int, or ``None``."""
    values = _csa_floats(csa, name)
    return int(values[0]) if values is not None else None
