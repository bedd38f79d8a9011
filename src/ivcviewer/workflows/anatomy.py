"""Where the anatomy that places a case's findings comes from, resolved the same way everywhere.

An :class:`Anatomy` is what :func:`ivcviewer.workflows.fit_overlay` needs: the CT's landmarks and,
when there is one, a label map with structure names. Each source has one function here; the
``overlay`` command and the Case overlay widget both call them, so a label map is read the same
way by both (a label named after a finding that fills a vessel, such as a tumour thrombus
labelled apart from the IVC, counts as that vessel before the landmarks are derived).
"""

from __future__ import annotations

import dataclasses
import enum
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..annotations import CaseFile, Landmarks, Provenance, landmarks_from_labelmap
from ..annotations import vocabulary as voc
from ..annotations.anatomy.reference_names import is_point_reference
from ..annotations.overlay import anatomy_names_for_case
from ..annotations.truth import phantom_truth_anatomy
from ..errors import AnatomyError
from ..interop.sniff import dicom_object_kind
from ..io import find_label_sidecar, load_labels
from ..volume import Volume

#: Radius given to clicked IVC centreline points that carry none (mm).
DEFAULT_CLICKED_RADIUS_MM = 10.0


class AnatomySource(str, enum.Enum):
    """Where the landmarks (and the anatomy label map) that place the findings come from."""

    PHANTOM_TRUTH = "phantom_truth"
    LABELMAP = "labelmap"
    LANDMARKS = "landmarks"
    POINTS = "points"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Anatomy:
    """Landmarks, and optionally a label map with structure names, ready for a fit.

    Attributes
    ----------
    landmarks
        The CT's landmarks (LPS mm) with their provenance.
    labels
        The anatomy label map (any grid), or None.
    names
        Label value -> structure name of ``labels``, the case's findings already resolved
        (:func:`ivcviewer.annotations.overlay.anatomy_names_for_case`).
    source
        The kind of source.
    description
        What the source was, for messages and reports (a file, a layer, a folder).
    files
        The files read (an output is never written into their folders).
    """

    landmarks: Landmarks
    labels: Volume | None = None
    names: dict[int, str] | None = None
    source: AnatomySource = AnatomySource.LANDMARKS
    description: str = ""
    files: tuple[Path, ...] = ()


def _described(landmarks: Landmarks, description: str) -> Landmarks:
    """``landmarks`` with ``description`` as its provenance's, unless it has one already."""
    if landmarks.provenance.description:
        return landmarks
    prov = dataclasses.replace(landmarks.provenance, description=description)
    return dataclasses.replace(landmarks, provenance=prov)


def anatomy_from_labelmap(
    labels: Volume,
    names: Mapping[int, str],
    case: CaseFile,
    description: str,
    files: Sequence[Path] = (),
    *,
    where: str | None = None,
) -> Anatomy:
    """Landmarks derived from a label map with structure names (TotalSegmentator's classes).

    A label named after a finding inside a vessel (its id or name) counts as that vessel: the
    finding fills the lumen, so the vessel is the vessel's own label with that label.

    Raises
    ------
    AnatomyError
        A structure the case needs is missing; the message starts with ``where`` (the files
        the map and its names came from), else ``description``.
    """
    resolved = anatomy_names_for_case({int(v): str(n) for v, n in names.items()}, case)
    try:
        lm = landmarks_from_labelmap(labels, resolved, required=case.required_landmarks())
    except AnatomyError as err:
        raise AnatomyError(f"{where or description}: {err}") from err
    return Anatomy(
        _described(lm, description),
        labels,
        resolved,
        AnatomySource.LABELMAP,
        description,
        tuple(files),
    )


def anatomy_from_labelmap_file(
    path: str | Path,
    case: CaseFile,
    names_path: str | Path | None = None,
    *,
    ct: Volume | None = None,
) -> Anatomy:
    """Landmarks derived from a label map file (names from ``names_path`` or its sidecar).

    A DICOM SEG or RTSTRUCT is read by :func:`anatomy_from_dicom_object` on ``ct`` (its
    segments name themselves, so ``names_path`` is refused with it).
    """
    kind = dicom_object_kind(path)
    if kind in ("seg", "rtstruct"):
        if names_path:
            raise AnatomyError(
                f"{names_path}: a label table is not used with {path}, a DICOM "
                f"{kind.upper()} whose segments carry their own names. Fix: leave the table out."
            )
        return anatomy_from_dicom_object(path, case, ct)
    labels, table = load_labels(path, names_path if names_path else None)
    table_path = Path(names_path) if names_path else find_label_sidecar(path)
    files = [Path(path)] + ([table_path] if table_path is not None else [])
    # a missing structure may come from the table as much as from the map: name both
    where = str(path) if table_path is None else f"{path} (names from {table_path})"
    return anatomy_from_labelmap(labels, table.names, case, str(path), files, where=where)


