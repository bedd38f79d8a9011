"""Dock widget "Case overlay": a case file's findings fitted to the CT shown, and a findings tour.

Pick a case file (the packaged one by default), the CT layer and an anatomy source, press
**Fit overlay**: :func:`ivcviewer.annotations.overlay.fit_case` places the findings on the CT's
own grid and the widget adds

* a Labels layer ``Case findings`` with one named, coloured region per finding (hovering shows
  the name),
* a Points layer ``Case landmarks`` with the landmarks used, named on screen,
* a findings list: selecting a finding moves the slices to its centre, shows its region alone
  (``selected_label`` with ``show_selected_label``) and its description, with the reported and
  the measured figures side by side and, for the tumour inside the IVC, its level (Mayo level
  and IVC segment),
* with **3D surfaces** ticked, one smooth-shaded Surface layer per finding
  (``Case surface: <name>``, :func:`ivcviewer.mesh.region_surface`), shown in 3D views in place
  of the Labels layer (which stays the view of 2D slices); the CT is then drawn beneath them
  without depth, so a projection of it never cuts into them.

Anatomy sources (:class:`AnatomySource`): a phantom's truth folder (``ivcviewer phantom``), a
Labels layer or a label map file with structure names (TotalSegmentator class names; landmarks
are derived with :func:`ivcviewer.annotations.landmarks_from_labelmap`), a landmarks JSON file,
or landmarks clicked in a Points layer.

**Guided clicking** asks for the landmarks the case file needs, one at a time, by their display
names: each click in the ``Clicked landmarks`` layer is the landmark asked for, then the next one
is asked for; the IVC centreline takes several clicks along the vein (press *Next* when done).
The clicked set is saved to and loaded from a landmarks JSON file
(:meth:`ivcviewer.annotations.Landmarks.save_json` / ``load_json``).

The functions above the widget class build what the widget shows from core objects and need no
Qt; the widget only wires them to the viewer.
"""

from __future__ import annotations

import enum
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from qtpy.QtCore import Qt
from qtpy.QtGui import QColor, QIcon, QPixmap
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ... import geometry
from ...annotations import CaseFile, Landmarks, Provenance, default_case_path, load_case
from ...annotations import vocabulary as voc
from ...annotations.overlay import FindingResult, OverlayResult, fit_case
from ...errors import AnatomyError, IvcviewerError
from ...volume import Volume
from ..layers import (
    LayerDataTuple,
    label_surfaces_layer_data,
    labels_layer_data,
    landmark_points_layer_data,
    layer_volume,
)

if TYPE_CHECKING:
    import napari
    from napari.layers import Image, Labels, Layer, Points, Surface

#: Names of the layers the widget adds.
FINDINGS_LAYER = "Case findings"
LANDMARKS_LAYER = "Case landmarks"
CLICKED_LAYER = "Clicked landmarks"

#: Name of the surface layer of a finding (formatted with its ``name``).
SURFACE_LAYER = "Case surface: {name}"

#: ``layer.metadata`` key marking the layers this widget made (value: what the layer is).
OVERLAY_KEY = "ivcviewer_case_overlay"

#: Default radius (mm) given to clicked IVC centreline points.
DEFAULT_CLICKED_RADIUS_MM = 10.0

#: Opacity of the findings layer.
FINDINGS_OPACITY = 0.5

#: First entry of the findings list: every finding shown, the case's overview.
ALL_FINDINGS = "__all__"

_AXES = (("lr", "left-right"), ("ap", "antero-posterior"), ("cc", "cranio-caudal"))


class AnatomySource(str, enum.Enum):
    """Where the landmarks (and the anatomy label map) that place the findings come from."""

    PHANTOM_TRUTH = "phantom truth folder"
    LABELMAP_LAYER = "label map layer (structure names)"
    LABELMAP_FILE = "label map file (structure names)"
    LANDMARKS_JSON = "landmarks JSON file"
    POINTS_LAYER = "clicked landmarks (Points layer)"


# ---------------------------------------------------------------------------------------------
# Anatomy sources (no Qt)
# ---------------------------------------------------------------------------------------------


@dataclass
class Anatomy:
    """Landmarks, and optionally a label map with names, ready for :func:`fit_case`."""

    landmarks: Landmarks
    labels: Volume | None = None
    names: dict[int, str] | None = None
    description: str = ""


def anatomy_from_phantom_truth(folder: str | Path, case: CaseFile) -> Anatomy:
    """The anatomy of a phantom's truth folder (landmarks.json and its truth label map).

    The findings' own truth labels are kept from the fit (the same rule as ``ivcviewer overlay
    --phantom-truth``).
    """
    from ...annotations.truth import phantom_truth_anatomy

    landmarks, labels, names, _ = phantom_truth_anatomy(Path(folder), case)
    return Anatomy(landmarks, labels, names, f"the phantom truth in {Path(folder).name}")


def anatomy_from_labelmap(
    labels: Volume, names: dict[int, str], case: CaseFile, description: str
) -> Anatomy:
    """Landmarks derived from a label map with structure names."""
    from ...annotations import landmarks_from_labelmap

    try:
        lm = landmarks_from_labelmap(labels, names, required=case.required_landmarks())
    except AnatomyError as err:
        raise AnatomyError(f"{description}: {err}") from err
    lm.provenance.description = lm.provenance.description or description
    return Anatomy(lm, labels, names, description)


def anatomy_from_labelmap_file(
    path: str | Path, case: CaseFile, names_path: str | Path | None = None
) -> Anatomy:
    """Landmarks derived from a label map file (names from ``names_path`` or its sidecar)."""
    from ...io import load_labels

    labels, table = load_labels(path, names_path if names_path else None)
    names = {int(v): str(n) for v, n in table.names.items()}
    return anatomy_from_labelmap(labels, names, case, str(path))


def _layer_lps(layer: Layer) -> NDArray[np.float64]:
    """LPS mm of a 3D Points layer's points (through the layer's own transform)."""
    pts = np.asarray(layer.data, dtype=float).reshape(-1, layer.ndim)
    if layer.ndim != 3:
        raise AnatomyError(
            f"Points layer {layer.name!r} has {layer.ndim} dimensions; landmarks need 3D "
            "points (z, y, x) in mm."
        )
    if len(pts) == 0:
        return np.zeros((0, 3))
    world = np.array([np.asarray(layer.data_to_world(p), dtype=float)[-3:] for p in pts])
    return geometry.napari_to_lps(world)


