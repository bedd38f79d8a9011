"""Rasterise an analytic model onto a voxel grid: partial volume, texture, blur and noise.

A :class:`Model` is an ordered list of :class:`Structure` (a signed distance function, a
bounding box, an attenuation and a label name) painted one over the other, as a painter paints:
each structure replaces what is under it in proportion to its partial-volume fraction
(:func:`~ivcviewer.phantom.sdf.coverage`), and takes the label of every voxel it covers by at
least half. The grid is processed in slabs of slices; each structure is evaluated only inside
its bounding box, so memory stays at a few slab-sized ``float32`` arrays besides the outputs.

After painting, each slab (with a halo of neighbouring slices) is blurred by a small Gaussian
(the scanner's resolution) together with white Gaussian noise whose amplitude is scaled so that
the noise left after the blur has the requested standard deviation; the result is rounded to
``int16`` HU and clipped to -1024..3071.

The texture of each tissue comes from two smooth random fields of unit variance (a coarse one,
about 1 cm, and a fine one, about 3 mm) built from a fixed seed over fixed LPS lattices: it is
the same for every noise seed and the same in every grid, so only the noise depends on ``seed``.
A third, much smoother field (``tex_shape``, a few cm) bends the outlines of organs and of the
body by a few mm, so that no organ is a perfect ellipsoid.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage, sparse

from .grid import PhantomGrid
from .sdf import F32, Arr, Box, coverage

#: Seed of the texture lattices (fixed: texture is part of the anatomy, not of the noise).
TEXTURE_SEED = 20240404

#: HU range stored in the CT array (12-bit CT, RescaleIntercept -1024).
HU_MIN, HU_MAX = -1024, 3071

#: Lattice domain of the texture fields (LPS mm): ``(lo, hi)`` per axis x, y, z.
_TEX_DOMAIN = ((-230.0, 230.0), (-240.0, 220.0), (-210.0, 240.0))

#: Texture fields: name -> (lattice spacing mm, Gaussian kernel sigma mm).
TEXTURES: dict[str, tuple[float, float]] = {
    "tex_coarse": (8.0, 5.0),
    "tex_fine": (2.5, 1.2),
    "tex_shape": (20.0, 14.0),
}


@dataclass(frozen=True)
class HU:
    """Attenuation of a structure: ``base + coarse * T_coarse + fine * T_fine`` (HU).

    ``T_coarse`` and ``T_fine`` are the unit-variance texture fields.
    """

    base: float
    coarse: float = 0.0
    fine: float = 0.0


class Block:
    """A box-shaped part of a slab: broadcastable coordinates and access to slab fields."""

    def __init__(
        self, slab: Slab, sz: slice, sy: slice, sx: slice, shift: tuple[float, float] = (0.0, 0.0)
    ) -> None:
        self.slab = slab
        self.sl = (sz, sy, sx)
        self.z = slab.z[sz].reshape(-1, 1, 1)
        self.y = slab.y[sy].reshape(1, -1, 1) + F32(shift[1])
        self.x = slab.x[sx].reshape(1, 1, -1) + F32(shift[0])

    def shifted(self, dx: float, dy: float) -> Block:
        """The same block with its in-plane sample points moved by ``(dx, dy)`` mm (fields are
        still read at the voxel centres)."""
        return Block(self.slab, *self.sl, shift=(dx, dy))

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(nz, ny, nx)``."""
        return (self.z.shape[0], self.y.shape[1], self.x.shape[2])

    def field(self, name: str) -> Arr:
        """A slab field (computed once per slab) cut to this block."""
        f = self.slab.field(name)
        if f.shape[0] == 1:
            return f[:, self.sl[1], self.sl[2]]
        return f[self.sl]


FieldFn = Callable[[Block], Arr]


