"""Pure LPS geometry: voxel grids, affines and their napari form.

Conventions (shared by the whole package):

* Voxel indices ``ijk`` are ``(slice, row, col)``, zero-based, at voxel centres.
* World coordinates ``*_lps`` are DICOM patient coordinates in millimetres:
  +x towards the patient's left, +y posterior, +z superior (head).
* A volume's ``affine`` is a 4x4 matrix mapping ``(slice, row, col, 1)`` to ``(x, y, z, 1)`` LPS.
* NIfTI's RAS is converted here, at the boundary (:func:`ras_to_lps`).
* napari's world axes are LPS reversed, ``(z, y, x)``: axis 0 runs feet to head, so the default
  2D view is axial with anterior up and the patient's left on the right of the screen
  (the radiological convention).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import GeometryError

#: Flip between LPS and RAS (its own inverse).
LPS_FROM_RAS: NDArray[np.float64] = np.diag([-1.0, -1.0, 1.0, 1.0])

#: Two grids whose affines differ by no more than this (mm, or direction cosine times spacing)
#: are the same grid.
GRID_ATOL = 1e-3

#: napari world ``(z, y, x)`` from LPS ``(x, y, z)`` (homogeneous, its own inverse).
NAPARI_FROM_LPS: NDArray[np.float64] = np.array(
    [[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]], dtype=float
)


def as_affine(affine: ArrayLike, name: str = "affine") -> NDArray[np.float64]:
    """Validate and return a 4x4 float affine.

    >>> as_affine(np.eye(4)).shape
    (4, 4)
    """
    a = np.asarray(affine, dtype=float)
    if a.shape != (4, 4):
        raise GeometryError(f"Argument {name!r} must be a 4x4 matrix, got shape {a.shape}.")
    if not np.all(np.isfinite(a)):
        raise GeometryError(f"Argument {name!r} must be finite, got {a.tolist()}.")
    if not np.allclose(a[3], [0, 0, 0, 1]):
        raise GeometryError(f"Argument {name!r} must have last row (0, 0, 0, 1), got {a[3]}.")
    if abs(np.linalg.det(a[:3, :3])) < 1e-12:
        raise GeometryError(
            f"Argument {name!r} is singular (a zero spacing or parallel axes): "
            f"{a[:3, :3].tolist()}."
        )
    return a


def affine_from_dicom(
    image_orientation: Sequence[float],
    first_position: Sequence[float],
    pixel_spacing: Sequence[float],
    slice_vector: Sequence[float],
) -> NDArray[np.float64]:
    """Build the ``(slice, row, col, 1) -> LPS`` affine of a DICOM stack.

    Parameters
    ----------
    image_orientation
        ImageOrientationPatient: the row direction (increasing column) then the column
        direction (increasing row), both unit vectors in LPS.
    first_position
        ImagePositionPatient of the first slice (centre of its first voxel), mm.
    pixel_spacing
        PixelSpacing ``(row spacing, column spacing)``: the distance between rows, then between
        columns, mm.
    slice_vector
        The step from one slice's position to the next, mm (not necessarily along the normal:
        a gantry tilt gives a sheared affine).

    Examples
    --------
    >>> a = affine_from_dicom([1, 0, 0, 0, 1, 0], [-100, -120, 50], [0.5, 0.7], [0, 0, 2.5])
    >>> a @ [1, 2, 3, 1]
    array([ -97.9, -119. ,   52.5,    1. ])
    """
    iop = np.asarray(image_orientation, dtype=float)
    if iop.shape != (6,):
        raise GeometryError(f"ImageOrientationPatient must have 6 values, got {iop.tolist()}.")
    row_dir, col_dir = iop[:3], iop[3:]
    for name, v in (("row", row_dir), ("column", col_dir)):
        if not np.isclose(np.linalg.norm(v), 1.0, atol=1e-3):
            raise GeometryError(
                f"ImageOrientationPatient {name} direction must be a unit vector, got {v.tolist()}."
            )
    if abs(float(row_dir @ col_dir)) > 1e-3:
        raise GeometryError(
            f"ImageOrientationPatient directions must be orthogonal, got {iop.tolist()}."
        )
    ps = np.asarray(pixel_spacing, dtype=float)
    if ps.shape != (2,) or np.any(ps <= 0):
        raise GeometryError(f"PixelSpacing must be 2 positive values, got {ps.tolist()}.")
    a = np.eye(4)
    a[:3, 0] = np.asarray(slice_vector, dtype=float)
    a[:3, 1] = col_dir * ps[0]
    a[:3, 2] = row_dir * ps[1]
    a[:3, 3] = np.asarray(first_position, dtype=float)
    return as_affine(a)


def slice_normal(image_orientation: Sequence[float]) -> NDArray[np.float64]:
    """Unit normal of the image plane: row direction x column direction.

    >>> slice_normal([1, 0, 0, 0, 1, 0])
    array([0., 0., 1.])
    """
    iop = np.asarray(image_orientation, dtype=float)
    n = np.cross(iop[:3], iop[3:])
    return n / np.linalg.norm(n)


def apply_affine(affine: ArrayLike, points: ArrayLike) -> NDArray[np.float64]:
    """Map points ``(..., 3)`` through a 4x4 affine.

    >>> apply_affine(np.diag([2.0, 3.0, 4.0, 1.0]), [1, 1, 1])
    array([2., 3., 4.])
    """
    a = np.asarray(affine, dtype=float)
    p = np.asarray(points, dtype=float)
    return p @ a[:3, :3].T + a[:3, 3]


def voxel_to_lps(affine: ArrayLike, ijk: ArrayLike) -> NDArray[np.float64]:
    """LPS mm of voxel indices ``(slice, row, col)`` (may be fractional)."""
    return apply_affine(affine, ijk)


def lps_to_voxel(affine: ArrayLike, points_lps: ArrayLike) -> NDArray[np.float64]:
    """Fractional ``(slice, row, col)`` indices of LPS points.

    >>> a = np.diag([2.5, 0.5, 0.5, 1.0])
    >>> lps_to_voxel(a, voxel_to_lps(a, [3, 4, 5]))
    array([3., 4., 5.])
    """
    return apply_affine(np.linalg.inv(as_affine(affine)), points_lps)


def spacing_from_affine(affine: ArrayLike) -> NDArray[np.float64]:
    """Voxel spacing ``(slice, row, col)`` in mm: the lengths of the affine's columns.

    >>> spacing_from_affine(np.diag([2.5, 0.7, 0.7, 1.0]))
    array([2.5, 0.7, 0.7])
    """
    a = np.asarray(affine, dtype=float)
    return np.asarray(np.linalg.norm(a[:3, :3], axis=0), dtype=float)


def direction_from_affine(affine: ArrayLike) -> NDArray[np.float64]:
    """Unit column vectors (3x3) of the affine: the LPS direction of each voxel axis."""
    a = np.asarray(affine, dtype=float)
    return np.asarray(a[:3, :3] / spacing_from_affine(a), dtype=float)


def gantry_tilt_deg(affine: ArrayLike) -> float:
    """Angle (degrees) between the slice axis and the normal of the image plane.

    Zero for an orthogonal stack; a gantry-tilted stack gives its tilt.

    >>> round(gantry_tilt_deg(np.diag([2.0, 1.0, 1.0, 1.0])), 6)
    0.0
    """
    d = direction_from_affine(affine)
    normal = np.cross(d[:, 2], d[:, 1])
    normal /= np.linalg.norm(normal)
    cos = abs(float(d[:, 0] @ normal))
    return float(np.degrees(np.arccos(min(1.0, cos))))


def ras_to_lps(affine_ras: ArrayLike) -> NDArray[np.float64]:
    """Convert an affine whose output is RAS into one whose output is LPS."""
    return np.asarray(LPS_FROM_RAS @ as_affine(affine_ras, "affine_ras"), dtype=float)


def lps_to_ras(affine_lps: ArrayLike) -> NDArray[np.float64]:
    """Convert an affine whose output is LPS into one whose output is RAS."""
    return np.asarray(LPS_FROM_RAS @ as_affine(affine_lps, "affine_lps"), dtype=float)


#: ``(slice, row, col)`` index from ``(i, j, k)`` = ``(col, row, slice)`` index (own inverse).
_REVERSE3 = np.array([[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]], dtype=float)


def affine_from_xyz_ras(affine_ijk_ras: ArrayLike) -> NDArray[np.float64]:
    """Turn a NIfTI affine (``(i, j, k)`` -> RAS, array indexed ``[i, j, k]``) into ours.

    The matching array is ``data.transpose(2, 1, 0)`` (so ``(slice, row, col) = (k, j, i)``).

    >>> a = affine_from_xyz_ras(np.diag([0.7, 0.8, 2.5, 1.0]))
    >>> a[:3, :3].tolist()
    [[0.0, 0.0, -0.7], [0.0, -0.8, 0.0], [2.5, 0.0, 0.0]]
    """
    return np.asarray(ras_to_lps(affine_ijk_ras) @ _REVERSE3, dtype=float)


def xyz_ras_from_affine(affine_lps: ArrayLike) -> NDArray[np.float64]:
    """Inverse of :func:`affine_from_xyz_ras`: our affine to a NIfTI ``(i, j, k)`` -> RAS one."""
    return np.asarray(lps_to_ras(affine_lps) @ _REVERSE3, dtype=float)


def affine_from_itk(
    origin: Sequence[float], spacing: Sequence[float], direction: Sequence[float]
) -> NDArray[np.float64]:
    """Build our affine from ITK/SimpleITK image geometry (ITK is LPS, index ``(x, y, z)``).

    ``direction`` is the row-major 3x3 ITK direction (9 values). The matching array is
    ``sitk.GetArrayFromImage(img)`` (already ``(z, y, x)`` = ``(slice, row, col)``).

    >>> affine_from_itk([1, 2, 3], [0.5, 0.6, 2.0], np.eye(3).ravel())[:3, :3].tolist()
    [[0.0, 0.0, 0.5], [0.0, 0.6, 0.0], [2.0, 0.0, 0.0]]
    """
    d = np.asarray(direction, dtype=float).reshape(3, 3)
    xyz = np.eye(4)
    xyz[:3, :3] = d * np.asarray(spacing, dtype=float)
    xyz[:3, 3] = np.asarray(origin, dtype=float)
    return np.asarray(as_affine(xyz) @ _REVERSE3, dtype=float)


def itk_from_affine(
    affine: ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Inverse of :func:`affine_from_itk`: ``(origin, spacing, direction 3x3)`` in ITK order.

    Raises :class:`GeometryError` for a sheared affine, which ITK cannot represent.
    """
    xyz = as_affine(affine) @ _REVERSE3
    spacing = np.linalg.norm(xyz[:3, :3], axis=0)
    d = xyz[:3, :3] / spacing
    if not np.allclose(d.T @ d, np.eye(3), atol=1e-4):
        raise GeometryError(
            "This affine is sheared (for example a gantry tilt) and has no ITK form; "
            "resample the volume first (ValidationMode.RESAMPLE)."
        )
    return xyz[:3, 3].copy(), spacing, d