def landmarks_from_points_layer(
    layer: Layer, radius_mm: float = DEFAULT_CLICKED_RADIUS_MM
) -> Landmarks:
    """The landmark set of a Points layer whose ``landmark`` (or ``name``) feature names points.

    Point landmarks take the last point with their name; points named ``ivc_centreline`` make
    the IVC centreline (sorted feet to head, points on one level averaged), each with its
    ``radius_mm`` feature or ``radius_mm``.

    Raises
    ------
    AnatomyError
        When the layer names no known landmark, a name is unknown, or the centreline has fewer
        than two levels.
    """
    feats = layer.features
    column = "landmark" if "landmark" in feats else "name" if "name" in feats else None
    if column is None:
        raise AnatomyError(
            f"Points layer {layer.name!r} has no 'landmark' feature naming its points. Fix: "
            "click them with the guided mode of the Case overlay widget, or load a landmarks "
            "JSON file."
        )
    ids = [str(v) for v in feats[column]]
    lps = _layer_lps(layer)
    radii = (
        np.asarray(feats["radius_mm"], dtype=float)
        if "radius_mm" in feats
        else np.full(len(ids), np.nan)
    )
    points: dict[str, NDArray[np.float64]] = {}
    centre: list[tuple[NDArray[np.float64], float]] = []
    for i, name in enumerate(ids):
        if name == "ivc_centreline":
            r = float(radii[i]) if math.isfinite(float(radii[i])) else float(radius_mm)
            centre.append((lps[i], r))
        elif name in voc.POINT_LANDMARKS:
            points[name] = lps[i]
        else:
            hint = voc.closest(name, voc.LANDMARKS)
            raise AnatomyError(
                f"Points layer {layer.name!r}: point {i} is named {name!r}, not a landmark "
                f"(known: {', '.join(voc.LANDMARKS)})."
                + (f" Fix: rename it {hint!r}." if hint else "")
            )
    if not points and not centre:
        raise AnatomyError(
            f"Points layer {layer.name!r} holds no landmark. Fix: click the landmarks first."
        )
    c_lps = c_r = None
    if centre:
        arr = np.array([p for p, _ in centre])
        rad = np.array([r for _, r in centre])
        zs = np.round(arr[:, 2], 3)
        levels = np.unique(zs)
        if len(levels) < 2:
            raise AnatomyError(
                f"Points layer {layer.name!r}: the IVC centreline needs points on at least two "
                f"levels, got {len(levels)}. Fix: click the IVC's centre on more slices."
            )
        c_lps = np.array([arr[zs == z].mean(axis=0) for z in levels])
        c_r = np.array([rad[zs == z].mean() for z in levels])
    methods = {n: "clicked" for n in points}
    if centre:
        methods["ivc_centreline"] = "clicked points, sorted feet to head"
    return Landmarks.from_points(
        points, c_lps, c_r, Provenance("points", f"Points layer {layer.name!r}", methods)
    )


def ct_volume_of(layer: Image) -> Volume:
    """The Volume of a CT Image layer (ivcviewer's own, else rebuilt from the layer)."""
    vol = layer_volume(layer.metadata)
    if vol is not None:
        return vol
    from ..measure_tools import volume_from_layer

    return volume_from_layer(layer)


# ---------------------------------------------------------------------------------------------
# What the widget shows (no Qt)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GuideStep:
    """One landmark the guided mode asks for."""

    id: str
    name: str
    description: str
    several: bool = False


def guide_steps(case: CaseFile) -> list[GuideStep]:
    """The landmarks a case needs, in the order the guided mode asks for them."""
    out = []
    for n in case.required_landmarks():
        if n == "ivc_centreline":
            out.append(
                GuideStep(
                    n,
                    "IVC centreline",
                    "click the centre of the IVC on several slices, from below the renal "
                    "veins up to the right atrium; press Next when done",
                    True,
                )
            )
            continue
        spec = case.landmark_spec(n)
        out.append(GuideStep(n, spec.name, spec.description or voc.LANDMARKS.get(n, "")))
    return out


@dataclass(frozen=True)
class FindingEntry:
    """One entry of the findings list."""

    key: str
    title: str
    colour: str | None
    label_value: int | None = None
    centre_lps: tuple[float, float, float] | None = None
    drawn: bool = True


def _region_centre(r: FindingResult, grid_affine: NDArray[np.float64]) -> NDArray[np.float64]:
    """The region's voxel nearest to its centroid (LPS): a slice through it shows the region."""
    ijk = np.argwhere(r.region.mask)
    lps = geometry.apply_affine(r.region.affine(grid_affine), ijk.astype(float))
    c = r.centroid_lps if r.centroid_lps is not None else lps.mean(axis=0)
    return np.asarray(lps[int(np.argmin(np.sum((lps - c) ** 2, axis=1)))], dtype=float)


def finding_entries(result: OverlayResult) -> list[FindingEntry]:
    """The findings list: all findings first, then regions, points and the findings not drawn."""
    out = [FindingEntry(ALL_FINDINGS, "All findings (overview)", None)]
    affine = result.labels.affine
    for r in result.findings:
        centre = None
        if r.n_voxels:
            c = _region_centre(r, affine)
            centre = (float(c[0]), float(c[1]), float(c[2]))
        out.append(
            FindingEntry(
                r.id, r.finding.name, r.finding.colour, r.label_value, centre, r.n_voxels > 0
            )
        )
    for p in result.points:
        if p.finding_id is not None:
            out.append(FindingEntry(p.finding_id, p.name, p.colour, None, p.position_lps))
    for f in result.case.findings:
        if not f.spatial:
            out.append(FindingEntry(f.id, f"{f.name} (not drawn)", None, None, None, False))
    return out


def _cm(v: float | None, signed: bool = False) -> str:
    if v is None:
        return "-"
    return f"{v / 10.0:+.2f}" if signed else f"{v / 10.0:.2f}"


def _esc(text: str) -> str:
    return html.escape(str(text))


def involvement_text(result: OverlayResult) -> str:
    """One line: the IVC level computed, and what the case file expects."""
    lv = result.involvement
    if lv is None:
        reason = result.involvement_missing or "no finding inside the IVC"
        return f"IVC level: not computed ({reason})."
    bound = " or higher" if lv.lower_bound else ""
    text = f"IVC level: Mayo {lv.mayo_level}{bound}, IVC segment {lv.ivc_segment}"
    exp = result.expected_involvement
    if exp is not None:
        ok = result.involvement_matches() or {}
        mark = "matches" if ok and all(ok.values()) else "differs from"
        text += (
            f" ({mark} the case file: Mayo {exp.mayo_level or '-'}, segment "
            f"{exp.ivc_segment or '-'})"
        )
    return text + "."