class Slab:
    """Slices ``[k0, k1)`` of a grid, full in-plane, with lazily computed named fields."""

    def __init__(
        self,
        grid: PhantomGrid,
        k0: int,
        k1: int,
        fields: Mapping[str, FieldFn],
    ) -> None:
        zs, ys, xs = grid.axes_lps()
        self.grid = grid
        self.k0, self.k1 = k0, k1
        self.z, self.y, self.x = zs[k0:k1], ys, xs
        self._fields = fields
        self._cache: dict[str, Arr] = {}
        self.full = Block(self, slice(0, k1 - k0), slice(0, len(ys)), slice(0, len(xs)))

    def field(self, name: str) -> Arr:
        """The named field over the whole slab (shape ``(nz or 1, ny, nx)``)."""
        if name not in self._cache:
            if name in TEXTURES:
                self._cache[name] = texture_field(name, self.z, self.y, self.x)
            else:
                self._cache[name] = np.asarray(self._fields[name](self.full), dtype=F32)
        return self._cache[name]

    def close(self) -> None:
        """Free the cached fields (slabs and blocks refer to each other)."""
        self._cache.clear()

    def block(self, box: Box) -> Block | None:
        """The block of voxels whose centres lie in ``box``, or None when there is none."""
        i0, i1 = _range(self.z, box.zmin, box.zmax)
        j0, j1 = _range(self.y, box.ymin, box.ymax)
        k0, k1 = _range(self.x, box.xmin, box.xmax)
        if i0 >= i1 or j0 >= j1 or k0 >= k1:
            return None
        return Block(self, slice(i0, i1), slice(j0, j1), slice(k0, k1))


def _range(c: NDArray[np.float32], lo: float, hi: float) -> tuple[int, int]:
    return int(np.searchsorted(c, lo, "left")), int(np.searchsorted(c, hi, "right"))


@dataclass(frozen=True)
class Structure:
    """One painted shape.

    Attributes
    ----------
    key
        Unique name of this painting step (``"vertebrae_L1_cancellous"``).
    label
        Label-table name given to the voxels it covers by half or more; None paints HU only.
    sdf
        Signed distance (mm, negative inside) on a block.
    box
        LPS box holding the shape (it is evaluated only there).
    hu
        Attenuation: an :class:`HU` or a function of the block giving HU values.
    region
        Optional sub-region name recorded in :attr:`Raster.regions` (for example
        ``"mass_necrosis"``), for parts that share a label.
    supersample
        ``n > 1``: the partial-volume fraction is the share of ``n x n`` in-plane sample
        points inside the shape (for parts thinner than a voxel, whose label must follow the
        share of the voxel they really fill rather than its centre).
    within
        The container this structure fills part of (a vessel lumen for a tumour inside it).
        With it, a voxel takes the label when the container fills at least half of the voxel
        and this structure at least half of the container's share (the majority of the
        vessel's content decides), sampled as ``supersample``.
    """

    key: str
    label: str | None
    sdf: FieldFn
    box: Box
    hu: HU | FieldFn
    region: str | None = None
    supersample: int = 1
    within: FieldFn | None = None


@dataclass
class Model:
    """An ordered list of structures (painted first to last) and the shared fields they use."""

    structures: list[Structure]
    fields: dict[str, FieldFn] = field(default_factory=dict)


@dataclass
class RegionMask:
    """A boolean mask stored inside its bounding box of the grid.

    ``offset`` is the ``(slice, row, col)`` index of ``mask[0, 0, 0]`` in the full grid.
    """

    offset: tuple[int, int, int]
    mask: NDArray[np.bool_]

    def full(self, shape: Sequence[int]) -> NDArray[np.bool_]:
        """The mask on the full grid of ``shape``."""
        out = np.zeros(tuple(int(s) for s in shape), dtype=bool)
        o = self.offset
        m = self.mask
        out[o[0] : o[0] + m.shape[0], o[1] : o[1] + m.shape[1], o[2] : o[2] + m.shape[2]] = m
        return out


@dataclass
class Raster:
    """What :func:`rasterise` returns: HU (``int16``), label values and recorded sub-regions."""

    ct: NDArray[np.int16]
    labels: NDArray[np.uint8]
    regions: dict[str, RegionMask]


