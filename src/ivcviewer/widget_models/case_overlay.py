"""The state of the Case overlay widget, without Qt or napari.

:class:`CaseOverlayModel` holds what the widget shows and does: the case file, the anatomy
source chosen (:class:`AnatomyInput`) and its path, the last fit and its findings list, the
finding selected, and the guided landmark clicking (:class:`~.landmark_guide.LandmarkGuide`).
It resolves the anatomy and fits through :mod:`ivcviewer.workflows` (the calls the ``overlay``
command makes), so a label map is read the same way by both.

The widget only reads napari layers into plain data (:class:`LabelmapInput`,
:class:`PointsInput`, a CT :class:`~ivcviewer.volume.Volume`), calls the model, and redraws
when the model's listeners call it.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import workflows
from ..annotations import CaseFile, Landmarks, load_case
from ..annotations.overlay import BoneSource, OverlayResult
from ..errors import AnatomyError, IvcviewerError
from ..volume import Volume
from ..workflows.anatomy import DEFAULT_CLICKED_RADIUS_MM
from ..workflows.findings_table import ALL_FINDINGS, involvement_row, render_html
from .findings_tour import FindingEntry, finding_entries
from .landmark_guide import LandmarkGuide, guide_steps, landmark_colour
from .layer_metadata import CaseLayerInfo, OverlayLayerKind
from .listeners import Listeners


def shipped_case_title(path: Path) -> str:
    """How a shipped case file is listed: its title, marked when it is a teaching example
    (the file name when it cannot be read).

    >>> from ivcviewer.annotations import default_case_path
    >>> shipped_case_title(default_case_path())
    'Retroperitoneal leiomyosarcoma invading the inferior vena cava'
    """
    try:
        case = load_case(path).case
    except IvcviewerError:
        return path.name
    return case.title


class AnatomyInput(str, enum.Enum):
    """The anatomy sources the widget offers (its values are what the widget shows)."""

    PHANTOM_TRUTH = "phantom truth folder"
    LABELMAP_LAYER = "label map layer (structure names)"
    LABELMAP_FILE = "label map file (structure names)"
    LANDMARKS_JSON = "landmarks JSON file"
    POINTS_LAYER = "clicked landmarks (Points layer)"

    @property
    def kind(self) -> workflows.AnatomySource:
        """The kind of anatomy it gives (:class:`ivcviewer.workflows.AnatomySource`)."""
        return {
            AnatomyInput.PHANTOM_TRUTH: workflows.AnatomySource.PHANTOM_TRUTH,
            AnatomyInput.LABELMAP_LAYER: workflows.AnatomySource.LABELMAP,
            AnatomyInput.LABELMAP_FILE: workflows.AnatomySource.LABELMAP,
            AnatomyInput.LANDMARKS_JSON: workflows.AnatomySource.LANDMARKS,
            AnatomyInput.POINTS_LAYER: workflows.AnatomySource.POINTS,
        }[self]

    @property
    def needs_path(self) -> bool:
        """It is a folder or a file (not a layer)."""
        return self not in (AnatomyInput.LABELMAP_LAYER, AnatomyInput.POINTS_LAYER)


@dataclass(frozen=True)
class LabelmapInput:
    """A label map read from a Labels layer: its Volume, structure names and description."""

    labels: Volume
    names: Mapping[int, str]
    description: str


@dataclass(frozen=True)
class PointsInput:
    """Named points read from a Points layer (LPS mm; radii NaN where none)."""

    ids: tuple[str, ...]
    points_lps: NDArray[np.float64]
    radii_mm: NDArray[np.float64] | None = None
    description: str = "clicked points"


@dataclass
class _Events:
    """The model's listeners, one per kind of change."""

    case_changed: Listeners = field(default_factory=Listeners)
    source_changed: Listeners = field(default_factory=Listeners)
    fitted: Listeners = field(default_factory=Listeners)
    selection_changed: Listeners = field(default_factory=Listeners)
    status_changed: Listeners = field(default_factory=Listeners)


