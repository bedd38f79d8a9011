"""Build the phantom: the model, its rasterisation on a grid, and the truth (labels, landmarks).

The model is the ordered list of structures of :mod:`.anatomy` with the findings of
:mod:`.findings` inserted where they belong in the painting order (the mass after the muscles,
viscera and kidneys and before bone; the vessels painted after it are cut at its surface, except
the IVC; the intravascular tumour after the IVC).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import __version__
from ..annotations.anatomy import Landmarks, Provenance
from ..errors import GeometryError
from ..volume import Volume, VolumeMetadata
from .anatomy import Z_CAVOATRIAL, Z_HEPATIC, Z_RENAL, Anatomy, smooth_profile
from .findings import OPEN_FRACTION_OF_SEMI_AXIS, OPEN_MAX_MM, Findings
from .grid import SIZES, PhantomGrid
from .labels import LabelInfo, label_table
from .raster import Model, RegionMask, rasterise
from .sdf import F32

#: Version of the phantom model. Bump it whenever the generated images change: it keys the
#: cache and is written into the manifest and the DICOM series.
PHANTOM_VERSION = "3"

#: Standard deviation of the image noise (HU).
NOISE_SD_HU = 12.0

#: Gaussian blur (z, y, x) in mm: the scanner's point spread.
BLUR_SIGMA_MM = (0.9, 0.45, 0.45)


@dataclass
class Phantom:
    """A generated phantom and its ground truth.

    Attributes
    ----------
    ct
        HU, ``int16``, ``(slice, row, col)`` with its LPS affine.
    labels
        Label values (``uint8``) on the same grid; names and colours in ``label_table``.
    label_table
        Value -> :class:`~ivcviewer.phantom.labels.LabelInfo` (name, colour, HU range).
    landmarks
        Truth landmarks in LPS mm (an :class:`ivcviewer.annotations.anatomy.Landmarks`).
    regions
        Sub-regions that share a label (``mass_rim``, ``mass_solid``, ``mass_necrosis``,
        ``vertebral_cortex``, ``vertebral_cancellous``, ``posterior_elements``), cropped.
    params
        ``size``, ``seed``, ``normal``, ``version``.
    truth
        The findings' analytic geometry (mass centre and semi-axes, tumour z range).
    """

    ct: Volume
    labels: Volume
    label_table: dict[int, LabelInfo]
    landmarks: Landmarks
    regions: dict[str, RegionMask]
    params: dict[str, Any]
    truth: dict[str, Any] = field(default_factory=dict)

    def label_value(self, name: str) -> int:
        """The value of the label called ``name``.

        Raises
        ------
        KeyError
            Naming the labels there are.
        """
        for v, e in self.label_table.items():
            if e.name == name:
                return v
        names = sorted(e.name for e in self.label_table.values())
        raise KeyError(f"The phantom has no label {name!r}; labels: {names}.")

    def mask(self, name: str) -> NDArray[np.bool_]:
        """Boolean mask of a label (by name) or of a recorded sub-region."""
        if name in self.regions:
            return self.regions[name].full(self.ct.shape)
        return np.asarray(self.labels.array == self.label_value(name))

    def label_names(self) -> dict[int, str]:
        """Value -> name."""
        return {v: e.name for v, e in self.label_table.items()}


def phantom_model(normal: bool = False) -> tuple[Model, Anatomy, Findings | None]:
    """The ordered structures of the phantom (with or without the case's findings)."""
    anat = Anatomy(case=not normal)
    g = anat.structures()
    find = None if normal else Findings(anat)
    viscera, vessels = g["viscera"], g["vessels"]
    if find is not None:
        viscera = find.displace(viscera, keys=("liver",))
        vessels = find.encase(vessels, keep=("inferior_vena_cava",))
    order = g["wall"] + g["thorax"] + viscera + g["retroperitoneum"]
    if find is not None:
        order += find.mass_structures()
    order += g["spine"] + vessels
    if find is not None:
        order += find.vessel_structures()
    return Model(order, anat.fields()), anat, find


def _check_args(size: str, seed: int) -> None:
    if size not in SIZES:
        raise GeometryError(f"Argument 'size' must be one of {list(SIZES)}, got {size!r}.")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise GeometryError(f"Argument 'seed' must be a non-negative integer, got {seed!r}.")


def build_phantom(
    size: str = "small",
    seed: int = 0,
    normal: bool = False,
    *,
    grid: PhantomGrid | None = None,
    noise: bool = True,
) -> Phantom:
    """Generate the abdominal CT phantom and its truth.

    Parameters
    ----------
    size
        ``"small"`` (72 x 96 x 96 voxels of 5 x 4 x 4 mm, for tests) or ``"standard"``
        (143 x 512 x 512 voxels of 2.5 x 0.75 x 0.75 mm, for the demo).
    seed
        Seed of the image noise. Anatomy, texture and labels do not depend on it.
    normal
        Leave out the case's findings (a normal baseline).
    grid
        Sample on this grid instead of the preset (for example a high-resolution patch);
        ``size`` is then only recorded.
    noise
        Add noise (False gives the noise-free image).

    Returns
    -------
    Phantom

    Raises
    ------
    GeometryError
        For an unknown size or a negative seed.
    """
    _check_args(size, int(seed) if isinstance(seed, (int, np.integer)) else seed)
    g = grid if grid is not None else PhantomGrid.preset(size)
    model, anat, find = phantom_model(normal)
    table = label_table(normal)
    values = {e.name: v for v, e in table.items()}
    r = rasterise(
        model,
        g,
        values,
        seed=int(seed),
        noise_sd=NOISE_SD_HU,
        blur_sigma_mm=BLUR_SIGMA_MM,
        noise=noise,
    )
    params = {
        "size": size,
        "seed": int(seed),
        "normal": bool(normal),
        "version": PHANTOM_VERSION,
        "ivcviewer_version": __version__,
    }
    desc = "Synthetic abdominal CT phantom (ivcviewer)" + (
        ", normal baseline" if normal else ", retroperitoneal leiomyosarcoma invading the IVC"
    )
    meta = VolumeMetadata(
        modality="CT",
        description=desc,
        patient_id=f"IVCVIEWER-PHANTOM-{int(seed)}",
        window=(40.0, 400.0),
        source="phantom",
        rescale_applied=True,
        extra={"phantom": dict(params)},
    )
    ct = Volume(r.ct, g.affine, meta)
    labels = Volume(
        r.labels,
        g.affine,
        VolumeMetadata(modality="SEG", description=desc + " - truth labels", source="phantom"),
    )
    landmarks = truth_landmarks(normal, params)
    truth: dict[str, Any] = {}
    if find is not None:
        truth = {
            "mass": {
                "centre_lps": list(find.centre),
                "placement": _placement_truth(find),
                "semi_axes_mm": {"lr": find.semi[0], "ap": find.semi[1], "cc": find.semi[2]},
                "extents_mm": {
                    "lr": 2 * find.semi[0],
                    "ap": 2 * find.semi[1],
                    "cc": 2 * find.semi[2],
                },
            },
            "intravascular_tumour": {
                "z_bottom_mm": find.z_bottom,
                "z_top_mm": find.z_top,
                "open_lumen_fraction": _open_fraction(find),
            },
        }
    return Phantom(ct, labels, table, landmarks, r.regions, params, truth)


def _placement_truth(find: Findings) -> dict[str, Any]:
    """The case file's placement rule as the phantom applied it (JSON-ready)."""
    sp = find.placement
    return {
        "rule": sp.placement.rule,
        "side": sp.placement.side,
        "through": [
            {
                "landmark": t.landmark,
                "depth_mm": t.depth_mm,
                "point_lps": [round(float(v), 3) for v in sp.points_lps[t.landmark]],
            }
            for t in sp.placement.through
        ],
        "through_all": sp.through_all,
        "source": "case file relations.placement, applied by "
        "ivcviewer.annotations.fit.mass_centre_from_relations to the phantom's own anatomy",
    }


def _open_fraction(find: Findings) -> float:
    """Largest area fraction of the IVC section left open by the tumour (the crescent) below
    its head."""
    z = np.arange(find.z_bottom, find.z_top - 10.0, 1.0, dtype=np.float32).reshape(-1, 1, 1)
    b = find.anatomy.ivc.params(z)[3].ravel().astype(float)
    h = np.minimum(OPEN_FRACTION_OF_SEMI_AXIS * b, OPEN_MAX_MM) / b
    # segment of a circle of height h (relative): scales to the ellipse
    th = np.arccos(1.0 - h)
    return float(np.max((th - np.sin(th) * np.cos(th)) / np.pi))


# ----------------------------------------------------------------------------- landmarks


def truth_landmarks(normal: bool, params: dict[str, Any]) -> Landmarks:
    """The truth landmarks (LPS mm) of the phantom's anatomy."""
    anat = Anatomy(case=not normal)
    z = np.arange(anat.p.ivc_rows[0][0], Z_CAVOATRIAL + 1e-6, 2.5, dtype=np.float32)
    cx, cy, a, b = anat.ivc.params(z.reshape(-1, 1, 1))
    centre = np.stack([cx.ravel(), cy.ravel(), z], axis=1).astype(float)
    radius = np.sqrt(a.ravel() * b.ravel()).astype(float)

    def on_ivc(zz: float) -> list[float]:
        p = anat.ivc.params(np.array([[[zz]]], np.float32))
        return [float(p[0].ravel()[0]), float(p[1].ravel()[0]), float(zz)]

    rows = np.asarray(Anatomy.psoas_rows(-1.0))
    zz = np.array([[[Z_RENAL]]], dtype=F32)
    psoas = [
        float(smooth_profile(zz, rows[:, 0], rows[:, 1]).ravel()[0]),
        float(smooth_profile(zz, rows[:, 0], rows[:, 2]).ravel()[0]),
        Z_RENAL,
    ]
    ih_lower, liver_low = _liver_truth(normal)
    points = {
        "renal_vein_confluence": on_ivc(Z_RENAL),
        "intrahepatic_ivc_lower": on_ivc(ih_lower),
        "hepatic_vein_confluence": on_ivc(Z_HEPATIC),
        "cavo_atrial_junction": on_ivc(Z_CAVOATRIAL),
        "right_psoas_at_mass": psoas,
        "liver_lower_edge": list(liver_low),
    }
    methods = {
        "renal_vein_confluence": "model: IVC centreline where the renal veins join (L1-L2 disc)",
        "intrahepatic_ivc_lower": "model sampled at 1 mm: lowest level of the longest run where "
        "liver fills at least half of a 5 mm ring round the IVC",
        "hepatic_vein_confluence": "model: IVC centreline where the hepatic veins join",
        "cavo_atrial_junction": "model: upper end of the IVC (entry into the right atrium)",
        "right_psoas_at_mass": "model: centre of the right psoas section at the mass's centre "
        "level (the renal-vein level)",
        "liver_lower_edge": "model sampled at 1 mm: centroid of the lowest liver section on the "
        "patient's right",
        "ivc_centreline": "model: IVC centre every 2.5 mm, radius sqrt(a*b) of its section",
    }
    prov = Provenance(
        "phantom",
        f"ivcviewer phantom v{params['version']} ({'normal' if normal else 'case'}, "
        f"size {params['size']}, seed {params['seed']})",
        methods,
    )
    return Landmarks(
        {k: np.asarray(v, dtype=float) for k, v in points.items()}, centre, radius, prov
    )


@lru_cache(maxsize=2)
def _liver_truth(normal: bool) -> tuple[float, tuple[float, float, float]]:
    """Intrahepatic IVC lower end (z) and the liver's lower edge, from the model at 1 mm.

    The model is sampled without noise on a fine grid around the IVC and the right liver
    lobe, and the rules the landmark derivation uses on label maps are applied to it.
    """
    model, anat, _ = phantom_model(normal)
    table = label_table(normal)
    values = {e.name: v for v, e in table.items()}
    liver_v, ivc_v = values["liver"], values["inferior_vena_cava"]
    tum_v = values.get("intravascular_tumour", -1)
    # 1) ring of liver around the IVC
    g = PhantomGrid.around((-24.0, -12.0, 90.0), (91, 64, 64), (2.0, 1.0, 1.0))
    r = rasterise(model, g, values, labels_only=True)
    from scipy import ndimage

    zs, _, _ = g.axes_lps()
    ring_ok = np.zeros(len(zs), dtype=bool)
    disk = _disk(5)
    for k in range(len(zs)):
        ivc = (r.labels[k] == ivc_v) | (r.labels[k] == tum_v)
        if not ivc.any():
            continue
        lab, n = ndimage.label(ivc)
        if n > 1:
            sizes = ndimage.sum(ivc, lab, range(1, n + 1))
            ivc = lab == (int(np.argmax(sizes)) + 1)
        ring = ndimage.binary_dilation(ivc, disk) & ~ivc
        ring_ok[k] = (r.labels[k][ring] == liver_v).mean() >= 0.5
    runs = _runs(ring_ok)
    lo, hi = max(runs, key=lambda t: t[1] - t[0]) if runs else (0, 0)
    ih_lower = float(zs[lo])
    # 2) lowest liver section on the right of the IVC
    g2 = PhantomGrid.around((-95.0, -30.0, 15.0), (61, 80, 68), (1.0, 2.5, 2.5))
    r2 = rasterise(model, g2, values, labels_only=True)
    z2, y2, x2 = g2.axes_lps()
    liver = r2.labels == liver_v
    ks = np.nonzero(liver.any(axis=(1, 2)))[0]
    k0 = int(ks[0]) if len(ks) else 0
    jj, ii = np.nonzero(liver[k0])
    low = (
        (float(x2[ii].mean()), float(y2[jj].mean()), float(z2[k0])) if len(ii) else (0.0, 0.0, 0.0)
    )
    del anat
    return ih_lower, low


def _disk(radius: int) -> NDArray[np.bool_]:
    t = np.arange(-radius, radius + 1)
    return np.asarray((t[:, None] ** 2 + t[None, :] ** 2) <= radius * radius)


def _runs(flags: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """``(start, stop)`` of runs of True, one-slice gaps closed."""
    f = flags.copy()
    for k in range(1, len(f) - 1):
        if not f[k] and f[k - 1] and f[k + 1]:
            f[k] = True
    out = []
    start = None
    for k, v in enumerate(f):
        if v and start is None:
            start = k
        elif not v and start is not None:
            out.append((start, k - 1))
            start = None
    if start is not None:
        out.append((start, len(f) - 1))
    return out