def _involvement_html(result: OverlayResult) -> str:
    lv = result.involvement
    if lv is None:
        return ""
    rows = [f"<p><b>{_esc(involvement_text(result))}</b></p>", "<ul>"]
    rows.append(
        f"<li>Tumour from z = {lv.bottom_z_mm:.1f} to {lv.top_z_mm:.1f} mm; its top lies "
        f"{lv.top_above_renal_mm:.1f} mm above the renal-vein confluence.</li>"
    )
    rows.append(f"<li>Strict reading of the Mayo wording: {lv.mayo_level_strict}.</li>")
    rows += [f"<li>{_esc(n)}</li>" for n in lv.notes]
    rows.append("</ul>")
    return "\n".join(rows)


def _figures_table(r: FindingResult) -> str:
    rep = r.reported_extents_mm
    diff = r.differences_mm() or {}
    one = r.within_one_voxel() or {}
    rows = [
        "<table border='1' cellspacing='0' cellpadding='3'>",
        "<tr><th>axis</th><th>reported (cm)</th><th>measured (cm)</th>"
        "<th>difference (cm)</th><th>within 1 voxel</th></tr>",
    ]
    for a, name in _AXES:
        meas = None if r.extents_mm is None else r.extents_mm.get(a)
        rv = None if rep is None else rep.get(a)
        ok = "-" if a not in one else ("yes" if one[a] else "<b>no</b>")
        rows.append(
            f"<tr><td>{name}</td><td align='right'>{_cm(rv)}</td>"
            f"<td align='right'>{_cm(meas)}</td><td align='right'>{_cm(diff.get(a), True)}</td>"
            f"<td align='center'>{ok}</td></tr>"
        )
    rows.append("</table>")
    out = "\n".join(rows)
    extra = [f"Volume {r.volume_ml:.1f} mL ({r.n_voxels} voxels)."]
    if rep is not None and r.extents_mm is not None:
        srt = sorted(r.extents_mm.values(), reverse=True)[: len(rep)]
        extra.append(
            "In any order: reported "
            + " x ".join(_cm(v) for v in r.finding.reported_extents_sorted_mm())
            + " cm, measured "
            + " x ".join(_cm(v) for v in srt)
            + " cm."
        )
        if r.finding.extents_assumed():
            notes = " ".join(m.note for m in r.finding.measurements if m.assumed)
            extra.append("Axis assignment assumed by the case file. " + notes)
    elif rep is None:
        extra.append("The report gives no figures for this finding.")
    return out + "\n<p>" + "<br>".join(_esc(e) for e in extra) + "</p>"


def finding_html(result: OverlayResult, key: str) -> str:
    """The description shown for one entry of :func:`finding_entries` (HTML)."""
    case = result.case
    if key == ALL_FINDINGS:
        parts = [f"<h3>{_esc(case.case.title)}</h3>"]
        parts.append(f"<p>{_esc(case.case.citation.text)} doi:{_esc(case.case.citation.doi)}</p>")
        parts.append(f"<p><i>{_esc(case.case.source_note)}</i></p>")
        parts.append(_involvement_html(result))
        parts.append("<p>Drawn:</p><ul>")
        for r in result.findings:
            ext = r.extents_mm
            size = (
                "not drawn on this CT"
                if ext is None
                else " x ".join(_cm(ext[a]) for a, _ in _AXES) + f" cm, {r.volume_ml:.0f} mL"
            )
            parts.append(f"<li>{_esc(r.finding.name)}: {size}</li>")
        parts.append("</ul>")
        src = result.landmarks.provenance
        parts.append(
            f"<p>Anatomy: {_esc(src.source)}"
            + (f" ({_esc(src.description)})" if src.description else "")
            + ".</p>"
        )
        warnings = list(result.warnings) + list(src.warnings)
        if warnings:
            parts.append("<p>Warnings:</p><ul>")
            parts += [f"<li>{_esc(w)}</li>" for w in warnings]
            parts.append("</ul>")
        return "\n".join(parts)
    for r in result.findings:
        if r.id == key:
            f = r.finding
            parts = [f"<h3>{_esc(f.name)}</h3>", f"<p>{_esc(f.description)}</p>"]
            parts.append(_figures_table(r))
            if r.z_span_lps is not None:
                parts.append(
                    f"<p>Drawn from z = {r.z_span_lps[0]:.1f} to {r.z_span_lps[1]:.1f} mm.</p>"
                )
            if result.involvement is not None and result.involvement_finding == r.id:
                parts.append(_involvement_html(result))
            parts.append(f"<p>Placed by: {_esc(r.fit.method)}.</p>")
            if f.relations.note:
                parts.append(f"<p>Assumption: {_esc(f.relations.note)}</p>")
            if r.rules:
                parts.append("<p>Rules:</p><ul>")
                parts += [
                    f"<li>{_esc(c.rule)} {_esc(c.structure)}: {_esc(c.status)} "
                    f"({_esc(c.detail)})</li>"
                    for c in r.rules
                ]
                parts.append("</ul>")
            changed = r.clipping_changed_extents(tol_mm=0.5)
            if changed:
                parts.append("<p>Clipping that changed its extents:</p><ul>")
                parts += [f"<li>{_esc(c.reason)}: {_esc(c.description)}</li>" for c in changed]
                parts.append("</ul>")
            if r.warnings:
                parts.append("<p>Warnings:</p><ul>")
                parts += [f"<li>{_esc(w)}</li>" for w in r.warnings]
                parts.append("</ul>")
            return "\n".join(parts)
    for p in result.points:
        if p.finding_id == key:
            x, y, z = p.position_lps
            return (
                f"<h3>{_esc(p.name)}</h3><p>{_esc(p.description)}</p>"
                f"<p>At the landmark {_esc(case.landmark_spec(p.landmark).name)}: "
                f"x {x:.1f}, y {y:.1f}, z {z:.1f} mm (LPS).</p>"
            )
    f = case.finding(key)
    return (
        f"<h3>{_esc(f.name)}</h3><p>{_esc(f.description)}</p>"
        "<p>Not a place on this CT: listed, not drawn.</p>"
    )


# ---------------------------------------------------------------------------------------------
# Layers (data from layers.py)
# ---------------------------------------------------------------------------------------------