def anatomy_from_dicom_object(
    path: str | Path, case: CaseFile, ct: Volume | None = None
) -> Anatomy:
    """Landmarks derived from a DICOM SEG (binary or labelmap) or RTSTRUCT made on ``ct``.

    The segments are placed on ``ct``'s grid (a SEG without ``ct``: on its own grid; an
    RTSTRUCT needs ``ct``) and matched to structure names by their codes, else their labels
    (:func:`ivcviewer.interop.seg_read.structure_names`). What the reader decided (overlapping
    segments, a placement by positions only) is issued as warnings.

    Raises
    ------
    AnatomyError
        ``path`` is neither, an RTSTRUCT comes without its CT, or a structure is missing.
    SegmentationError
        The object is damaged, fractional or made on another CT.
    """
    from ..interop.rtstruct_read import read_rtstruct
    from ..interop.seg_read import read_segmentation, structure_names

    kind = dicom_object_kind(path)
    if kind == "seg":
        result = read_segmentation(path, ct)
    elif kind == "rtstruct" and ct is not None:
        result = read_rtstruct(path, ct)
    elif kind == "rtstruct":
        raise AnatomyError(
            f"{path}: an RTSTRUCT's contours are filled on the CT they were drawn on, and no CT "
            "was given. Fix: give the CT series it references."
        )
    else:
        raise AnatomyError(
            f"{path}: is not a DICOM SEG or RTSTRUCT (read from its header). Fix: give the "
            "segmentation file, or a label map with its names."
        )
    for note in result.report:
        warnings.warn(note, stacklevel=2)
    return anatomy_from_labelmap(
        result.labels,
        structure_names(result),
        case,
        f"{path} ({result.source_kind})",
        [Path(path)],
        where=str(path),
    )


def anatomy_from_landmarks_file(path: str | Path) -> Anatomy:
    """The landmarks of a landmarks JSON file (LPS mm), with no label map."""
    lm = Landmarks.load_json(path)
    return Anatomy(lm, None, None, AnatomySource.LANDMARKS, str(path), (Path(path),))


def anatomy_from_phantom_truth(folder: str | Path, case: CaseFile) -> Anatomy:
    """The anatomy of a phantom's truth folder (``landmarks.json`` and its truth label map).

    The labels of the solid findings are left out (the fit must not see the answer); a label
    named after a finding inside a vessel counts as that vessel.
    """
    landmarks, labels, names, used = phantom_truth_anatomy(Path(folder), case)
    return Anatomy(
        landmarks,
        labels,
        names,
        AnatomySource.PHANTOM_TRUTH,
        f"the phantom truth in {folder}",
        tuple(used),
    )


def anatomy_from_points(
    ids: Sequence[str],
    points_lps: ArrayLike,
    radii_mm: ArrayLike | None = None,
    *,
    description: str = "clicked points",
    default_radius_mm: float = DEFAULT_CLICKED_RADIUS_MM,
) -> Anatomy:
    """The landmark set of named points (clicked in a viewer, or read from anywhere).

    Point landmarks take the last point with their name; points named ``ivc_centreline`` make
    the IVC centreline (sorted feet to head, points on one level averaged), each with its radius
    from ``radii_mm`` (NaN: ``default_radius_mm``).

    Raises
    ------
    AnatomyError
        When no point is a landmark, a name is unknown, or the centreline has fewer than two
        levels.

    Examples
    --------
    >>> a = anatomy_from_points(
    ...     ["renal_vein_confluence", "ivc_centreline", "ivc_centreline"],
    ...     [[0, 0, 0], [1, 2, 10], [1, 2, -10]])
    >>> a.landmarks.centreline_lps[:, 2].tolist(), a.landmarks.centreline_radius_mm.tolist()
    ([-10.0, 10.0], [10.0, 10.0])
    """
    lps = np.asarray(points_lps, dtype=float).reshape(-1, 3)
    if len(ids) != len(lps):
        raise AnatomyError(
            f"{description}: {len(ids)} names for {len(lps)} points. Fix: name every point."
        )
    radii = (
        np.full(len(ids), np.nan)
        if radii_mm is None
        else np.asarray(radii_mm, dtype=float).reshape(-1)
    )
    points: dict[str, NDArray[np.float64]] = {}
    centre: list[tuple[NDArray[np.float64], float]] = []
    for i, name in enumerate(ids):
        if name == "ivc_centreline":
            r = float(radii[i]) if math.isfinite(float(radii[i])) else float(default_radius_mm)
            centre.append((lps[i], r))
        elif name in voc.POINT_LANDMARKS or is_point_reference(name, True):
            points[name] = lps[i]
        else:
            hint = voc.closest(name, voc.LANDMARKS)
            raise AnatomyError(
                f"{description}: point {i} is named {name!r}, neither a landmark "
                f"(known: {', '.join(voc.LANDMARKS)}) nor a point reference such as "
                "'kidney_left.centroid'." + (f" Fix: rename it {hint!r}." if hint else "")
            )
    if not points and not centre:
        raise AnatomyError(f"{description} holds no landmark. Fix: click the landmarks first.")
    c_lps, c_r = _centreline(centre, description)
    methods = {n: "clicked" for n in points}
    if centre:
        methods["ivc_centreline"] = "clicked points, sorted feet to head"
    lm = Landmarks.from_points(points, c_lps, c_r, Provenance("points", description, methods))
    return Anatomy(lm, None, None, AnatomySource.POINTS, description)


def _centreline(
    centre: list[tuple[NDArray[np.float64], float]], description: str
) -> tuple[NDArray[np.float64] | None, NDArray[np.float64] | None]:
    """Centreline points and radii, one per level (z rounded to 1 µm), feet to head."""
    if not centre:
        return None, None
    arr = np.array([p for p, _ in centre])
    rad = np.array([r for _, r in centre])
    zs = np.round(arr[:, 2], 3)
    levels = np.unique(zs)
    if len(levels) < 2:
        raise AnatomyError(
            f"{description}: the IVC centreline needs points on at least two levels, got "
            f"{len(levels)}. Fix: click the IVC's centre on more slices."
        )
    return (
        np.array([arr[zs == z].mean(axis=0) for z in levels]),
        np.array([rad[zs == z].mean() for z in levels]),
    )