#: Labels of the ``(negative, positive)`` end of the LPS world axes x, y, z, in the form of
#: nibabel's ``labels`` argument (``aff2axcodes(affine, labels=LPS_AXIS_LABELS)``).
LPS_AXIS_LABELS: tuple[tuple[str, str], tuple[str, str], tuple[str, str]] = (
    ("R", "L"),
    ("A", "P"),
    ("I", "S"),
)


def voxel_axis_orientation(affine: ArrayLike) -> NDArray[np.int_]:
    """The LPS world axis each voxel axis ``(slice, row, col)`` runs closest to, and its sense.

    Each world axis goes to exactly one voxel axis, also on oblique grids (where choosing each
    voxel axis's largest component alone can name one world axis twice): this is nibabel's
    :func:`~nibabel.orientations.io_orientation`, which takes the closest rotation of the
    affine (no zoom, no shear) and assigns the strongest axes first.

    Returns
    -------
    ndarray
        ``(3, 2)`` integers, one row per voxel axis: the world axis (0 = x, 1 = y, 2 = z) and
        +1 when the voxel axis points to its positive end (left, posterior, superior), else -1.

    Raises
    ------
    GeometryError
        For an affine that is not a valid 4x4 grid affine.

    Examples
    --------
    >>> voxel_axis_orientation(np.diag([-2.0, 1.0, 1.0, 1.0])).tolist()
    [[0, -1], [1, 1], [2, 1]]
    """
    from nibabel.orientations import io_orientation  # imported here: it loads all of nibabel

    ornt = io_orientation(as_affine(affine))
    return np.asarray(ornt, dtype=int)