# ----------------------------------------------------------------------------- textures


@lru_cache(maxsize=4)
def _lattice(name: str) -> tuple[tuple[NDArray[np.float64], ...], NDArray[np.float32], float]:
    """Lattice axes (x, y, z), values ``(nz, ny, nx)`` and the unit-variance scale of a field."""
    spacing, sigma = TEXTURES[name]
    axes = tuple(np.arange(lo, hi + spacing / 2, spacing, dtype=float) for lo, hi in _TEX_DOMAIN)
    rng = np.random.default_rng([TEXTURE_SEED, sorted(TEXTURES).index(name)])
    values = rng.standard_normal((len(axes[2]), len(axes[1]), len(axes[0])), dtype=np.float32)
    # variance of sum_k v_k g(x - x_k) with unit-variance v_k: product over axes of sum g^2
    t = np.linspace(0.0, spacing, 16, endpoint=False)
    k = np.arange(-40, 41) * spacing
    per_axis = float(np.mean(np.exp(-((t[:, None] - k[None, :]) ** 2) / sigma**2).sum(axis=1)))
    return axes, values, per_axis ** (-1.5)


def _weights(
    coords: NDArray[np.float32], lattice: NDArray[np.float64], sigma: float
) -> tuple[sparse.csr_matrix, int, int]:
    """Sparse Gaussian interpolation weights of ``coords`` on the useful part of ``lattice``."""
    lo = float(coords.min()) - 3.5 * sigma
    hi = float(coords.max()) + 3.5 * sigma
    j0 = max(0, int(np.searchsorted(lattice, lo)) - 1)
    j1 = min(len(lattice), int(np.searchsorted(lattice, hi)) + 1)
    d = coords.astype(np.float64)[:, None] - lattice[None, j0:j1]
    w = np.exp(-0.5 * (d / sigma) ** 2)
    w[np.abs(d) > 3.5 * sigma] = 0.0
    return sparse.csr_matrix(w.astype(np.float32)), j0, j1


def texture_field(
    name: str, z: NDArray[np.float32], y: NDArray[np.float32], x: NDArray[np.float32]
) -> Arr:
    """A unit-variance smooth random field on the grid ``z x y x x`` (shape ``(nz, ny, nx)``).

    The field is a sum of Gaussian blobs on a fixed lattice with fixed random weights, so it is
    the same function of LPS position in every grid. It is evaluated separably with sparse
    weight matrices (cost about proportional to the number of voxels).
    """
    (lx, ly, lz), values, scale = _lattice(name)
    sigma = TEXTURES[name][1]
    wz, z0, z1 = _weights(z, lz, sigma)
    wy, y0, y1 = _weights(y, ly, sigma)
    wx, x0, x1 = _weights(x, lx, sigma)
    c = values[z0:z1, y0:y1, x0:x1]
    lzn, lyn, lxn = c.shape
    nz, ny, nx = len(z), len(y), len(x)
    t1 = np.asarray(wz @ c.reshape(lzn, -1), dtype=F32).reshape(nz, lyn, lxn)
    t2 = np.asarray(wx @ t1.reshape(-1, lxn).T, dtype=F32)  # (nx, nz*Ly)
    t3 = t2.reshape(nx, nz, lyn).transpose(2, 1, 0).reshape(lyn, -1)  # (Ly, nz*nx)
    t4 = np.asarray(wy @ t3, dtype=F32).reshape(ny, nz, nx).transpose(1, 0, 2)
    out = np.ascontiguousarray(t4)
    out *= F32(scale)
    return out


# ----------------------------------------------------------------------------- painting


