"""napari sample data: the case phantom and a real CT (File > Open Sample > ivcviewer).

* **Case phantom CT**: the synthetic abdominal CT with the case's findings, read from its DICOM
  series as any CT is (so the layer carries its geometry report and window).
* **Case phantom CT with truth labels**: the same CT, the truth label map (every structure and
  the two findings, named and coloured) and the truth landmarks (named points).
* **Real abdominal CT with anatomy**: the TotalSegmentator example CT shipped with ivcviewer
  (:func:`ivcviewer.sample_data.real_abdominal_ct`, CC BY 4.0) and its anatomy label map (62
  structures, named and coloured), ready for the *Case overlay* widget's "label map layer"
  source.

Each sample's CT layer names its own anatomy source in its metadata
(:data:`ANATOMY_SOURCE_KEY`, read by :func:`anatomy_source_of`): the phantom's truth folder, or
the real CT's anatomy label map file with its names. The *Case overlay* widget fills that
source in when the CT is chosen, so **Fit overlay** works at once.

The phantom is generated on first use and kept in the user cache
(:func:`ivcviewer.phantom.cached_phantom`, about 10 s for the standard size, a second after
that). Nothing is downloaded. Any failure is raised as an :class:`~ivcviewer.errors.IvcviewerError`
with one clear line (napari shows it as an error notification): a library's own exception
is not passed on as it is.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ..annotations import Landmarks, default_case_path, load_case
from ..annotations import vocabulary as voc
from ..errors import IvcviewerError
from ..io import load_labels, open_path
from ..phantom import cached_phantom
from ..phantom.output import CT_DIR, LABELS_FILE, LANDMARKS_FILE
from ..report import ValidationMode
from ..sample_data import real_abdominal_ct
from ..widget_models import AnatomyInput
from .layers import (
    LayerDataTuple,
    image_layer_data,
    labels_layer_data,
    landmark_points_layer_data,
)

#: Phantom size the sample data use (``small`` for quick tests).
DEFAULT_SIZE = "standard"

#: Layer names.
CT_NAME = "Case phantom CT"
TRUTH_NAME = "Case phantom truth labels"
LANDMARKS_NAME = "Case phantom truth landmarks"

#: Layer names of the real CT sample.
REAL_CT_NAME = "Real abdominal CT"
REAL_ANATOMY_NAME = "Real abdominal CT anatomy labels"

#: Opacity of the truth labels over the CT.
TRUTH_OPACITY = 0.35

#: The CT layer's metadata entry naming the sample's anatomy source: ``{"source": <an
#: AnatomyInput value>, "path": <folder or file>, "names": <label names file, optional>}``.
ANATOMY_SOURCE_KEY = "ivcviewer_anatomy_source"


def anatomy_source_entry(
    source: AnatomyInput, path: str | Path, names: str | Path | None = None
) -> dict[str, str]:
    """The metadata entry (:data:`ANATOMY_SOURCE_KEY`) of an anatomy source.

    >>> anatomy_source_entry(AnatomyInput.PHANTOM_TRUTH, "ph")
    {'source': 'phantom truth folder', 'path': 'ph'}
    """
    entry = {"source": AnatomyInput(source).value, "path": str(path)}
    if names is not None:
        entry["names"] = str(names)
    return entry


def anatomy_source_of(metadata: Any) -> tuple[AnatomyInput, str, str | None] | None:
    """The anatomy source a layer's metadata names (source, path, names file), or None.

    >>> anatomy_source_of({ANATOMY_SOURCE_KEY: anatomy_source_entry("phantom truth folder", "ph")})
    (<AnatomyInput.PHANTOM_TRUTH: 'phantom truth folder'>, 'ph', None)
    >>> anatomy_source_of({}), anatomy_source_of({ANATOMY_SOURCE_KEY: {"source": "?"}})
    (None, None)
    """
    entry = metadata.get(ANATOMY_SOURCE_KEY) if isinstance(metadata, dict) else None
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
        return None
    try:
        source = AnatomyInput(entry.get("source"))
    except ValueError:
        return None
    names = entry.get("names")
    return source, entry["path"], names if isinstance(names, str) else None


_F = TypeVar("_F", bound=Callable[..., Any])


def _one_line_errors(title: str) -> Callable[[_F], _F]:
    """Turn any exception of a sample's loader into an IvcviewerError with one clear line."""

    def wrap(fn: _F) -> _F:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            from .reader import failure_text

            try:
                return fn(*args, **kwargs)
            except IvcviewerError:
                raise
            except Exception as err:  # the sample's boundary: one clear line
                raise IvcviewerError(failure_text(err, f"Sample data {title!r}")) from err

        return run  # type: ignore[return-value]

    return wrap