def axis_codes(affine: ArrayLike) -> tuple[str, str, str]:
    """The LPS letter each voxel axis ``(slice, row, col)`` points most towards.

    The three letters always name three different world axes (see
    :func:`voxel_axis_orientation`); they equal nibabel's
    ``aff2axcodes(affine, labels=LPS_AXIS_LABELS)``.

    >>> axis_codes(np.diag([2.5, 0.7, 0.7, 1.0]))
    ('L', 'P', 'S')
    >>> from ivcviewer.geometry import affine_from_dicom
    >>> axis_codes(affine_from_dicom([1, 0, 0, 0, 1, 0], [0, 0, 0], [1, 1], [0, 0, 2]))
    ('S', 'P', 'L')
    """
    ornt = voxel_axis_orientation(affine)
    codes = [LPS_AXIS_LABELS[axis][1 if sense > 0 else 0] for axis, sense in ornt]
    return (codes[0], codes[1], codes[2])


def canonical_axes(affine: ArrayLike) -> tuple[tuple[int, int, int], tuple[bool, bool, bool]]:
    """Axis order and flips that bring a grid closest to napari's ``(S, P, L)`` world axes.

    Returns ``(order, flips)``: the new array is ``np.flip(array.transpose(order), axes)``
    with the axes where ``flips`` is true, so that array axis 0 points superior, 1 posterior,
    2 left (up to the residual obliquity of the grid): the reoriented grid's
    :func:`axis_codes` are ``('S', 'P', 'L')``.

    >>> canonical_axes(np.diag([-2.0, 1.0, 1.0, 1.0]))
    ((2, 1, 0), (False, False, True))
    """
    ornt = voxel_axis_orientation(affine)
    voxel_axis_of = {int(world): k for k, (world, _) in enumerate(ornt)}
    # napari world axis w (0 = z, 1 = y, 2 = x) is LPS component 2 - w
    order = [voxel_axis_of[2 - w] for w in range(3)]
    flips = [bool(ornt[k, 1] < 0) for k in order]
    return (order[0], order[1], order[2]), (flips[0], flips[1], flips[2])


