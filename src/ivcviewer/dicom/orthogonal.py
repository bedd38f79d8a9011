"""Resample a stack of parallel slices onto an orthogonal grid that holds all of it.

A gantry-tilted stack (each slice shifted in its plane along the stack), an unevenly spaced one
or one with gaps becomes a regular orthogonal grid: the slice axis follows the image-plane
normal (row direction x column direction), rows and columns are those of the images.
:func:`orthogonal_grid` extends the grid in its plane so that every source voxel centre falls
inside it (as dcm2niix and 3D Slicer do), rather than keeping the source's row count and
dropping what the tilt moves past the last row. :func:`resample_onto` interpolates physically:
each source slice is sampled at the target points' own in-plane positions (bilinear), then the
two source slices bracketing a target point along the normal are blended by their distances
from it (linear). Blending neighbouring slices at the same (row, col) before removing the tilt
would mix pixels that lie millimetres apart in the patient.

Each source slice is taken as surrounded by a fill value (the loader uses the stack's lowest
value: its air or padding): target points outside it take that value, and points within a pixel
of its edge blend with it. Only the output array and a few float32 slices are allocated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import geometry

#: In-plane offsets closer than this (in pixels) to a whole number are that number: a stack
#: whose slices line up is neither blurred nor grown by rounding noise.
IN_PLANE_TOLERANCE_PX = 1e-3


@dataclass(frozen=True)
class OrthogonalGrid:
    """An orthogonal grid holding a stack, and where each source slice falls in it.

    Attributes
    ----------
    shape
        ``(slices, rows, cols)`` of the grid.
    affine
        Its voxel -> LPS affine (slice axis along the normal, ``step_mm`` apart).
    step_mm
        Distance between neighbouring grid slices.
    distances_mm
        Distance of each source slice along the normal from the grid's first slice.
    offsets_px
        ``(n, 2)`` grid (row, col) of pixel (0, 0) of each source slice.
    source_rows_cols
        ``(rows, cols)`` of the source slices.
    """

    shape: tuple[int, int, int]
    affine: NDArray[np.float64]
    step_mm: float
    distances_mm: NDArray[np.float64]
    offsets_px: NDArray[np.float64]
    source_rows_cols: tuple[int, int]

    @property
    def added_before(self) -> tuple[int, int]:
        """Rows and columns of the grid before the first slice's first row and column."""
        r, c = np.rint(self.offsets_px[0]).astype(int)
        return int(r), int(c)

    @property
    def added_after(self) -> tuple[int, int]:
        """Rows and columns of the grid after the first slice's last row and column."""
        before = self.added_before
        return (
            self.shape[1] - self.source_rows_cols[0] - before[0],
            self.shape[2] - self.source_rows_cols[1] - before[1],
        )

    @property
    def origin_shift_mm(self) -> NDArray[np.float64]:
        """LPS shift of voxel (0, 0, 0) from pixel (0, 0) of the first source slice."""
        r, c = self.added_before
        return np.asarray(-r * self.affine[:3, 1] - c * self.affine[:3, 2], dtype=float)


def grid_size(
    positions_lps: ArrayLike,
    row_col_steps: tuple[ArrayLike, ArrayLike],
    rows_cols: tuple[int, int],
    step_mm: float,
    lateral: bool = True,
) -> tuple[float, float, float]:
    """``(slices, rows, cols)`` of :func:`orthogonal_grid` as floats, to check a budget first.

    Absurd positions give huge (or infinite) sizes here instead of failing to allocate.
    """
    d, delta, _ = _placement(positions_lps, row_col_steps, lateral)
    with np.errstate(all="ignore"):
        n = float(np.rint(d[-1] / step_mm)) + 1.0 if len(d) else 1.0
        lo, hi = _extent(delta)
        return n, float(hi[0] - lo[0]) + rows_cols[0], float(hi[1] - lo[1]) + rows_cols[1]