def _paint_slab(
    model: Model,
    slab: Slab,
    width: float,
    out_hu: Arr | None,
    owner: NDArray[np.uint16],
) -> None:
    """Paint every structure of ``model`` intersecting ``slab`` into ``out_hu`` and ``owner``."""
    zlo, zhi = float(slab.z[0]), float(slab.z[-1])
    margin = width
    for idx, s in enumerate(model.structures, start=1):
        b = s.box
        if b.zmax + margin < zlo or b.zmin - margin > zhi:
            continue
        blk = slab.block(b.grow(margin))
        if blk is None:
            continue
        if s.supersample > 1:
            f = _supersampled_coverage(s.sdf, blk, s.supersample)
        else:
            f = coverage(np.broadcast_to(s.sdf(blk), blk.shape), width)
        if not f.any():
            continue
        if s.within is not None:
            fw = _supersampled_coverage(s.within, blk, max(2, s.supersample))
            take = (f > 0) & (fw >= 0.5) & (f >= F32(0.5) * fw)
        else:
            take = f >= 0.5
        o = owner[blk.sl]
        o[take] = idx
        if out_hu is None:
            continue
        if isinstance(s.hu, HU):
            hu: Arr | np.float32 = F32(s.hu.base)
            if s.hu.coarse:
                hu = hu + F32(s.hu.coarse) * blk.field("tex_coarse")
            if s.hu.fine:
                hu = hu + F32(s.hu.fine) * blk.field("tex_fine")
        else:
            hu = np.asarray(s.hu(blk), dtype=F32)
        v = out_hu[blk.sl]
        v += f * (hu - v)


def _supersampled_coverage(sdf: FieldFn, blk: Block, n: int) -> Arr:
    """Share of ``n x n`` in-plane sample points of each voxel that lie inside the shape."""
    dy, dx = (float(v) for v in blk.slab.grid.spacing[1:])
    offs = (np.arange(n) + 0.5) / n - 0.5
    f = np.zeros(blk.shape, dtype=F32)
    for oy in offs:
        for ox in offs:
            f += np.broadcast_to(sdf(blk.shifted(float(ox * dx), float(oy * dy))) <= 0, blk.shape)
    f *= F32(1.0 / (n * n))
    return f


def _kernel_sumsq(sigma: float) -> float:
    """Sum of squares of scipy's normalised 1D Gaussian kernel (truncate 4)."""
    if sigma <= 0:
        return 1.0
    r = int(4.0 * sigma + 0.5)
    t = np.arange(-r, r + 1, dtype=float)
    g = np.exp(-0.5 * (t / sigma) ** 2)
    g /= g.sum()
    return float((g**2).sum())


