"""Render the figures of docs/case-file.md: one per placement rule, and the teaching cases.

    .venv/bin/python scripts/render_case_figures.py [--out docs/images] [--on phantom ct]
        [--size standard] [--only NAME ...]

Qt-free: matplotlib with its Agg backend, no display needed. Each figure is a case fitted
exactly as ``ivcviewer overlay`` fits it (:func:`ivcviewer.workflows.figures.fit_case`), drawn
as one or more slices through the fitted region: the CT in a soft-tissue window (400/40), the
reference structures outlined, the region filled in its colour, the points the placement used
marked. The rule figures come from small case files written to a temporary folder
(:data:`RULE_CASES`); the teaching figures from the case files of ``annotations/``.

Anatomies (``--on``): ``phantom`` is the normal phantom of ``--size`` (no findings of its
own) with its truth label map; ``ct`` is the example CT shipped in ``sample_data/`` with its
TotalSegmentator label map. The output is deterministic; every file is written atomically and
then reduced to a palette (``render_figures.optimise_png``).

Figures (``<name>-<anatomy>.png``)
----------------------------------
``case-rule-centred_in``, ``case-rule-arises_from``, ``case-rule-at_level``,
``case-rule-lumen``, ``case-rule-outline_through``, ``case-rule-shapes``
    One placement rule each (``case-rule-shapes``: an ellipsoid and a rounded box).
``case-teaching-renal``, ``case-teaching-adrenal``
    ``annotations/teaching_right_renal_mass_ivc_thrombus.yaml`` and
    ``annotations/teaching_left_adrenal_mass.yaml``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "docs" / "images"
ANNOTATIONS = REPO / "annotations"

#: Soft-tissue window (level 40 HU, width 400 HU).
WINDOW = (-160.0, 240.0)
#: Pixel size of the resampled slices (mm).
STEP_MM = 0.75
#: Smallest half width of a panel (mm) and the margin around the region.
MIN_HALF_MM = 70.0
MARGIN_MM = 45.0
#: A marked point is drawn on a slice when it lies this close to the slice's plane (mm).
PLANE_TOL_MM = 12.0
#: Opacity of a region's fill (its outline is drawn opaque in the same colour).
FILL_ALPHA = 0.45
#: Colours of the outlined reference structures, in the order a figure lists them.
OUTLINE_COLOURS = ("#FFD54F", "#4DD0E1", "#F48FB1", "#AED581")
MARK_COLOUR = "#FFFFFF"
ANATOMIES = ("phantom", "ct")


@dataclass(frozen=True)
class Panel:
    """One slice of a figure: ``view`` (``axial`` or ``coronal``) through the centroid of the
    region of ``finding`` (with ``and_finding``: midway between the two regions' centroids)."""

    view: str
    finding: str
    and_finding: str = ""

    @property
    def findings(self) -> tuple[str, ...]:
        """The findings the slice goes through."""
        return (self.finding, self.and_finding) if self.and_finding else (self.finding,)


@dataclass(frozen=True)
class FigureSpec:
    """A figure: its case (YAML text, or a file), its panels, what is outlined and marked.

    ``marks`` are reference names (resolved on the fitted anatomy) or the keys of the
    placement parameters that hold a point (``anchor_lps``, ``base_point_lps``,
    ``vessel_point_lps``); ``ends`` marks the two ends of the tube findings.
    """

    name: str
    title: str
    panels: tuple[Panel, ...]
    outlines: tuple[str, ...]
    case_text: str = ""
    case_file: Path | None = None
    marks: tuple[str, ...] = ()
    ends: bool = False


_HEAD = """schema_version: 1
case:
  id: {id}
  title: {title}
  teaching_example: true
  source_note: A figure of docs/case-file.md.
findings:
"""


def _case(case_id: str, title: str, findings: str) -> str:
    """A minimal case file around ``findings`` (YAML of the findings list, indented 2)."""
    return _HEAD.format(id=case_id, title=title) + findings


RULE_CASES: tuple[FigureSpec, ...] = (
    FigureSpec(
        "case-rule-centred_in",
        "centred_in: liver, position lr -0.2",
        (Panel("axial", "lesion"), Panel("coronal", "lesion")),
        ("liver",),
        _case(
            "rule_centred_in",
            "centred_in",
            """  - id: lesion
    name: Liver lesion
    kind: lesion
    colour: "#E6553A"
    description: A 4 cm lesion in the right lobe of the liver.
    measurements: [{id: size, values: [4.0, 4.0, 4.0], unit: cm}]
    relations:
      placement: {rule: centred_in, structure: liver, position: {lr: -0.2}}
      rules: [{rule: mostly_within, structure: liver}]
""",
        ),
        marks=("base_point_lps",),
    ),
    FigureSpec(
        "case-rule-arises_from",
        "arises_from: kidney_left, towards lateral",
        (Panel("axial", "mass"), Panel("coronal", "mass")),
        ("kidney_left",),
        _case(
            "rule_arises_from",
            "arises_from",
            """  - id: mass
    name: Exophytic renal mass
    kind: mass
    colour: "#E6553A"
    description: A 3.5 cm mass growing out of the lateral border of the left kidney.
    measurements: [{id: size, values: [3.5, 3.0, 3.0], unit: cm}]
    relations:
      placement: {rule: arises_from, structure: kidney_left, towards: lateral}
      rules: [{rule: touches, structure: kidney_left}]
""",
        ),
        marks=("anchor_lps",),
    ),
    FigureSpec(
        "case-rule-at_level",
        "at_level: level_L2, left of the aorta, gap 3 mm",
        (Panel("axial", "node"), Panel("coronal", "node")),
        ("aorta", "vertebrae_L2"),
        _case(
            "rule_at_level",
            "at_level",
            """  - id: node
    name: Para-aortic lymph node
    kind: lymph_node
    colour: "#E6553A"
    description: A 2.5 cm node beside the aorta at the level of L2.
    measurements:
      - {id: size, values: [2.5, 1.8, 1.5], unit: cm, axes: [cc, lr, ap], assumed: false}
    relations:
      placement: {rule: at_level, level: level_L2, vessel: aorta, towards: left, gap_mm: 3}
      rules: [{rule: avoids, structure: aorta}]
""",
        ),
        marks=("level_L2", "vessel_point_lps"),
    ),
    FigureSpec(
        "case-rule-lumen",
        "lumen: IVC from level_L3 to renal_vein_confluence - 10 mm",
        (Panel("coronal", "thrombus"), Panel("axial", "thrombus")),
        ("inferior_vena_cava", "vertebrae_L3"),
        _case(
            "rule_lumen",
            "lumen",
            """  - id: thrombus
    name: Thrombus in the IVC
    kind: thrombus
    colour: "#3A9BE6"
    description: Bland thrombus partly filling the infrarenal IVC.
    relations:
      vessel: inferior_vena_cava
      from_landmark: level_L3
      to_landmark: renal_vein_confluence
      to_offset_mm: -10
      occlusion: partial
      rules: [{rule: within_vessel, structure: inferior_vena_cava}]
    landmarks: [renal_vein_confluence, ivc_centreline]
""",
        ),
        ends=True,
    ),
    FigureSpec(
        "case-rule-outline_through",
        "outline_through: IVC centreline and right psoas, side right",
        (Panel("axial", "mass"), Panel("coronal", "mass")),
        ("inferior_vena_cava", "iliopsoas_right"),
        _case(
            "rule_outline_through",
            "outline_through",
            """  - id: mass
    name: Retroperitoneal mass
    kind: mass
    colour: "#E6553A"
    description: A mass between the right psoas and the IVC, reaching into the vein.
    measurements:
      - {id: size, values: [6.0, 5.0, 7.0], unit: cm, axes: [lr, ap, cc], assumed: false}
    relations:
      origin_structure: iliopsoas_right
      vessel: inferior_vena_cava
      centre_level: renal_vein_confluence
      placement:
        rule: outline_through
        through: [{landmark: ivc_centreline}, {landmark: right_psoas_at_mass}]
        side: right
    landmarks: [renal_vein_confluence, right_psoas_at_mass, ivc_centreline]
""",
        ),
        marks=("renal_vein_confluence", "right_psoas_at_mass"),
    ),
    FigureSpec(
        "case-rule-shapes",
        "shape: ellipsoid (left of the aorta) and rounded_box (right of the IVC)",
        (
            Panel("axial", "ellipsoid", "rounded_box"),
            Panel("coronal", "ellipsoid", "rounded_box"),
        ),
        ("aorta", "inferior_vena_cava"),
        _case(
            "rule_shapes",
            "shapes",
            """  - id: ellipsoid
    name: Node drawn as an ellipsoid
    kind: lymph_node
    colour: "#E6553A"
    description: A 3 cm node left of the aorta.
    measurements: [{id: size, values: [3.0, 3.0, 3.0], unit: cm}]
    relations:
      placement: {rule: at_level, level: level_L3, vessel: aorta, towards: left, gap_mm: 3}
  - id: rounded_box
    name: Node drawn as a rounded box
    kind: lymph_node
    colour: "#9B59B6"
    description: A 3 cm node right of the IVC.
    measurements: [{id: size, values: [3.0, 3.0, 3.0], unit: cm}]
    relations:
      shape: rounded_box
      placement: {rule: at_level, level: level_L3, vessel: inferior_vena_cava, towards: right,
                  gap_mm: 3}
    landmarks: [ivc_centreline]
""",
        ),
    ),
)

TEACHING_CASES: tuple[FigureSpec, ...] = (
    FigureSpec(
        "case-teaching-renal",
        "Teaching case: right renal mass with IVC tumour thrombus (Mayo II)",
        (
            Panel("axial", "renal_mass"),
            Panel("coronal", "renal_mass"),
            Panel("coronal", "ivc_tumour_thrombus"),
        ),
        ("kidney_right", "inferior_vena_cava", "liver"),
        case_file=ANNOTATIONS / "teaching_right_renal_mass_ivc_thrombus.yaml",
        marks=("renal_vein_confluence", "hepatic_vein_confluence"),
        ends=True,
    ),
    FigureSpec(
        "case-teaching-adrenal",
        "Teaching case: left adrenal mass (arises from the left kidney's upper pole)",
        (Panel("axial", "adrenal_mass"), Panel("coronal", "adrenal_mass")),
        ("kidney_left", "spleen", "aorta", "adrenal_gland_left"),
        case_file=ANNOTATIONS / "teaching_left_adrenal_mass.yaml",
        marks=("anchor_lps",),
    ),
)

ALL_FIGURES: tuple[FigureSpec, ...] = RULE_CASES + TEACHING_CASES


@dataclass
class Scene:
    """A fitted case with what it is drawn on: the CT, the anatomy label map, the fit."""

    ct: Any  # ivcviewer.volume.Volume
    anatomy: Any  # the anatomy label map (Volume) on any grid
    names: dict[int, str]
    result: Any  # ivcviewer.annotations.overlay.OverlayResult
    source: str
    points: dict[str, NDArray[np.float64]] = field(default_factory=dict)


# ----------------------------------------------------------------------------- fitting


def anatomy_inputs(anatomy: str, size: str) -> tuple[str, dict[str, str], str]:
    """The CT path, the anatomy options of :class:`RenderInputs` and a caption for one
    anatomy (``phantom`` or ``ct``)."""
    if anatomy == "phantom":
        from ivcviewer.phantom import cached_phantom
        from ivcviewer.phantom.output import CT_DIR

        folder = cached_phantom(size, normal=True)
        return str(folder / CT_DIR), {"phantom_truth": str(folder)}, f"{size} phantom"
    from ivcviewer.sample_data import real_abdominal_ct

    sample = real_abdominal_ct()
    return str(sample.ct), {"anatomy": str(sample.labels)}, "example CT"


def fit_scene(spec: FigureSpec, case_path: Path, anatomy: str, size: str) -> Scene:
    """Fit the figure's case on one anatomy, as ``ivcviewer overlay`` does."""
    from ivcviewer.io import load_labels
    from ivcviewer.workflows.figures import RenderInputs, fit_case

    ct_path, options, caption = anatomy_inputs(anatomy, size)
    ct, result = fit_case(RenderInputs(ct_path, str(case_path), **options))
    if anatomy == "phantom":
        labels, table = load_labels(Path(options["phantom_truth"]) / "labels.nii.gz")
    else:
        labels, table = load_labels(options["anatomy"])
    scene = Scene(ct, labels, dict(table.names), result, caption)
    scene.points = marked_points(spec, scene)
    return scene


def _finding(result: Any, finding_id: str) -> Any:
    for r in result.findings:
        if r.id == finding_id:
            return r
    raise KeyError(f"the fit has no finding {finding_id!r}")


def marked_points(spec: FigureSpec, scene: Scene) -> dict[str, NDArray[np.float64]]:
    """The points a figure marks, by label: references and placement points, tube ends."""
    from ivcviewer.annotations.anatomy.references import References

    refs = References(scene.result.landmarks, scene.anatomy, scene.names)
    out: dict[str, NDArray[np.float64]] = {}
    for r in scene.result.findings:
        params = r.fit.parameters
        placed = params.get("placement", {}) if isinstance(params, dict) else {}
        for key in spec.marks:
            if key.endswith("_lps"):
                if key in placed:
                    out[_point_label(key, placed)] = np.asarray(placed[key], dtype=float)
            elif refs.has(key):
                out[key] = refs.point(key)
        if spec.ends and "z_from_mm" in params:
            vessel = r.finding.relations.vessel
            for end, z in (("lower end", params["z_from_mm"]), ("upper end", params["z_to_mm"])):
                p, _ = refs.centre_at_z(vessel, float(z))
                out[end] = p
    return out


def _point_label(key: str, placed: dict[str, Any]) -> str:
    """A placement parameter point's label in the legend."""
    if key == "anchor_lps":
        return "surface point (anchor)"
    if key == "base_point_lps":
        return f"{placed.get('structure', 'structure')} centroid (base point)"
    return f"{placed.get('vessel', 'vessel')} centreline at the level"


# ----------------------------------------------------------------------------- slices


def plane_grid(
    view: str, centre: NDArray[np.float64], half_mm: float
) -> tuple[NDArray[np.float64], tuple[float, float, float, float]]:
    """LPS points of a square plane through ``centre`` (rows top to bottom) and its extent
    for ``imshow`` (left, right, bottom, top in mm).

    Axial: the patient's right on the image's left, anterior at the top; coronal: the right
    on the left, the head at the top (the radiological convention).
    """
    u = np.arange(-half_mm, half_mm + 1e-9, STEP_MM)
    x = centre[0] + u
    rows = centre[1] + u if view == "axial" else centre[2] - u
    xx, rr = np.meshgrid(x, rows)
    pts = np.empty((*xx.shape, 3))
    pts[..., 0] = xx
    if view == "axial":
        pts[..., 1], pts[..., 2] = rr, centre[2]
    else:
        pts[..., 1], pts[..., 2] = centre[1], rr
    h = STEP_MM / 2.0  # the extent is the outer edge of the pixels
    sign = 1.0 if rows[-1] > rows[0] else -1.0
    return pts, (
        float(x[0] - h),
        float(x[-1] + h),
        float(rows[-1] + sign * h),
        float(rows[0] - sign * h),
    )


def sample(volume: Any, pts: NDArray[np.float64], order: int) -> NDArray[Any]:
    """A volume sampled at LPS points (order 1 for the CT, 0 for labels; outside: lowest)."""
    from scipy import ndimage

    from ivcviewer import geometry

    ijk = geometry.lps_to_voxel(volume.affine, pts.reshape(-1, 3)).T
    arr = np.asarray(volume.array)
    fill = float(arr.min()) if order else 0
    vals = ndimage.map_coordinates(arr, ijk, order=order, mode="constant", cval=fill)
    return np.asarray(vals.reshape(pts.shape[:2]))


def structure_values(names: dict[int, str], structure: str) -> list[int]:
    """Label values of a structure name or a ``prefix_*`` group."""
    from ivcviewer.annotations.vocabulary import expand_structure

    wanted = set(expand_structure(structure, set(names.values())))
    return [v for v, n in names.items() if n in wanted]


def panel_centre(scene: Scene, panel: Panel) -> NDArray[np.float64]:
    """The point a panel's slice goes through: the mean of its findings' centroids."""
    pts = [np.asarray(_finding(scene.result, f).centroid_lps, dtype=float) for f in panel.findings]
    return np.asarray(np.mean(pts, axis=0), dtype=float)


def panel_half_mm(scene: Scene, spec: FigureSpec) -> float:
    """Half width of the figure's panels (one scale for all): the largest region shown, and
    the distance from a panel's centre to the regions it goes through, with a margin."""
    half = MIN_HALF_MM
    for panel in spec.panels:
        centre = panel_centre(scene, panel)
        for f in panel.findings:
            r = _finding(scene.result, f)
            size = max(r.extents_mm.values()) if r.extents_mm else 0.0
            off = float(np.max(np.abs(np.asarray(r.centroid_lps) - centre)))
            half = max(half, off + size / 2.0 + MARGIN_MM)
    return half


# ----------------------------------------------------------------------------- drawing


def draw_panel(ax: Any, scene: Scene, spec: FigureSpec, panel: Panel, half: float) -> list[Any]:
    """One slice: the CT, the outlines, the regions, the marks; returns the legend handles."""
    from matplotlib.colors import to_rgb
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    centre = panel_centre(scene, panel)
    pts, extent = plane_grid(panel.view, centre, half)
    ax.imshow(
        sample(scene.ct, pts, 1),
        cmap="gray",
        vmin=WINDOW[0],
        vmax=WINDOW[1],
        extent=extent,
        interpolation="nearest",
    )
    handles: list[Any] = []
    anat = sample(scene.anatomy, pts, 0)
    for colour, structure in zip(OUTLINE_COLOURS, spec.outlines, strict=False):
        mask = np.isin(anat, structure_values(scene.names, structure))
        if mask.any():
            ax.contour(
                mask.astype(float),
                levels=[0.5],
                colors=[colour],
                linewidths=1.2,
                extent=extent,
                origin="upper",
            )
        handles.append(Line2D([], [], color=colour, lw=1.5, label=structure))
    labels = sample(scene.result.labels, pts, 0)
    for reg in scene.result.regions:
        mask = labels == reg.value
        if not mask.any():
            continue
        rgba = np.zeros((*mask.shape, 4))
        rgba[mask] = (*to_rgb(reg.colour), FILL_ALPHA)
        ax.imshow(rgba, extent=extent, interpolation="nearest")
        ax.contour(
            mask.astype(float),
            levels=[0.5],
            colors=[reg.colour],
            linewidths=1.6,
            extent=extent,
            origin="upper",
        )
        handles.append(Patch(facecolor=reg.colour, edgecolor=reg.colour, label=reg.finding_id))
    _draw_marks(ax, scene, panel.view, centre, half)
    _orient(ax, panel.view, extent)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    axis, k = ("z", 2) if panel.view == "axial" else ("y", 1)
    where = f"{axis} = {int(round(centre[k]))} mm"
    ax.set_title(f"{panel.view}, {where} (through {' and '.join(panel.findings)})", fontsize=8)
    return handles


def _draw_marks(ax: Any, scene: Scene, view: str, centre: NDArray[np.float64], half: float) -> None:
    """The marked points that lie in the panel's plane (within :data:`PLANE_TOL_MM`), each
    labelled; points that coincide share one mark."""
    k, normal = (1, 2) if view == "axial" else (2, 1)
    for label, p in merged_points(scene.points):
        u, v = p[0] - centre[0], p[k] - centre[k]
        if abs(u) > half or abs(v) > half or abs(p[normal] - centre[normal]) > PLANE_TOL_MM:
            continue
        ax.plot(p[0], p[k], marker="+", ms=11, mew=2.0, color=MARK_COLOUR)
        right = u < 0  # write the label towards the panel's centre
        ax.annotate(
            label,
            (p[0], p[k]),
            xytext=(7 if right else -7, 5),
            textcoords="offset points",
            ha="left" if right else "right",
            color=MARK_COLOUR,
            fontsize=7,
            bbox={"boxstyle": "round,pad=0.15", "fc": "black", "ec": "none", "alpha": 0.55},
        )


def merged_points(
    points: dict[str, NDArray[np.float64]],
) -> list[tuple[str, NDArray[np.float64]]]:
    """The points with those that lie within 1 mm of each other joined under one label
    (``a = b``), in label order."""
    out: list[tuple[str, NDArray[np.float64]]] = []
    for label, p in sorted(points.items()):
        for i, (other, q) in enumerate(out):
            if float(np.linalg.norm(p - q)) < 1.0:
                out[i] = (f"{other} = {label}", q)
                break
        else:
            out.append((label, p))
    return out


def _orient(ax: Any, view: str, extent: tuple[float, float, float, float]) -> None:
    """Patient-side letters at the panel's edges, no ticks."""
    ax.set_xticks([])
    ax.set_yticks([])
    top, bottom = ("A", "P") if view == "axial" else ("S", "I")
    style = {"color": "#E0E0E0", "fontsize": 8, "transform": ax.transAxes}
    ax.text(0.01, 0.5, "R", ha="left", va="center", **style)
    ax.text(0.99, 0.5, "L", ha="right", va="center", **style)
    ax.text(0.5, 0.99, top, ha="center", va="top", **style)
    ax.text(0.5, 0.01, bottom, ha="center", va="bottom", **style)


def draw_figure(scene: Scene, spec: FigureSpec, path: Path) -> Path:
    """Draw and write one figure (atomically, then reduced to a palette)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from ivcviewer._atomic import atomic_file

    n = len(spec.panels)
    fig = Figure(figsize=(3.4 * n, 4.1), dpi=110, facecolor="black")
    axes = fig.subplots(1, n, squeeze=False)[0]
    half = panel_half_mm(scene, spec)
    handles: dict[str, Any] = {}
    for ax, panel in zip(axes, spec.panels, strict=True):
        ax.set_facecolor("black")
        ax.title.set_color("white")
        for h in draw_panel(ax, scene, spec, panel, half):
            handles.setdefault(h.get_label(), h)
    fig.suptitle(f"{spec.title} - {scene.source}", color="white", fontsize=9)
    fig.legend(
        handles=list(handles.values()),
        loc="lower center",
        ncol=min(6, len(handles)),
        fontsize=7,
        frameon=False,
        labelcolor="white",
    )
    fig.subplots_adjust(left=0.01, right=0.99, top=0.86, bottom=0.1, wspace=0.03)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", facecolor="black", metadata={"Software": None})
    _optimise(path)
    return path


def _optimise(path: Path) -> None:
    """Reduce the figure to a palette, as the other documentation figures are."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        from render_figures import optimise_png
    finally:
        sys.path.pop(0)
    optimise_png(path)


# ----------------------------------------------------------------------------- main


def render(out: Path, anatomies: Sequence[str], size: str, only: Sequence[str] = ()) -> list[Path]:
    """Render the figures (all, or those named in ``only``) on each anatomy into ``out``."""
    chosen = [s for s in ALL_FIGURES if not only or s.name in only]
    unknown = sorted(set(only) - {s.name for s in ALL_FIGURES})
    if unknown:
        raise SystemExit(f"unknown figure {unknown[0]!r}; known: {[s.name for s in ALL_FIGURES]}")
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="case-figures-") as tmp:
        for spec in chosen:
            case_path = spec.case_file
            if case_path is None:
                case_path = Path(tmp) / f"{spec.name}.yaml"
                case_path.write_text(spec.case_text, encoding="utf-8")
            for anatomy in anatomies:
                scene = fit_scene(spec, case_path, anatomy, size)
                written.append(draw_figure(scene, spec, out / f"{spec.name}-{anatomy}.png"))
    return written


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and render."""
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    p.add_argument(
        "--on",
        nargs="+",
        choices=ANATOMIES,
        default=list(ANATOMIES),
        help="anatomies to fit on (default: both)",
    )
    p.add_argument("--size", default="standard", choices=("small", "standard"), help="phantom size")
    p.add_argument("--only", nargs="*", default=[], help="figure names (default: all)")
    args = p.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    for path in render(args.out, args.on, args.size, args.only):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