def orthogonal_grid(
    positions_lps: ArrayLike,
    row_col_steps: tuple[ArrayLike, ArrayLike],
    rows_cols: tuple[int, int],
    step_mm: float,
    lateral: bool = True,
) -> OrthogonalGrid:
    """The orthogonal grid holding every voxel centre of a stack of parallel slices.

    Parameters
    ----------
    positions_lps
        ``(n, 3)`` LPS position of pixel (0, 0) of each source slice (ImagePositionPatient),
        sorted along the normal.
    row_col_steps
        LPS step from one row to the next and from one column to the next (the affine's
        columns 1 and 2).
    rows_cols
        ``(rows, cols)`` of the source slices.
    step_mm
        Distance between grid slices; the span of the positions along the normal should be a
        whole number of steps (the last grid slice is the last source slice).
    lateral
        Place each slice by its own in-plane position (``False``: the slices line up, as in an
        untilted stack, and in-plane drift below the stack tolerance is ignored).

    Examples
    --------
    A 2 x 3 slice shifted one row per 2 mm slice: the grid grows by two rows.

    >>> g = orthogonal_grid([[0, 0, 0], [0, 1, 2], [0, 2, 4]], ([0, 1, 0], [1, 0, 0]), (2, 3), 2.0)
    >>> g.shape, g.added_before, g.added_after, g.offsets_px[:, 0].tolist()
    ((3, 4, 3), (0, 0), (2, 0), [0.0, 1.0, 2.0])
    >>> g.affine[:3, 0].tolist()
    [0.0, 0.0, 2.0]
    """
    u, v = (np.asarray(s, dtype=float) for s in row_col_steps)
    d, delta, p0 = _placement(positions_lps, (u, v), lateral)
    lo, hi = _extent(delta)
    n = int(np.rint(d[-1] / step_mm)) + 1 if len(d) else 1
    shape = (n, int(hi[0] - lo[0]) + rows_cols[0], int(hi[1] - lo[1]) + rows_cols[1])
    normal = np.cross(v / np.linalg.norm(v), u / np.linalg.norm(u))
    affine = np.eye(4)
    affine[:3, 0] = normal * step_mm
    affine[:3, 1] = u
    affine[:3, 2] = v
    affine[:3, 3] = p0 + lo[0] * u + lo[1] * v
    return OrthogonalGrid(
        shape=shape,
        affine=geometry.as_affine(affine),
        step_mm=float(step_mm),
        distances_mm=d,
        offsets_px=delta - lo,
        source_rows_cols=(int(rows_cols[0]), int(rows_cols[1])),
    )