def findings_layer_data(result: OverlayResult) -> tuple[Any, dict[str, Any], str]:
    """The ``Case findings`` Labels layer tuple: named, coloured regions on the CT's grid."""
    table = {r.value: {"name": r.name, "color": r.rgba} for r in result.regions}
    data, kwargs, kind = labels_layer_data(
        result.labels, table, name=FINDINGS_LAYER, opacity=FINDINGS_OPACITY
    )
    kwargs["metadata"][OVERLAY_KEY] = "findings"
    kwargs["metadata"]["case_id"] = result.case.case.id
    kwargs["metadata"]["finding_ids"] = {r.value: r.finding_id for r in result.regions}
    return data, kwargs, kind


def findings_surfaces_layer_data(result: OverlayResult) -> list[LayerDataTuple]:
    """One smooth Surface layer tuple per drawn finding, in its colour (for 3D views)."""
    table = {r.value: {"name": r.name, "color": r.rgba} for r in result.regions}
    tuples = label_surfaces_layer_data(
        result.labels,
        table,
        name_format=SURFACE_LAYER,
        metadata={OVERLAY_KEY: "surface", "case_id": result.case.case.id},
    )
    ids = {r.value: r.finding_id for r in result.regions}
    for _, kwargs, _ in tuples:
        kwargs["metadata"]["finding_id"] = ids[kwargs["metadata"]["label_value"]]
    return tuples


def landmarks_layer_data(result: OverlayResult, ct: Volume) -> tuple[Any, dict[str, Any], str]:
    """The ``Case landmarks`` Points layer tuple: the landmarks used, named, on the CT's grid."""
    pts = [p for p in result.points if p.finding_id is None]
    return landmark_points_layer_data(
        [p.position_lps for p in pts],
        {
            "name": [p.name for p in pts],
            "landmark": [p.landmark for p in pts],
            "truncated": [p.truncated for p in pts],
        },
        reference=ct,
        colors=[p.colour for p in pts],
        name=LANDMARKS_LAYER,
        text_color="yellow",
        metadata={OVERLAY_KEY: "landmarks"},
    )


def clicked_layer_data(
    landmarks: Landmarks | None,
    case: CaseFile,
    ct: Volume | None,
    first: GuideStep | None,
    radius_mm: float,
) -> tuple[Any, dict[str, Any], str]:
    """The ``Clicked landmarks`` Points layer tuple (empty, or holding a landmark set)."""
    ids: list[str] = []
    pts: list[Any] = []
    radii: list[float] = []
    if landmarks is not None:
        for n in voc.POINT_LANDMARKS:
            if n in landmarks.points_lps:
                ids.append(n)
                pts.append(landmarks.points_lps[n])
                radii.append(math.nan)
        if landmarks.centreline_lps is not None and landmarks.centreline_radius_mm is not None:
            for p, r in zip(landmarks.centreline_lps, landmarks.centreline_radius_mm, strict=True):
                ids.append("ivc_centreline")
                pts.append(p)
                radii.append(float(r))
    names = [_display_name(case, n) for n in ids]
    colours = [_landmark_colour(case, n) for n in ids]
    defaults = {
        "landmark": first.id if first else "",
        "name": first.name if first else "",
        "radius_mm": radius_mm if first and first.several else math.nan,
    }
    return landmark_points_layer_data(
        np.asarray(pts, dtype=float).reshape(-1, 3),
        {
            "landmark": np.asarray(ids, dtype=object),
            "name": np.asarray(names, dtype=object),
            "radius_mm": np.asarray(radii, dtype=float),
        },
        reference=ct,
        colors=colours,
        name=CLICKED_LAYER,
        size_mm=6.0,
        text_color="cyan",
        feature_defaults=defaults,
        metadata={OVERLAY_KEY: "clicked"},
    )


def _display_name(case: CaseFile, landmark: str) -> str:
    if landmark == "ivc_centreline":
        return "IVC centreline"
    return case.landmark_spec(landmark).name


def _landmark_colour(case: CaseFile, landmark: str) -> str:
    if landmark == "ivc_centreline":
        return "#00FFFF"
    return case.landmark_spec(landmark).colour


# ---------------------------------------------------------------------------------------------
# The widget
# ---------------------------------------------------------------------------------------------


def _swatch(colour: str | None) -> QIcon:
    pix = QPixmap(14, 14)
    pix.fill(QColor(colour) if colour else QColor(0, 0, 0, 0))
    return QIcon(pix)