def phantom_folder(size: str = DEFAULT_SIZE, seed: int = 0) -> Path:
    """The cached phantom's folder (generated the first time)."""
    return cached_phantom(size, seed=seed)


def _ct_layer(folder: Path) -> LayerDataTuple:
    vols = open_path(folder / CT_DIR, on_irregular=ValidationMode.RAISE)
    if len(vols) != 1:
        raise IvcviewerError(
            f"{folder / CT_DIR}: expected one CT series in the phantom folder, found {len(vols)}; "
            "delete the folder so that it is generated again."
        )
    ct = image_layer_data(vols[0], name=CT_NAME)
    ct[1]["metadata"][ANATOMY_SOURCE_KEY] = anatomy_source_entry(AnatomyInput.PHANTOM_TRUTH, folder)
    return ct


@_one_line_errors("Case phantom CT")
def phantom_ct(size: str = DEFAULT_SIZE) -> list[LayerDataTuple]:
    """Sample data "Case phantom CT": one Image layer (HU, mm, window 400/40)."""
    return [_ct_layer(phantom_folder(size))]


def truth_landmarks_layer_data(
    landmarks: Landmarks, reference: Any = None, name: str = LANDMARKS_NAME
) -> LayerDataTuple:
    """The truth landmarks as named points, with the case file's display names and colours."""
    case = load_case(default_case_path())
    ids = [n for n in voc.POINT_LANDMARKS if n in landmarks.points_lps]
    specs = [case.landmark_spec(n) for n in ids]
    return landmark_points_layer_data(
        [landmarks.points_lps[n] for n in ids],
        {"name": [s.name for s in specs], "landmark": ids},
        reference=reference,
        colors=[s.colour for s in specs],
        name=name,
    )


@_one_line_errors("Case phantom CT with truth labels")
def phantom_ct_with_truth(size: str = DEFAULT_SIZE) -> list[LayerDataTuple]:
    """Sample data "Case phantom CT with truth labels": CT, truth labels and truth landmarks."""
    folder = phantom_folder(size)
    ct = _ct_layer(folder)
    labels, table = load_labels(folder / LABELS_FILE)
    truth = labels_layer_data(labels, table, name=TRUTH_NAME, opacity=TRUTH_OPACITY)
    landmarks = Landmarks.load_json(folder / LANDMARKS_FILE)
    reference = ct[1]["metadata"].get("ivcviewer_volume")
    points = truth_landmarks_layer_data(landmarks, reference)
    return [ct, truth, points]


@_one_line_errors("Real abdominal CT with anatomy")
def real_ct_with_anatomy() -> list[LayerDataTuple]:
    """Sample data "Real abdominal CT with anatomy": the CT and its anatomy label map.

    The CT is an Image layer (HU, mm, abdomen window) as the reader makes it; the label map a
    Labels layer on the same world positions with the structure names (``features`` and
    ``metadata["label_names"]``, as the phantom's truth labels), so that the *Case overlay*
    widget fits the case from it.
    """
    sample = real_abdominal_ct()
    vols = open_path(sample.ct)
    if len(vols) != 1:
        raise IvcviewerError(
            f"{sample.ct}: expected one CT volume in the sample file, found {len(vols)}; "
            "reinstall ivcviewer to restore it."
        )
    ct = image_layer_data(vols[0], name=REAL_CT_NAME)
    ct[1]["metadata"][ANATOMY_SOURCE_KEY] = anatomy_source_entry(
        AnatomyInput.LABELMAP_FILE, sample.labels, sample.names
    )
    labels, table = load_labels(sample.labels, sample.names)
    anatomy = labels_layer_data(labels, table, name=REAL_ANATOMY_NAME, opacity=TRUTH_OPACITY)
    return [ct, anatomy]


__all__ = [
    "ANATOMY_SOURCE_KEY",
    "CT_NAME",
    "DEFAULT_SIZE",
    "LANDMARKS_NAME",
    "REAL_ANATOMY_NAME",
    "REAL_CT_NAME",
    "TRUTH_NAME",
    "anatomy_source_entry",
    "anatomy_source_of",
    "phantom_ct",
    "phantom_ct_with_truth",
    "phantom_folder",
    "real_ct_with_anatomy",
    "truth_landmarks_layer_data",
]