def _placement(
    positions_lps: ArrayLike, row_col_steps: tuple[ArrayLike, ArrayLike], lateral: bool
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Distance along the normal and in-plane (row, col) offset of each slice from the first."""
    p = np.asarray(positions_lps, dtype=float).reshape(-1, 3)
    u, v = (np.asarray(s, dtype=float) for s in row_col_steps)
    normal = np.cross(v, u)
    normal /= np.linalg.norm(normal)
    rel = p - p[0]
    d = rel @ normal
    if not lateral:
        return d, np.zeros((len(p), 2)), p[0]
    in_plane = rel - d[:, None] * normal[None, :]
    basis = np.stack([u, v], axis=1)  # (3, 2)
    with np.errstate(all="ignore"):
        delta = np.linalg.lstsq(basis, in_plane.T, rcond=None)[0].T
        near = np.rint(delta)
        delta = np.where(np.abs(delta - near) < IN_PLANE_TOLERANCE_PX, near, delta)
    return d, delta, p[0]


def _extent(delta: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Whole-pixel (row, col) range of the slices' offsets: the grid grows by ``hi - lo``."""
    with np.errstate(all="ignore"):
        lo = np.floor(delta.min(axis=0) + IN_PLANE_TOLERANCE_PX)
        hi = np.ceil(delta.max(axis=0) - IN_PLANE_TOLERANCE_PX)
    return lo, np.maximum(hi, lo)


def resample_onto(
    array: NDArray[Any],
    grid: OrthogonalGrid,
    fill: float,
    rows: Sequence[int] | None = None,
    tolerance_mm: float = 0.01,
) -> NDArray[Any]:
    """Interpolate a stack of slices onto ``grid`` (bilinear in plane, linear along the normal).

    Parameters
    ----------
    array
        ``(n, rows, cols)`` source slices, in the order of ``grid.distances_mm``.
    rows
        The rows of ``array`` holding the source slices, when not all of them do (a stack
        with gaps, read onto its grid); no copy of the source is made.
    grid
        From :func:`orthogonal_grid` for the same slices.
    fill
        Value of target points outside a source slice (blended like any other value).
    tolerance_mm
        A grid slice this close to a source slice along the normal is that slice.

    Returns
    -------
    numpy.ndarray
        ``grid.shape``, of ``array``'s dtype (int16 values rounded to the nearest integer).
    """
    out = np.empty(grid.shape, dtype=array.dtype)
    d = grid.distances_mm
    shifted: dict[int, NDArray[np.float32]] = {}

    def slice_in_grid(a: int) -> NDArray[np.float32]:
        if a not in shifted:
            for old in [k for k in shifted if k < a - 1]:
                del shifted[old]  # targets move along the normal: earlier slices are done
            row = a if rows is None else rows[a]
            shifted[a] = _shift_into(array[row], grid.offsets_px[a], grid.shape[1:], fill)
        return shifted[a]

    integral = np.issubdtype(array.dtype, np.integer)
    work = np.empty(grid.shape[1:], dtype=np.float32)  # the one blended slice (no temporaries)
    for j in range(grid.shape[0]):
        t = j * grid.step_mm
        b = int(np.clip(np.searchsorted(d, t), 0, len(d) - 1))
        if abs(d[b] - t) <= tolerance_mm or b == 0:
            work[...] = slice_in_grid(b)
        elif abs(t - d[b - 1]) <= tolerance_mm:
            work[...] = slice_in_grid(b - 1)
        else:
            a = b - 1
            w = np.float32(min(1.0, max(0.0, (t - d[a]) / (d[b] - d[a]))))
            lower = slice_in_grid(a)
            np.subtract(slice_in_grid(b), lower, out=work)
            work *= w
            work += lower  # (1 - w) * lower + w * upper
        if integral:
            np.rint(work, out=work)
        out[j] = work
    return out


def _shift_into(
    image: NDArray[Any], offset: NDArray[np.float64], shape: tuple[int, ...], fill: float
) -> NDArray[np.float32]:
    """``image`` placed with its pixel (0, 0) at ``offset`` in a ``shape`` grid (bilinear).

    The image is taken as surrounded by ``fill``: points within a pixel of its edge blend with
    it (``scipy.ndimage.affine_transform`` with ``order=1, mode="grid-constant"`` gives the
    same values; a shift along each axis in turn is several times faster).
    """
    rows = _shift_axis(image, float(offset[0]), shape[0], 0, fill)
    return _shift_axis(rows, float(offset[1]), shape[1], 1, fill)


def _shift_axis(
    x: NDArray[Any], offset: float, n_out: int, axis: int, fill: float
) -> NDArray[np.float32]:
    """``x`` placed with its index 0 at ``offset`` along ``axis`` of length ``n_out`` (linear).

    >>> _shift_axis(np.array([10.0, 20.0]), 1.25, 4, 0, 0.0).tolist()
    [0.0, 7.5, 17.5, 5.0]
    """
    start = int(np.floor(offset))
    f = np.float32(offset - start)
    n = x.shape[axis]
    shape = list(x.shape)
    shape[axis] = n_out
    out = np.full(shape, fill, dtype=np.float32)

    def cut(a: int, b: int) -> tuple[slice, ...]:
        index = [slice(None)] * x.ndim
        index[axis] = slice(a, b)
        return tuple(index)

    if f == 0:
        out[cut(start, start + n)] = x
        return out
    # out[start + m] = (1 - f) * x[m] + f * x[m - 1] for m = 0..n, with x[-1] = x[n] = fill
    seg = out[cut(start, start + n + 1)]
    seg[cut(0, n)] = x
    seg[cut(0, n + 1)] *= np.float32(1) - f
    seg[cut(1, n + 1)] += f * x.astype(np.float32, copy=False)
    seg[cut(0, 1)] += f * np.float32(fill)
    return out
