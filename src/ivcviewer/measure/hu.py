"""Statistics of the CT values (HU) inside a region."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import MeasurementError

#: Percentiles reported by :class:`HUStatistics`.
HU_PERCENTILES: tuple[int, ...] = (5, 25, 75, 95)


@dataclass(frozen=True)
class HUStatistics:
    """Statistics of the CT values inside a region.

    ``std`` is the population standard deviation (``ddof=0``); the median and percentiles use
    linear interpolation between order statistics (numpy's default).
    """

    n_voxels: int
    mean: float
    std: float
    min: float
    max: float
    median: float
    percentiles: dict[int, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``n_voxels, mean, std, min, max, median, p5, p25, p75, p95``."""
        out: dict[str, Any] = {
            "n_voxels": self.n_voxels,
            "mean": self.mean,
            "std": self.std,
            "min": self.min,
            "max": self.max,
            "median": self.median,
        }
        out.update({f"p{q}": v for q, v in self.percentiles.items()})
        return out


def _integer_stats(v: NDArray[np.integer[Any]]) -> HUStatistics:
    """Exact statistics of integer values from their histogram (no sort): O(n)."""
    vmin = int(v.min())
    counts = np.bincount((v.astype(np.int64) - vmin).ravel())
    x = np.arange(vmin, vmin + len(counts), dtype=float)
    n = int(v.size)
    mean = float(counts @ x) / n
    std = math.sqrt(float(counts @ (x - mean) ** 2) / n)
    cum = np.cumsum(counts)

    def order_stat(k: NDArray[np.int64]) -> NDArray[np.float64]:
        return np.asarray(x[np.searchsorted(cum, k, side="right")], dtype=float)

    qs = np.array([50, *HU_PERCENTILES], dtype=float)
    pos = qs / 100.0 * (n - 1)
    lo = np.floor(pos).astype(np.int64)
    frac = pos - lo
    a = order_stat(lo)
    b = order_stat(np.minimum(lo + 1, n - 1))
    vals = a + (b - a) * frac
    return HUStatistics(
        n_voxels=n,
        mean=mean,
        std=std,
        min=float(vmin),
        max=float(x[len(counts) - 1]),
        median=float(vals[0]),
        percentiles={q: float(p) for q, p in zip(HU_PERCENTILES, vals[1:], strict=True)},
    )


def hu_statistics(values: ArrayLike) -> HUStatistics:
    """Statistics of CT values (HU), usually ``ct.array[mask]``.

    Integer values (CT is ``int16``) are counted in a histogram, which gives the same exact
    figures as sorting, in linear time.

    >>> s = hu_statistics([-10, 0, 10, 20, 30])
    >>> s.mean, s.median, s.min, s.max, s.percentiles[25]
    (10.0, 10.0, -10.0, 30.0, 0.0)
    >>> hu_statistics(np.array([-10, 0, 10, 20, 30], np.int16)) == s
    True
    """
    arr = np.asarray(values)
    if arr.size == 0:
        raise MeasurementError("HU statistics need at least one value; the region is empty.")
    if arr.dtype.kind in "iu" and int(arr.max()) - int(arr.min()) < 1 << 20:
        return _integer_stats(arr)
    v = arr.astype(float).ravel()
    if not np.all(np.isfinite(v)):
        raise MeasurementError(
            "HU values must be finite; the CT holds NaN or infinite values in the region. Fix: "
            "check the CT's scaling and export it again with finite values."
        )
    qs = np.percentile(v, [50, *HU_PERCENTILES])
    return HUStatistics(
        n_voxels=int(v.size),
        mean=float(v.mean()),
        std=float(v.std()),
        min=float(v.min()),
        max=float(v.max()),
        median=float(qs[0]),
        percentiles={q: float(x) for q, x in zip(HU_PERCENTILES, qs[1:], strict=True)},
    )


__all__ = ["HU_PERCENTILES", "HUStatistics", "hu_statistics"]
