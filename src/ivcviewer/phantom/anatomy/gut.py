"""The gut: stomach, colon and small-bowel loops, with their content and gas in front (supine).

The small-bowel loops are laid by a seeded random walk (:func:`small_bowel_loops`) in the lower
abdomen, away from the right retroperitoneum where the case's mass lies.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..raster import HU, Block, Structure
from ..sdf import F32, Arr, Box
from .diaphragm import below_diaphragm_sd
from .shapes import Tube, bent, halfspace_y_below, intersection, offset, shared_field


def gut() -> list[Structure]:
    """Stomach, colon and small bowel, with gas in front (supine)."""
    return stomach() + colon() + small_bowel()


def stomach() -> list[Structure]:
    """The stomach: wall, fluid content, and gas in front of a horizontal level."""
    tube = Tube(
        (
            (52.0, 22.0, 152.0),
            (66.0, -4.0, 128.0),
            (60.0, -40.0, 104.0),
            (40.0, -62.0, 80.0),
            (8.0, -68.0, 60.0),
            (-18.0, -56.0, 48.0),
        ),
        (34.0, 33.0, 28.0, 22.0, 16.0, 10.0),
    )
    st = intersection(bent(tube.sd, 3.0), below_diaphragm_sd, shared_field("cavity_sd"))
    lumen = offset(st, 4.0)
    sbox = tube.box(11.0)
    return [
        Structure("stomach_wall", "stomach", st, sbox, HU(80.0, fine=5)),
        Structure("stomach_content", "stomach", lumen, sbox, HU(18.0, coarse=5, fine=4)),
        Structure(
            "stomach_gas",
            "bowel_gas",
            intersection(lumen, halfspace_y_below(-52.0)),
            sbox,
            HU(-1000.0),
        ),
    ]


def colon() -> list[Structure]:
    """The colon: wall, faecal content, and gas pockets in front of horizontal levels."""
    out: list[Structure] = []
    tube = Tube(
        (
            (-98.0, -40.0, -150.0),
            (-110.0, -52.0, -110.0),
            (-114.0, -58.0, -45.0),
            (-110.0, -62.0, 10.0),
            (-88.0, -72.0, 38.0),
            (-42.0, -90.0, 26.0),
            (0.0, -96.0, 12.0),
            (42.0, -90.0, 22.0),
            (82.0, -68.0, 48.0),
            (108.0, -32.0, 70.0),
            (118.0, 2.0, 48.0),
            (118.0, 10.0, 0.0),
            (114.0, 8.0, -60.0),
            (106.0, -4.0, -112.0),
            (80.0, -26.0, -150.0),
            (45.0, -42.0, -180.0),
            (10.0, -40.0, -215.0),
        ),
        (
            27.0,
            25.0,
            23.0,
            23.0,
            22.0,
            21.0,
            21.0,
            21.0,
            21.0,
            20.0,
            19.0,
            18.0,
            17.0,
            17.0,
            17.0,
            16.0,
            16.0,
        ),
    )
    cl = intersection(bent(tube.sd, 2.5), shared_field("cavity_sd"))
    clum = offset(cl, 2.5)
    cbox = tube.box(10.0)
    out += [
        Structure("colon_wall", "colon", cl, cbox, HU(70.0, fine=5)),
        Structure("colon_content", "colon", clum, cbox, faeces_hu),
    ]
    # gas pockets: anterior part of the lumen below horizontal air-fluid levels
    for k, (box, level) in enumerate(
        (
            (Box(-140, -80, -100, -20, -130, 20), -66.0),
            (Box(-110, 100, -125, -50, 0, 60), -100.0),
            (Box(70, 140, -70, 30, 30, 90), -40.0),
            (Box(90, 140, -20, 40, -100, 30), -3.0),
        )
    ):
        out.append(
            Structure(
                f"colon_gas_{k}",
                "bowel_gas",
                intersection(clum, halfspace_y_below(level)),
                box,
                HU(-1000.0),
            )
        )
    return out


def small_bowel() -> list[Structure]:
    """The small-bowel loops (:func:`small_bowel_loops`): each its wall and its content
    (positive oral contrast, unopacified fluid, or collapsed folds)."""
    out: list[Structure] = []
    for k, (kind, loop) in enumerate(small_bowel_loops()):
        t = Tube(tuple(map(tuple, loop[:, :3])), tuple(loop[:, 3]), samples=5)
        sb = intersection(t.sd, shared_field("cavity_sd"))
        box = t.box()
        if kind == "collapsed":  # no content: thick mucosal folds, soft tissue
            parts = [
                Structure(f"small_bowel_{k}_wall", "small_bowel", sb, box, HU(92.0, fine=6)),
                Structure(
                    f"small_bowel_{k}_folds",
                    "small_bowel",
                    offset(sb, 2.0),
                    box,
                    HU(62.0, coarse=8, fine=14),
                ),
            ]
        elif kind == "fluid":  # unopacified fluid with an enhancing wall
            parts = [
                Structure(f"small_bowel_{k}_wall", "small_bowel", sb, box, HU(105.0, fine=6)),
                Structure(
                    f"small_bowel_{k}_lumen",
                    "small_bowel",
                    offset(sb, 2.5),
                    box,
                    HU(16.0, coarse=4, fine=4),
                ),
            ]
        else:  # positive oral contrast, of varying density, with a feathery fold pattern
            dense = 150.0 + 70.0 * ((k * 0.618) % 1.0)
            parts = [
                Structure(f"small_bowel_{k}_wall", "small_bowel", sb, box, HU(95.0, fine=5)),
                Structure(
                    f"small_bowel_{k}_lumen",
                    "small_bowel",
                    offset(sb, 2.5),
                    box,
                    HU(dense, coarse=22, fine=16),
                ),
            ]
        out += parts
    return out


def faeces_hu(b: Block) -> Arr:
    """Mottled faeces: soft tissue with small gas bubbles."""
    t = b.field("tex_fine")
    bubbles = np.maximum(t - F32(1.4), F32(0)) * F32(-900.0)
    return np.asarray(
        F32(-5.0)
        + F32(25.0) * b.field("tex_coarse")
        + F32(12.0) * t
        + np.maximum(bubbles, F32(-1000.0)),
        F32,
    )


#: Content of the small-bowel loops, in turn: positive oral contrast in most, some with
#: unopacified fluid, some collapsed.
SMALL_BOWEL_KINDS: tuple[str, ...] = (
    "contrast",
    "fluid",
    "contrast",
    "collapsed",
    "contrast",
    "contrast",
    "fluid",
    "contrast",
    "collapsed",
    "contrast",
    "fluid",
)

#: Radius (mm) of a small-bowel loop of each kind.
SMALL_BOWEL_RADIUS: dict[str, float] = {"contrast": 11.5, "fluid": 12.5, "collapsed": 7.5}


def small_bowel_loops() -> list[tuple[str, NDArray[np.float64]]]:
    """Deterministic small-bowel loops: (kind, ``(n, 4)`` x, y, z, radius in mm), in the lower
    abdomen away from the right retroperitoneum (where the case's mass lies).

    Each loop is a random walk that keeps a few mm of mesenteric fat between itself and the
    loops already laid (and between its own non-adjacent turns).
    """
    rng = np.random.default_rng(1234)
    loops: list[tuple[str, NDArray[np.float64]]] = []
    starts = (
        (40.0, -70.0, -20.0),
        (70.0, -40.0, -60.0),
        (10.0, -75.0, -70.0),
        (-30.0, -75.0, -110.0),
        (50.0, -60.0, -120.0),
        (-10.0, -60.0, -150.0),
        (85.0, -45.0, -10.0),
        (50.0, -60.0, 25.0),
        (80.0, -45.0, 15.0),
        (30.0, -82.0, 5.0),
        (-45.0, -85.0, -60.0),
    )
    placed = np.zeros((0, 4))

    def free(q: NDArray[np.float64], r: float) -> bool:
        if not _bowel_ok(q):
            return False
        if not len(placed):
            return True
        gap = np.linalg.norm(placed[:, :3] - q, axis=1) - placed[:, 3] - r
        return bool(gap.min() >= 4.0)

    for n, start in enumerate(starts):
        kind = SMALL_BOWEL_KINDS[n % len(SMALL_BOWEL_KINDS)]
        r = SMALL_BOWEL_RADIUS[kind]
        p = np.array(start)
        for _try in range(200):
            if free(p, r):
                break
            p = np.array(start) + rng.uniform(-45.0, 45.0, size=3)
        d = rng.normal(size=3)
        d /= np.linalg.norm(d)
        pts = [p.copy()]
        for _ in range(22):
            for _try in range(40):
                nd = d + 0.9 * rng.normal(size=3)
                nd /= np.linalg.norm(nd)
                q = p + 12.0 * nd
                if not free(q, r):
                    continue
                own = np.asarray(pts[:-3]) if len(pts) > 3 else np.zeros((0, 3))
                if len(own) and (np.linalg.norm(own - q, axis=1) - 2 * r).min() < 3.0:
                    continue
                d, p = nd, q
                break
            if not np.array_equal(p, pts[-1]):
                pts.append(p.copy())
        arr = np.asarray(pts)
        if len(arr) < 3:
            continue
        loop = np.hstack([arr, np.full((len(arr), 1), r)])
        loops.append((kind, loop))
        placed = np.vstack([placed, loop])
    return loops


def _bowel_ok(q: NDArray[np.float64]) -> bool:
    """Where a small-bowel loop may run: the anterior abdomen and pelvis, not in the right
    retroperitoneum, not in the spine or great vessels."""
    x, y, z = q
    z_max = 40.0 if x > 18.0 else 0.0
    if not (-165.0 < z < z_max and -100.0 < y < -12.0 and -75.0 < x < 98.0):
        return False
    # keep out of the case's mass (right retroperitoneum) and the vessels in front of the spine
    if ((x + 70.0) / 66.0) ** 2 + (y / 58.0) ** 2 + (z / 80.0) ** 2 < 1.0:
        return False
    if abs(x) < 35.0 and y > -40.0:
        return False
    return ((x / 120.0) ** 2 + ((y + 30.0) / 80.0) ** 2) < 1.0