class CaseOverlayWidget(QWidget):
    """The "Case overlay" dock widget (see the module docstring).

    Parameters
    ----------
    napari_viewer
        The viewer (injected by napari).
    """

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        from napari.layers import Image, Labels, Points

        from .measure_common import LayerCombo

        super().__init__()
        self._viewer = napari_viewer
        self._case: CaseFile | None = None
        self.result: OverlayResult | None = None
        self._ct: Volume | None = None
        self._entries: list[FindingEntry] = []
        self._findings_layer: Labels | None = None
        self._landmarks_layer: Points | None = None
        self._surface_layers: list[Surface] = []
        self._ct_blending: tuple[Image, str] | None = None
        self._labels_hidden = False  # the findings layer was hidden for the surfaces
        self._clicked: Points | None = None
        self._steps: list[GuideStep] = []
        self._step = -1
        self._n_clicked = 0
        self._guiding = False
        self._pending_click = False

        # case file
        self.case_edit = QLineEdit(self)
        browse_case = QPushButton("Browse\N{HORIZONTAL ELLIPSIS}", self)
        packaged = QPushButton("Packaged", self)
        case_row = QHBoxLayout()
        case_row.addWidget(self.case_edit, 1)
        case_row.addWidget(browse_case)
        case_row.addWidget(packaged)

        # CT and anatomy source
        self.ct_combo = LayerCombo(napari_viewer, Image, accept=_is_3d, parent=self)
        self.source_combo = QComboBox(self)
        for s in AnatomySource:
            self.source_combo.addItem(s.value, s)
        self.source_stack = QStackedWidget(self)
        # folder / file pages
        self.path_edit: dict[AnatomySource, QLineEdit] = {}
        for s in (
            AnatomySource.PHANTOM_TRUTH,
            AnatomySource.LABELMAP_FILE,
            AnatomySource.LANDMARKS_JSON,
        ):
            page = QWidget(self)
            row = QHBoxLayout(page)
            row.setContentsMargins(0, 0, 0, 0)
            edit = QLineEdit(page)
            btn = QPushButton("Browse\N{HORIZONTAL ELLIPSIS}", page)
            btn.clicked.connect(lambda _c=False, src=s: self._browse_source(src))
            row.addWidget(edit, 1)
            row.addWidget(btn)
            self.path_edit[s] = edit
            self._add_page(s, page)
        self.names_edit = QLineEdit(self)
        self.names_edit.setPlaceholderText("label names JSON (default: <stem>_labels.json)")
        self.labels_combo = LayerCombo(napari_viewer, Labels, accept=_is_3d, parent=self)
        self.points_combo = LayerCombo(napari_viewer, Points, parent=self)
        self._add_page(AnatomySource.LABELMAP_LAYER, self.labels_combo)
        self._add_page(AnatomySource.POINTS_LAYER, self.points_combo)

        run_btn = QPushButton("Fit overlay", self)
        run_btn.setToolTip("Fit the case's findings to the CT from the anatomy source")
        self.status_label = QLabel("", self)
        self.status_label.setWordWrap(True)
        self.surfaces_check = QCheckBox("3D surfaces", self)
        self.surfaces_check.setToolTip(
            "Show the fitted findings as smooth surfaces in 3D views (in place of the labels)"
        )

        form = QFormLayout()
        form.addRow("Case file", case_row)
        form.addRow("CT", self.ct_combo)
        form.addRow("Anatomy", self.source_combo)
        form.addRow("", self.source_stack)
        form.addRow("", self.names_edit)

        # guided landmarks
        guide = QGroupBox("Click landmarks", self)
        self.guide_label = QLabel("Press Start to click the landmarks the case needs.", guide)
        self.guide_label.setWordWrap(True)
        self.start_btn = QPushButton("Start", guide)
        self.back_btn = QPushButton("Back", guide)
        self.next_btn = QPushButton("Next", guide)
        self.done_btn = QPushButton("Done", guide)
        self.radius_spin = QDoubleSpinBox(guide)
        self.radius_spin.setRange(2.0, 30.0)
        self.radius_spin.setDecimals(1)
        self.radius_spin.setSuffix(" mm")
        self.radius_spin.setValue(DEFAULT_CLICKED_RADIUS_MM)
        self.radius_spin.setToolTip("IVC radius given to the centreline points clicked next")
        save_btn = QPushButton("Save JSON\N{HORIZONTAL ELLIPSIS}", guide)
        load_btn = QPushButton("Load JSON\N{HORIZONTAL ELLIPSIS}", guide)
        g1 = QHBoxLayout()
        for b in (self.start_btn, self.back_btn, self.next_btn, self.done_btn):
            g1.addWidget(b)
        g2 = QHBoxLayout()
        g2.addWidget(QLabel("IVC radius", guide))
        g2.addWidget(self.radius_spin)
        g2.addStretch(1)
        g2.addWidget(save_btn)
        g2.addWidget(load_btn)
        gl = QVBoxLayout(guide)
        gl.addWidget(self.guide_label)
        gl.addLayout(g1)
        gl.addLayout(g2)

        # findings
        self.level_label = QLabel("", self)
        self.level_label.setWordWrap(True)
        self.findings_list = QListWidget(self)
        self.findings_list.setMaximumHeight(130)
        self.details = QTextBrowser(self)
        self.details.setOpenExternalLinks(True)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        run_row = QHBoxLayout()
        run_row.addWidget(run_btn, 1)
        run_row.addWidget(self.surfaces_check)
        layout.addLayout(run_row)
        layout.addWidget(self.status_label)
        layout.addWidget(guide)
        layout.addWidget(self.level_label)
        layout.addWidget(QLabel("Findings (select one to go to it)", self))
        layout.addWidget(self.findings_list)
        layout.addWidget(self.details, 1)

        self.case_edit.editingFinished.connect(self._on_case_edited)
        browse_case.clicked.connect(self._browse_case)
        packaged.clicked.connect(lambda: self._try(lambda: self.set_case(default_case_path())))
        self.source_combo.currentIndexChanged.connect(self._on_source_changed)
        run_btn.clicked.connect(lambda: self._try(self.run))
        self.findings_list.currentRowChanged.connect(self._on_row)
        self.start_btn.clicked.connect(lambda: self._try(self.start_guide))
        self.back_btn.clicked.connect(lambda: self._try(lambda: self.goto_step(self._step - 1)))
        self.next_btn.clicked.connect(lambda: self._try(self.next_step))
        self.done_btn.clicked.connect(lambda: self._try(self.finish_guide))
        save_btn.clicked.connect(self._save_dialog)
        load_btn.clicked.connect(self._load_dialog)
        self.radius_spin.valueChanged.connect(lambda _v: self._set_defaults())
        self.surfaces_check.toggled.connect(lambda _on: self._try(self._update_surfaces))
        napari_viewer.dims.events.ndisplay.connect(self._sync_3d)

        self.set_case(default_case_path())
        self._on_source_changed()
        self._update_guide()

    # -- small helpers ----------------------------------------------------------------------

    def _add_page(self, source: AnatomySource, page: QWidget) -> None:
        self.source_stack.addWidget(page)
        page.setProperty("source", source.value)

    def _try(self, fn: Any) -> Any:
        """Run ``fn``; a domain or file error becomes one line in the widget and a notice."""
        from napari.utils.notifications import show_error

        try:
            out = fn()
        except (IvcviewerError, OSError, KeyError) as err:
            text = str(err) if not isinstance(err, KeyError) else str(err.args[0])
            self.status_label.setText(f"Error: {text}")
            show_error(f"Case overlay: {text}")
            return None
        return out

    # -- inputs -----------------------------------------------------------------------------

    @property
    def case(self) -> CaseFile | None:
        """The case file whose findings are fitted."""
        return self._case

    def set_case(self, path: str | Path) -> CaseFile:
        """Use the case file at ``path`` (validated; the previous case stays on error)."""
        case = load_case(path)
        self._case = case
        self.case_edit.setText(str(path))
        self._steps = guide_steps(case)
        self.status_label.setText(f"Case: {case.case.title}")
        self._update_guide()
        return case

    @property
    def source(self) -> AnatomySource:
        """The anatomy source chosen."""
        return AnatomySource(self.source_combo.currentData())

    def set_source(
        self,
        source: AnatomySource | str,
        path: str | Path | None = None,
        *,
        layer: Layer | None = None,
        names_path: str | Path | None = None,
    ) -> None:
        """Choose the anatomy source and its folder, file or layer."""
        src = AnatomySource(source)
        self.source_combo.setCurrentIndex(list(AnatomySource).index(src))
        if path is not None and src in self.path_edit:
            self.path_edit[src].setText(str(path))
        if names_path is not None:
            self.names_edit.setText(str(names_path))
        if layer is not None:
            combo = self.labels_combo if src == AnatomySource.LABELMAP_LAYER else self.points_combo
            combo.set_layer(layer)

    def set_ct_layer(self, layer: Image) -> None:
        """Fit the findings on this CT layer's grid."""
        self.ct_combo.set_layer(layer)

    def _on_source_changed(self, _index: int = 0) -> None:
        src = self.source
        for i in range(self.source_stack.count()):
            page = self.source_stack.widget(i)
            if page is not None and page.property("source") == src.value:
                self.source_stack.setCurrentIndex(i)
        self.names_edit.setVisible(src == AnatomySource.LABELMAP_FILE)

    def _on_case_edited(self) -> None:
        text = self.case_edit.text().strip()
        if text and (self._case is None or text != str(self._case.path)):
            self._try(lambda: self.set_case(text))

    def _browse_case(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Case file", self.case_edit.text(), "Case files (*.yaml *.yml)"
        )
        if path:
            self._try(lambda: self.set_case(path))

    def _browse_source(self, source: AnatomySource) -> None:
        edit = self.path_edit[source]
        if source == AnatomySource.PHANTOM_TRUTH:
            path = QFileDialog.getExistingDirectory(self, "Phantom truth folder", edit.text())
        else:
            filt = (
                "Landmarks (*.json)"
                if source == AnatomySource.LANDMARKS_JSON
                else "Label maps (*.nii *.nii.gz *.nrrd *.mha *.mhd)"
            )
            path, _ = QFileDialog.getOpenFileName(self, source.value, edit.text(), filt)
        if path:
            edit.setText(path)

    def _need_path(self, source: AnatomySource) -> str:
        text = self.path_edit[source].text().strip()
        if not text:
            raise AnatomyError(f"Anatomy source '{source.value}': no path given. Fix: choose one.")
        return text

    def anatomy(self) -> Anatomy:
        """The anatomy of the chosen source (landmarks, and a label map when there is one)."""
        case = self._require_case()
        src = self.source
        if src == AnatomySource.PHANTOM_TRUTH:
            return anatomy_from_phantom_truth(self._need_path(src), case)
        if src == AnatomySource.LABELMAP_FILE:
            names_file = self.names_edit.text().strip() or None
            return anatomy_from_labelmap_file(self._need_path(src), case, names_file)
        if src == AnatomySource.LANDMARKS_JSON:
            path = self._need_path(src)
            return Anatomy(Landmarks.load_json(path), description=path)
        if src == AnatomySource.LABELMAP_LAYER:
            from ..measure_tools import label_names, volume_from_layer

            layer = self.labels_combo.layer()
            if layer is None:
                raise AnatomyError("No Labels layer to take the anatomy from. Fix: open one.")
            structure_names = label_names(layer)
            if not structure_names:
                raise AnatomyError(
                    f"Labels layer {layer.name!r} has no structure names. Fix: open the label "
                    "map with its names (a <stem>_labels.json beside it) or use the label map "
                    "file source with a names file."
                )
            vol = layer_volume(layer.metadata)
            if vol is None:
                vol = volume_from_layer(layer)
            return anatomy_from_labelmap(vol, structure_names, case, f"layer {layer.name!r}")
        layer = self.points_combo.layer()
        if layer is None:
            raise AnatomyError("No Points layer of clicked landmarks. Fix: click them first.")
        return Anatomy(
            landmarks_from_points_layer(layer, float(self.radius_spin.value())),
            description=f"layer {layer.name!r}",
        )

    def _require_case(self) -> CaseFile:
        if self._case is None:
            raise AnatomyError("No case file chosen. Fix: choose one (or the packaged case).")
        return self._case

    def _ct_layer(self) -> Image:
        layer = self.ct_combo.layer()
        if layer is None:
            raise AnatomyError("No CT layer to fit the findings on. Fix: open a CT first.")
        return layer

    # -- fitting ----------------------------------------------------------------------------

    def run(self) -> OverlayResult:
        """Fit the case to the CT and show the findings (layers, list, IVC level).

        Raises
        ------
        IvcviewerError
            For a missing input, a landmark the case needs and the source lacks, and the other
            errors of :func:`fit_case`.
        """
        from napari.layers import Layer

        case = self._require_case()
        ct_layer = self._ct_layer()
        ct = ct_volume_of(ct_layer)
        anatomy = self.anatomy()
        result = fit_case(ct, case, anatomy.landmarks, anatomy.labels, anatomy.names)
        self.result = result
        self._ct = ct
        for old in (self._findings_layer, self._landmarks_layer):
            if old is not None and old in self._viewer.layers:
                self._viewer.layers.remove(old)
        self._findings_layer = self._viewer.add_layer(Layer.create(*findings_layer_data(result)))
        self._landmarks_layer = self._viewer.add_layer(
            Layer.create(*landmarks_layer_data(result, ct))
        )
        self._update_surfaces()
        self._entries = finding_entries(result)
        self.findings_list.blockSignals(True)
        self.findings_list.clear()
        for e in self._entries:
            item = QListWidgetItem(_swatch(e.colour), e.title)
            if not e.drawn:
                item.setForeground(QColor("gray"))
            item.setData(Qt.ItemDataRole.UserRole, e.key)
            self.findings_list.addItem(item)
        self.findings_list.blockSignals(False)
        self.level_label.setText(involvement_text(result))
        n_warn = len(result.warnings) + sum(len(f.warnings) for f in result.findings)
        self.status_label.setText(
            f"Fitted {len(result.findings)} findings of '{case.case.id}' on '{ct_layer.name}' "
            f"from {anatomy.description or anatomy.landmarks.provenance.source}"
            + (f"; {n_warn} warning(s), see the findings" if n_warn else "")
            + "."
        )
        self.select_finding(ALL_FINDINGS)
        return result

    @property
    def findings_layer(self) -> Labels | None:
        """The ``Case findings`` Labels layer of the last fit."""
        return self._findings_layer

    @property
    def landmarks_layer(self) -> Points | None:
        """The ``Case landmarks`` Points layer of the last fit."""
        return self._landmarks_layer

    # -- 3D surfaces ------------------------------------------------------------------------

    @property
    def surface_layers(self) -> list[Surface]:
        """The findings' Surface layers (empty unless **3D surfaces** is ticked after a fit)."""
        return [s for s in self._surface_layers if s in self._viewer.layers]

    def set_surfaces(self, on: bool) -> list[Surface]:
        """Tick or untick **3D surfaces**; returns the surface layers now shown."""
        if self.surfaces_check.isChecked() == bool(on):
            self._update_surfaces()
        else:
            self.surfaces_check.setChecked(bool(on))  # toggled -> _update_surfaces
        return self.surface_layers

    def _update_surfaces(self) -> None:
        """(Re)build the surface layers of the last fit, just above the findings layer (the
        layer selection stays as it was)."""
        from napari.layers import Layer

        selection = self._viewer.layers.selection
        active, selected = selection.active, set(selection)
        for old in self._surface_layers:
            if old in self._viewer.layers:
                self._viewer.layers.remove(old)
        self._surface_layers = []
        labels = self._findings_layer
        if self.surfaces_check.isChecked() and self.result is not None:
            index = len(self._viewer.layers)
            if labels is not None and labels in self._viewer.layers:
                index = self._viewer.layers.index(labels) + 1
            for data in findings_surfaces_layer_data(self.result):
                layer = Layer.create(*data)
                self._viewer.layers.insert(index, layer)
                self._surface_layers.append(layer)
                index += 1
        selection.clear()
        selection.update({layer for layer in selected if layer in self._viewer.layers})
        if active is not None and active in self._viewer.layers:
            selection.active = active
        self._sync_3d()

    def _sync_3d(self, _event: Any = None) -> None:
        """In 3D with surfaces: surfaces shown, findings Labels hidden, the CT drawn beneath
        without depth. Otherwise (2D, or no surfaces): the Labels layer and the CT as they were
        (a layer the user hid stays hidden)."""
        surfaces = self.surface_layers
        show = bool(surfaces) and self._viewer.dims.ndisplay == 3
        for layer in surfaces:
            layer.visible = show
        labels = self._findings_layer
        if labels is not None and labels in self._viewer.layers:
            if show and labels.visible:
                labels.visible = False
                self._labels_hidden = True
            elif not show and self._labels_hidden:
                labels.visible = True
        if not show:
            self._labels_hidden = False
        if show and self._ct_blending is None:
            ct = self.ct_combo.layer()
            if ct is not None:
                self._ct_blending = (ct, str(ct.blending))
                ct.blending = "translucent_no_depth"
        elif not show and self._ct_blending is not None:
            ct, blending = self._ct_blending
            self._ct_blending = None
            if ct in self._viewer.layers:
                ct.blending = blending

    # -- findings tour ----------------------------------------------------------------------

    def finding_keys(self) -> list[str]:
        """The keys of the findings list, in order."""
        return [e.key for e in self._entries]

    def select_finding(self, key: str) -> None:
        """Select a finding of the list (by id, or :data:`ALL_FINDINGS`)."""
        keys = self.finding_keys()
        if key not in keys:
            raise KeyError(f"No finding {key!r} in the list; the list holds {keys}.")
        row = keys.index(key)
        if self.findings_list.currentRow() == row:
            self._on_row(row)
        else:
            self.findings_list.setCurrentRow(row)

    def _on_row(self, row: int) -> None:
        if self.result is None or not 0 <= row < len(self._entries):
            return
        e = self._entries[row]
        self.details.setHtml(finding_html(self.result, e.key))
        labels = self._findings_layer
        if labels is not None and labels in self._viewer.layers:
            if e.label_value is not None and e.drawn:
                labels.selected_label = int(e.label_value)
                labels.show_selected_label = True
            else:
                labels.show_selected_label = False
        pts = self._landmarks_layer
        if pts is not None and pts in self._viewer.layers:
            pts.selected_data = set()
            if e.label_value is None and e.centre_lps is not None and e.key != ALL_FINDINGS:
                lm = self._point_landmark(e.key)
                names = [str(v) for v in pts.features["landmark"]]
                if lm in names:
                    pts.selected_data = {names.index(lm)}
        if e.centre_lps is not None:
            self.go_to(e.centre_lps)

    def _point_landmark(self, finding_id: str) -> str:
        if self.result is None:
            return ""
        for p in self.result.points:
            if p.finding_id == finding_id:
                return p.landmark
        return ""

    def go_to(self, point_lps: Sequence[float]) -> None:
        """Move the slices (all three world axes) to an LPS point."""
        world = geometry.lps_to_napari(np.asarray(point_lps, dtype=float))
        n = self._viewer.dims.ndim
        axes = list(range(n - 3, n))
        self._viewer.dims.set_point(axes, tuple(float(v) for v in world))

    # -- guided clicking --------------------------------------------------------------------

    @property
    def clicked_layer(self) -> Points | None:
        """The ``Clicked landmarks`` layer (None before guided clicking or loading)."""
        return self._clicked

    @property
    def current_step(self) -> GuideStep | None:
        """The landmark asked for now (None when not guiding)."""
        if self._guiding and 0 <= self._step < len(self._steps):
            return self._steps[self._step]
        return None

    def _ensure_clicked_layer(self, landmarks: Landmarks | None = None) -> Points:
        from napari.layers import Layer

        case = self._require_case()
        ct: Volume | None = None
        layer = self.ct_combo.layer()
        if layer is not None:
            ct = ct_volume_of(layer)
        first = self._steps[0] if self._steps else None
        fresh = Layer.create(
            *clicked_layer_data(landmarks, case, ct, first, float(self.radius_spin.value()))
        )
        if self._clicked is not None and self._clicked in self._viewer.layers:
            if landmarks is None:
                return self._clicked
            self._viewer.layers.remove(self._clicked)
        self._clicked = self._viewer.add_layer(fresh)
        self._n_clicked = len(self._clicked.data)
        self._clicked.events.data.connect(self._on_clicked_data)
        self._clicked.events.features.connect(self._on_clicked_features)
        self.points_combo.set_layer(self._clicked)
        return self._clicked

    def start_guide(self) -> None:
        """Ask for the case's landmarks one at a time in the ``Clicked landmarks`` layer."""
        self._require_case()
        layer = self._ensure_clicked_layer()
        self._guiding = True
        self._viewer.layers.selection.active = layer
        layer.mode = "add"
        self.goto_step(self._first_missing(0))

    def _clicked_ids(self) -> list[str]:
        if self._clicked is None or "landmark" not in self._clicked.features:
            return []
        return [str(v) for v in self._clicked.features["landmark"]]

    def _first_missing(self, start: int) -> int:
        have = set(self._clicked_ids())
        for i in range(start, len(self._steps)):
            if self._steps[i].id not in have:
                return i
        return min(start, len(self._steps))

    def goto_step(self, index: int) -> None:
        """Ask for step ``index`` (clamped); past the last step the guide finishes."""
        if not self._guiding:
            return
        if index >= len(self._steps):
            self.finish_guide()
            return
        self._step = max(0, index)
        self._set_defaults()
        self._update_guide()

    def next_step(self) -> None:
        """Go to the next landmark not clicked yet (or finish)."""
        if not self._guiding:
            return
        self.goto_step(self._first_missing(self._step + 1))

    def finish_guide(self) -> None:
        """Stop asking; the clicked layer becomes the anatomy source."""
        self._guiding = False
        self._step = -1
        if self._clicked is not None:
            self._clicked.mode = "pan_zoom"
            self.set_source(AnatomySource.POINTS_LAYER, layer=self._clicked)
        self._update_guide()

    def _set_defaults(self) -> None:
        layer = self._clicked
        step = self.current_step
        if layer is None or step is None:
            return
        # napari applies new defaults (and the current colour) to the selected points: the
        # point just clicked is selected, and must keep its own name
        layer.selected_data = set()
        layer.feature_defaults = {
            "landmark": step.id,
            "name": step.name,
            "radius_mm": float(self.radius_spin.value()) if step.several else math.nan,
        }
        layer.current_face_color = _landmark_colour(self._require_case(), step.id)

    def _update_guide(self) -> None:
        step = self.current_step
        if step is None:
            done = set(self._clicked_ids())
            need = [s.name for s in self._steps if s.id not in done]
            if self._clicked is None:
                text = "Press Start to click the landmarks the case needs, one at a time."
            elif need:
                text = "Still missing: " + ", ".join(need) + ". Press Start to click them."
            else:
                text = "All landmarks clicked; choose 'clicked landmarks' and Fit overlay."
        else:
            n = self._clicked_ids().count(step.id) if step.several else 0
            extra = f" ({n} point(s) so far)" if step.several else ""
            text = (
                f"Step {self._step + 1} of {len(self._steps)}: click {step.name}{extra}. "
                f"{step.description}"
            )
        self.guide_label.setText(text)
        self.back_btn.setEnabled(step is not None and self._step > 0)
        self.next_btn.setEnabled(step is not None)
        self.done_btn.setEnabled(step is not None)

    def _on_clicked_data(self, event: Any = None) -> None:
        layer = self._clicked
        if layer is None:
            return
        action = str(getattr(event, "action", "added")).lower()
        if not action.endswith(("added", "removed", "changed")):
            return
        n = len(layer.data)
        if n > self._n_clicked and action.endswith("added") and self.current_step is not None:
            # napari selects the new point after this event and then copies the selected
            # point's features into the defaults: the next landmark is asked for once that is
            # done (the features event that ends the addition)
            self._pending_click = True
        self._n_clicked = n
        self._update_guide()

    def _on_clicked_features(self, event: Any = None) -> None:
        layer = self._clicked
        step = self.current_step
        if not self._pending_click or layer is None or step is None:
            return
        self._pending_click = False
        if step.several:
            self._set_defaults()
            self._update_guide()
            return
        ids = self._clicked_ids()
        # one point per landmark: the new click replaces an earlier one
        old = [i for i, v in enumerate(ids[:-1]) if v == step.id]
        if old:
            layer.selected_data = set(old)
            layer.remove_selected()
            self._n_clicked = len(layer.data)
        self.goto_step(self._first_missing(self._step + 1))

    def clicked_landmarks(self) -> Landmarks:
        """The landmark set of the ``Clicked landmarks`` layer."""
        if self._clicked is None:
            raise AnatomyError("No landmarks clicked yet. Fix: press Start and click them.")
        return landmarks_from_points_layer(self._clicked, float(self.radius_spin.value()))

    def save_landmarks(self, path: str | Path) -> Path:
        """Save the clicked landmarks as a landmarks JSON file (atomically)."""
        return self.clicked_landmarks().save_json(path)

    def load_landmarks(self, path: str | Path) -> Points:
        """Load a landmarks JSON file into the ``Clicked landmarks`` layer (replacing it)."""
        lm = Landmarks.load_json(path)
        layer = self._ensure_clicked_layer(lm)
        self.set_source(AnatomySource.POINTS_LAYER, layer=layer)
        self._update_guide()
        return layer

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save landmarks", "landmarks.json", "Landmarks (*.json)"
        )
        if path:
            out = self._try(lambda: self.save_landmarks(path))
            if out is not None:
                self.status_label.setText(f"Landmarks saved to {out}.")

    def _load_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load landmarks", "", "Landmarks (*.json)")
        if path:
            self._try(lambda: self.load_landmarks(path))