def reorient_affine(
    affine: ArrayLike,
    shape: Sequence[int],
    order: Sequence[int],
    flips: Sequence[bool],
) -> NDArray[np.float64]:
    """Affine of ``np.flip(array.transpose(order), flipped axes)`` given the original's.

    ``shape`` is the original array's shape.
    """
    a = as_affine(affine)
    perm = np.zeros((4, 4))
    perm[3, 3] = 1
    for new_axis, old_axis in enumerate(order):
        perm[old_axis, new_axis] = 1.0
    flip = np.eye(4)
    for new_axis, f in enumerate(flips):
        if f:
            n = shape[order[new_axis]]
            flip[new_axis, new_axis] = -1.0
            flip[new_axis, 3] = n - 1
    return np.asarray(a @ perm @ flip, dtype=float)


@dataclass(frozen=True, eq=False)
class Grid:
    """A voxel grid placed in patient space: an array shape and its voxel-to-LPS affine.

    One value for what code otherwise passes as a ``(shape, affine)`` pair. Two grids are
    equal (``==``) when their shapes match and their affines agree within :data:`GRID_ATOL`;
    being compared with a tolerance, grids are not hashable.

    Attributes
    ----------
    shape
        Array shape ``(slice, row, col)``.
    affine
        4x4 matrix mapping ``(slice, row, col, 1)`` (zero-based, voxel centres) to LPS mm
        ``(x, y, z, 1)``; a read-only copy of the one given.

    Examples
    --------
    >>> g = Grid((4, 5, 6), np.diag([2.5, 0.7, 0.8, 1.0]))
    >>> g.voxel_to_lps([1, 2, 3])
    array([2.5, 1.4, 2.4])
    >>> g.lps_to_voxel([2.5, 1.4, 2.4])
    array([1., 2., 3.])
    >>> g.spacing
    array([2.5, 0.7, 0.8])
    >>> g == Grid((4, 5, 6), np.diag([2.5, 0.7, 0.8 + 1e-9, 1.0]))
    True
    >>> g == Grid((4, 5, 7), g.affine)
    False
    """

    shape: tuple[int, int, int]
    affine: NDArray[np.float64]

    __hash__ = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        try:
            dims = tuple(operator.index(n) for n in self.shape)
        except TypeError:
            dims = ()
        if len(dims) != 3 or min(dims) < 0:
            raise GeometryError(
                "Argument 'shape' must be 3 non-negative integers (slice, row, col), "
                f"got {self.shape!r}."
            )
        affine = as_affine(self.affine).copy()
        affine.setflags(write=False)
        object.__setattr__(self, "shape", dims)
        object.__setattr__(self, "affine", affine)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Grid):
            return NotImplemented
        return self.same_as(other)

    def same_as(self, other: Grid, atol: float = GRID_ATOL) -> bool:
        """Same shape, and affines that differ by no more than ``atol`` in any entry."""
        return self.shape == other.shape and bool(
            np.allclose(self.affine, other.affine, atol=atol, rtol=0.0)
        )

    @property
    def spacing(self) -> NDArray[np.float64]:
        """Voxel spacing ``(slice, row, col)`` in mm."""
        return spacing_from_affine(self.affine)

    def voxel_to_lps(self, ijk: ArrayLike) -> NDArray[np.float64]:
        """LPS mm of ``(slice, row, col)`` indices (may be fractional), shape ``(..., 3)``."""
        return apply_affine(self.affine, ijk)

    def lps_to_voxel(self, points_lps: ArrayLike) -> NDArray[np.float64]:
        """Fractional ``(slice, row, col)`` indices of LPS points, shape ``(..., 3)``."""
        return apply_affine(np.linalg.inv(self.affine), points_lps)

    def reoriented(self, order: Sequence[int], flips: Sequence[bool]) -> Grid:
        """The grid of ``np.flip(array.transpose(order), flipped axes)`` (same world places).

        >>> Grid((2, 3, 4), np.eye(4)).reoriented((2, 1, 0), (False, False, True)).shape
        (4, 3, 2)
        """
        shape = tuple(self.shape[k] for k in order)
        return Grid(
            (shape[0], shape[1], shape[2]),
            reorient_affine(self.affine, self.shape, order, flips),
        )