class CaseOverlayModel:
    """What the Case overlay widget holds and does.

    Listeners (attributes of :attr:`events`): ``case_changed`` (the CaseFile),
    ``source_changed`` (the :class:`AnatomyInput`), ``fitted`` (the OverlayResult),
    ``selection_changed`` (the :class:`FindingEntry`), ``status_changed`` (the status line).
    The guide's own listeners are on :attr:`guide`.

    Examples
    --------
    >>> from ivcviewer.annotations import default_case_path
    >>> m = CaseOverlayModel()
    >>> shown = []
    >>> m.events.status_changed.connect(shown.append)
    >>> m.set_case(default_case_path()).case.id == m.case.case.id
    True
    >>> shown[-1].startswith("Case: ")
    True
    >>> m.set_source(AnatomyInput.LANDMARKS_JSON)
    >>> try:
    ...     m.resolve_anatomy()
    ... except ValueError as err:
    ...     print(err)
    Anatomy source 'landmarks JSON file': no path given. Fix: choose one.
    """

    def __init__(self) -> None:
        self.case: CaseFile | None = None
        self.source = AnatomyInput.PHANTOM_TRUTH
        self.paths: dict[AnatomyInput, str] = {}
        self.names_path = ""
        self.radius_mm = DEFAULT_CLICKED_RADIUS_MM
        self.bone = BoneSource.LABELS_AND_CT
        self.result: OverlayResult | None = None
        self.anatomy: workflows.Anatomy | None = None
        self.ct: Volume | None = None
        self.entries: tuple[FindingEntry, ...] = ()
        self.selected: FindingEntry | None = None
        self.status = ""
        self.guide = LandmarkGuide()
        self.events = _Events()
        self.guide.finished.connect(self._guide_finished)

    # -- inputs -----------------------------------------------------------------------------

    def set_case(self, path: str | Path) -> CaseFile:
        """Use the case file at ``path`` (validated; the previous case stays on error)."""
        case = load_case(path)
        self.case = case
        self.guide.set_steps(guide_steps(case))
        self.events.case_changed.emit(case)
        self.set_status(f"Case: {case.case.title}")
        return case

    def require_case(self) -> CaseFile:
        """The case file; an error that says how to choose one when there is none."""
        if self.case is None:
            raise AnatomyError("No case file chosen. Fix: choose one (or the packaged case).")
        return self.case

    def set_source(
        self,
        source: AnatomyInput | str,
        path: str | Path | None = None,
        names_path: str | Path | None = None,
    ) -> None:
        """Choose the anatomy source, and its folder or file."""
        src = AnatomyInput(source)
        self.source = src
        if path is not None and src.needs_path:
            self.paths[src] = str(path)
        if names_path is not None:
            self.names_path = str(names_path)
        self.events.source_changed.emit(src)

    def set_path(self, source: AnatomyInput, path: str) -> None:
        """The folder or file of ``source`` (as typed; nothing is read yet)."""
        self.paths[AnatomyInput(source)] = str(path)

    def path_of(self, source: AnatomyInput) -> str:
        """The folder or file of ``source``; an error when none was given."""
        text = self.paths.get(source, "").strip()
        if not text:
            raise AnatomyError(f"Anatomy source '{source.value}': no path given. Fix: choose one.")
        return text

    def set_status(self, text: str) -> None:
        """The status line."""
        self.status = text
        self.events.status_changed.emit(text)

    # -- anatomy and fit --------------------------------------------------------------------

    def resolve_anatomy(
        self,
        labelmap: LabelmapInput | None = None,
        points: PointsInput | None = None,
        ct: Volume | None = None,
    ) -> workflows.Anatomy:
        """The anatomy of the chosen source (``labelmap`` / ``points``: the layer's data).

        ``ct`` is the CT fitted on: a label map file that is a DICOM SEG or RTSTRUCT is placed
        on its grid (an RTSTRUCT's contours are filled on it, so it needs one).

        Raises
        ------
        AnatomyError
            No case, no path, no layer, a layer without names, and the workflows' errors.
        """
        case = self.require_case()
        src = self.source
        if src == AnatomyInput.PHANTOM_TRUTH:
            return workflows.anatomy_from_phantom_truth(self.path_of(src), case)
        if src == AnatomyInput.LABELMAP_FILE:
            names = self.names_path.strip() or None
            return workflows.anatomy_from_labelmap_file(self.path_of(src), case, names, ct=ct)
        if src == AnatomyInput.LANDMARKS_JSON:
            return workflows.anatomy_from_landmarks_file(self.path_of(src))
        if src == AnatomyInput.LABELMAP_LAYER:
            if labelmap is None:
                raise AnatomyError("No Labels layer to take the anatomy from. Fix: open one.")
            if not labelmap.names:
                raise AnatomyError(
                    f"{labelmap.description} has no structure names. Fix: open the label map "
                    "with its names (a <stem>_labels.json beside it) or use the label map file "
                    "source with a names file."
                )
            return workflows.anatomy_from_labelmap(
                labelmap.labels, labelmap.names, case, labelmap.description
            )
        if points is None:
            raise AnatomyError("No Points layer of clicked landmarks. Fix: click them first.")
        return self.anatomy_of_points(points)

    def anatomy_of_points(self, points: PointsInput) -> workflows.Anatomy:
        """The anatomy of named points; centreline points without a radius get
        :attr:`radius_mm`."""
        return workflows.anatomy_from_points(
            points.ids,
            points.points_lps,
            points.radii_mm,
            description=points.description,
            default_radius_mm=self.radius_mm,
        )

    def clicked_landmarks(self, points: PointsInput) -> Landmarks:
        """The landmark set of clicked points."""
        return self.anatomy_of_points(points).landmarks

    def fit(
        self,
        ct: Volume,
        ct_name: str,
        *,
        labelmap: LabelmapInput | None = None,
        points: PointsInput | None = None,
    ) -> OverlayResult:
        """Fit the case to ``ct`` (:func:`ivcviewer.workflows.fit_overlay`) and show it.

        On an error the previous fit stays.
        """
        case = self.require_case()
        anatomy = self.resolve_anatomy(labelmap, points, ct)
        result = workflows.fit_overlay(
            ct, case, anatomy, bone=self.bone, ct_name=f"CT layer {ct_name!r}"
        )
        self.result, self.anatomy, self.ct = result, anatomy, ct
        self.entries = tuple(finding_entries(result))
        self.selected = None
        n_warn = len(result.warnings) + sum(len(f.warnings) for f in result.findings)
        self.events.fitted.emit(result)
        self.set_status(
            f"Fitted {len(result.findings)} findings of '{case.case.id}' on '{ct_name}' "
            f"from {anatomy.description or anatomy.landmarks.provenance.source}"
            + (f"; {n_warn} warning(s), see the findings" if n_warn else "")
            + "."
        )
        self.select(ALL_FINDINGS)
        return result

    # -- the findings tour ------------------------------------------------------------------

    def finding_keys(self) -> list[str]:
        """The keys of the findings list, in order."""
        return [e.key for e in self.entries]

    def select(self, key: str) -> FindingEntry:
        """Select an entry of the findings list (by id, or :data:`ALL_FINDINGS`).

        Raises
        ------
        KeyError
            No entry has that key.
        """
        keys = self.finding_keys()
        if key not in keys:
            raise KeyError(f"No finding {key!r} in the list; the list holds {keys}.")
        entry = self.entries[keys.index(key)]
        self.selected = entry
        self.events.selection_changed.emit(entry)
        return entry

    def details_html(self, key: str | None = None) -> str:
        """The details of an entry (default: the selected one) as HTML; empty before a fit."""
        if self.result is None:
            return ""
        if key is None:
            key = self.selected.key if self.selected is not None else ALL_FINDINGS
        return render_html(self.result, key)

    def level_text(self) -> str:
        """One line: the IVC level computed, and what the case file expects."""
        return "" if self.result is None else involvement_row(self.result).headline

    def point_landmark(self, finding_id: str) -> str:
        """The landmark a point finding sits at (empty when none)."""
        if self.result is not None:
            for p in self.result.points:
                if p.finding_id == finding_id:
                    return p.landmark
        return ""

    def layer_info(self, kind: OverlayLayerKind) -> CaseLayerInfo:
        """The metadata record of a layer showing the last fit (or the case chosen)."""
        if self.result is not None:
            return CaseLayerInfo.of_result(self.result, kind)
        case = self.case
        return CaseLayerInfo(
            kind, "" if case is None else str(case.path), "" if case is None else case.case.id
        )

    # -- guided clicking --------------------------------------------------------------------

    def start_guide(self) -> None:
        """Ask for the case's landmarks one at a time."""
        self.require_case()
        self.guide.start()

    def finish_guide(self) -> None:
        """Stop asking; the clicked points become the anatomy source when there are any."""
        self.guide.finish()

    def _guide_finished(self) -> None:
        if self.guide.has_layer:
            self.set_source(AnatomyInput.POINTS_LAYER)

    def click_defaults(self) -> tuple[dict[str, Any], str] | None:
        """The feature values and colour of the next click (None when not guiding)."""
        step = self.guide.current
        if step is None or self.case is None:
            return None
        features = {
            "landmark": step.id,
            "name": step.name,
            "radius_mm": float(self.radius_mm) if step.several else math.nan,
        }
        return features, landmark_colour(self.case, step.id)


def points_input(
    ids: Sequence[Any],
    points_lps: Any,
    radii_mm: Any | None,
    description: str,
) -> PointsInput:
    """A :class:`PointsInput` from columns (ids as strings, points as an ``(n, 3)`` array)."""
    lps = np.asarray(points_lps, dtype=float).reshape(-1, 3)
    radii = None if radii_mm is None else np.asarray(radii_mm, dtype=float).reshape(-1)
    return PointsInput(tuple(str(v) for v in ids), lps, radii, description)