def _is_3d(layer: Any) -> bool:
    return int(getattr(layer, "ndim", 0)) == 3 and not getattr(layer, "rgb", False)


#: The plugin's name in napari.yaml and the widget's display name there.
PLUGIN_NAME = "ivcviewer"
WIDGET_NAME = "Case overlay"


def dock_case_overlay(viewer: napari.Viewer) -> CaseOverlayWidget:
    """Dock the Case overlay widget in ``viewer`` (the plugin's, when napari knows the plugin)."""
    window = viewer.window
    try:
        from npe2 import PluginManager

        PluginManager.instance().get_manifest(PLUGIN_NAME)
        _, widget = window.add_plugin_dock_widget(PLUGIN_NAME, WIDGET_NAME)
        if isinstance(widget, CaseOverlayWidget):
            return widget
    except KeyError:
        pass
    widget = CaseOverlayWidget(viewer)
    window.add_dock_widget(widget, name=WIDGET_NAME, area="right")
    return widget


__all__ = [
    "ALL_FINDINGS",
    "Anatomy",
    "AnatomySource",
    "CaseOverlayWidget",
    "FindingEntry",
    "GuideStep",
    "anatomy_from_labelmap",
    "anatomy_from_labelmap_file",
    "anatomy_from_phantom_truth",
    "clicked_layer_data",
    "dock_case_overlay",
    "finding_entries",
    "finding_html",
    "findings_layer_data",
    "findings_surfaces_layer_data",
    "guide_steps",
    "involvement_text",
    "landmarks_from_points_layer",
    "landmarks_layer_data",
]