def napari_transform(affine: ArrayLike, atol: float = 1e-6) -> dict[str, Any]:
    """Layer keyword arguments placing a ``(slice, row, col)`` array in napari's world.

    napari's world axes are LPS reversed, ``(z, y, x)`` in mm. An axis-aligned grid gives
    ``scale`` and ``translate``; any other (oblique, permuted, tilted) gives a full ``affine``.

    >>> a = [[0, 0, 0.7, -100], [0, 0.7, 0, -90], [2.5, 0, 0, 10], [0, 0, 0, 1]]
    >>> kw = napari_transform(np.array(a))
    >>> kw["scale"], kw["translate"]
    ((2.5, 0.7, 0.7), (10.0, -90.0, -100.0))
    """
    w = NAPARI_FROM_LPS @ as_affine(affine)
    lin = w[:3, :3]
    if np.allclose(lin, np.diag(np.diag(lin)), atol=atol) and np.all(np.diag(lin) > 0):
        return {
            "scale": tuple(float(v) for v in np.diag(lin)),
            "translate": tuple(float(v) for v in w[:3, 3]),
            "units": ("mm", "mm", "mm"),
        }
    return {"affine": w, "units": ("mm", "mm", "mm")}


def lps_to_napari(points_lps: ArrayLike) -> NDArray[np.float64]:
    """LPS ``(x, y, z)`` points to napari world ``(z, y, x)``.

    >>> lps_to_napari([1.0, 2.0, 3.0])
    array([3., 2., 1.])
    """
    return np.asarray(points_lps, dtype=float)[..., ::-1].copy()


def napari_to_lps(points_world: ArrayLike) -> NDArray[np.float64]:
    """napari world ``(z, y, x)`` points to LPS ``(x, y, z)``."""
    return np.asarray(points_world, dtype=float)[..., ::-1].copy()