def rasterise(
    model: Model,
    grid: PhantomGrid,
    label_values: Mapping[str, int],
    *,
    seed: int = 0,
    noise_sd: float = 12.0,
    blur_sigma_mm: tuple[float, float, float] = (0.9, 0.45, 0.45),
    background_hu: float = -1000.0,
    noise: bool = True,
    labels_only: bool = False,
) -> Raster:
    """Paint ``model`` on ``grid``; blur, add noise, round to ``int16``.

    Slabs are painted in order and each one is blurred as soon as its neighbour is painted, so
    at most three painted slabs are held in ``float32`` at a time.

    Parameters
    ----------
    model
        Structures and fields.
    grid
        Where to sample.
    label_values
        Label name -> value (every structure's label must be here).
    seed
        Noise seed (the only thing that depends on it).
    noise_sd
        Standard deviation (HU) of the noise left after the blur.
    blur_sigma_mm
        Gaussian blur ``(z, y, x)`` in mm (the scanner's point spread).
    background_hu
        HU outside every structure (air).
    noise
        Add noise (False gives the noise-free image, for checks).
    labels_only
        Compute the labels only (the CT returned is empty).
    """
    nz, ny, nx = grid.shape
    width = grid.in_plane_spacing
    lut = np.zeros(len(model.structures) + 1, dtype=np.uint8)
    for i, s in enumerate(model.structures, start=1):
        lut[i] = 0 if s.label is None else label_values[s.label]
    region_ids: dict[str, list[int]] = {}
    region_box: dict[str, Box] = {}
    for i, s in enumerate(model.structures, start=1):
        if s.region:
            region_ids.setdefault(s.region, []).append(i)
            region_box[s.region] = (
                s.box if s.region not in region_box else region_box[s.region].union(s.box)
            )
    regions = {name: _region_alloc(grid, box) for name, box in region_box.items()}

    sig = tuple(float(s) / float(d) for s, d in zip(blur_sigma_mm, grid.spacing, strict=True))
    sig = tuple(s if s >= 0.05 else 0.0 for s in sig)
    halo = int(4.0 * sig[0] + 0.5) + 1 if sig[0] > 0 else 0
    norm = float(np.sqrt(np.prod([_kernel_sumsq(s) for s in sig])))
    amp = F32(noise_sd / norm) if (noise and noise_sd > 0) else F32(0)
    step = max(grid.slab, halo, 1)
    bounds = [(k0, min(nz, k0 + step)) for k0 in range(0, nz, step)]

    ct = np.empty((0, 0, 0) if labels_only else grid.shape, dtype=np.int16)
    labels = np.zeros(grid.shape, dtype=np.uint8)
    painted: dict[int, Arr] = {}

    def finish(i: int) -> None:
        k0, k1 = bounds[i]
        a0, a1 = max(0, k0 - halo), min(nz, k1 + halo)
        parts = []
        for j in (i - 1, i, i + 1):
            if j in painted:
                b0, b1 = bounds[j]
                lo, hi = max(a0, b0), min(a1, b1)
                if lo < hi:
                    parts.append(painted[j][lo - b0 : hi - b0])
        part = np.concatenate(parts, axis=0) if len(parts) > 1 else parts[0].copy()
        if amp:
            for k in range(a0, a1):
                rng = np.random.default_rng(np.random.SeedSequence([int(seed), 7, k]))
                part[k - a0] += amp * rng.standard_normal((ny, nx), dtype=np.float32)
        if any(sig):
            part = ndimage.gaussian_filter(part, sig, mode="nearest")
        part = part[k0 - a0 : k1 - a0]
        np.rint(part, out=part)
        np.clip(part, HU_MIN, HU_MAX, out=part)
        ct[k0:k1] = part.astype(np.int16)

    for i, (k0, k1) in enumerate(bounds):
        slab = Slab(grid, k0, k1, model.fields)
        hu = None if labels_only else np.full((k1 - k0, ny, nx), background_hu, dtype=F32)
        owner = np.zeros((k1 - k0, ny, nx), dtype=np.uint16)
        _paint_slab(model, slab, width, hu, owner)
        labels[k0:k1] = lut[owner]
        for name, ids in region_ids.items():
            _region_fill(regions[name], owner, k0, ids)
        slab.close()
        del slab, owner
        if hu is None:
            continue
        painted[i] = hu
        if i >= 1:
            finish(i - 1)
            painted.pop(i - 2, None)
    if not labels_only:
        finish(len(bounds) - 1)
    painted.clear()
    return Raster(ct, labels, {k: v for k, v in regions.items() if v.mask.size})


def _region_alloc(grid: PhantomGrid, box: Box) -> RegionMask:
    zs, ys, xs = grid.axes_lps()
    i0, i1 = _range(zs, box.zmin, box.zmax)
    j0, j1 = _range(ys, box.ymin, box.ymax)
    k0, k1 = _range(xs, box.xmin, box.xmax)
    shape = (max(0, i1 - i0), max(0, j1 - j0), max(0, k1 - k0))
    return RegionMask((i0, j0, k0), np.zeros(shape, dtype=bool))


def _region_fill(reg: RegionMask, owner: NDArray[np.uint16], k0: int, ids: list[int]) -> None:
    o = reg.offset
    m = reg.mask
    lo = max(k0, o[0])
    hi = min(k0 + owner.shape[0], o[0] + m.shape[0])
    if lo >= hi or m.size == 0:
        return
    part = owner[lo - k0 : hi - k0, o[1] : o[1] + m.shape[1], o[2] : o[2] + m.shape[2]]
    m[lo - o[0] : hi - o[0]] = np.isin(part, ids)
