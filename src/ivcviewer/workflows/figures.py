"""Which views a figure of a fitted case shows: the plan that napari then renders.

Qt-free: the demo, ``scripts/render_figures.py``, ``ivcviewer render`` and the Case overlay's
views take their planes from here; :mod:`ivcviewer._napari.launch`, :mod:`ivcviewer._napari.demo`
and :mod:`ivcviewer._napari.render` draw them. :class:`RenderInputs` and :func:`fit_case` are
the inputs and the fit of ``ivcviewer render``, :data:`RENDER_SET` its output set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from .._atomic import SetKind, check_target
from ..annotations import Landmarks
from ..errors import AnatomyError, IvcviewerError
from ..report import ValidationMode

if TYPE_CHECKING:
    from ..annotations.overlay import OverlayResult
    from ..volume import Volume

#: Titles of the standard views, by figure name (the legend and the panel show them).
VIEW_TITLES: dict[str, str] = {
    "axial_renal_veins": "Axial at the renal veins",
    "coronal_ivc": "Coronal through the IVC",
    "sagittal_ivc": "Sagittal through the IVC",
    "3d": "3D, anterior view",
}

#: The one-page panel of all views, as an image and as a PDF.
PANEL_FILES: tuple[str, str] = ("panel.png", "panel.pdf")

#: What ``ivcviewer render`` writes into ``--out``: one PNG per view and the panel, completed by
#: the marker ``ivcviewer-complete.json``.
RENDER_SET = SetKind(
    "render",
    "figure set",
    frozenset({f"{name}.png" for name in VIEW_TITLES} | set(PANEL_FILES)),
)


@dataclass(frozen=True)
class FigureView:
    """One named view of a figure set.

    Attributes
    ----------
    name
        The figure's name (part of its file name), e.g. ``axial_renal_veins``.
    view
        The named view of :func:`ivcviewer._napari.launch.set_view`: ``axial``, ``coronal``,
        ``sagittal`` or ``3d``.
    point_lps
        The point the view goes through (LPS mm).
    """

    name: str
    view: str
    point_lps: tuple[float, float, float]


def case_figure_views(landmarks: Landmarks) -> tuple[FigureView, ...]:
    """The standard views of a case fitted on a CT, from the CT's landmarks.

    ``axial_renal_veins`` goes through the renal-vein confluence; ``coronal_ivc`` through the
    confluence moved to the mean antero-posterior position of the IVC centreline between the
    renal veins and the hepatic-vein confluence (so the plane runs along the vein);
    ``sagittal_ivc`` through the confluence moved to the centreline's mean left-right position
    there; ``3d`` is centred on the confluence.

    >>> lm = Landmarks.from_points({"renal_vein_confluence": [-20, -10, 0]},
    ...                            [[-24, 0, -50], [-22, 4, 50]], [10, 10])
    >>> [(v.name, v.point_lps[:2]) for v in case_figure_views(lm)]  # doctest: +NORMALIZE_WHITESPACE
    [('axial_renal_veins', (-20.0, -10.0)), ('coronal_ivc', (-20.0, 4.0)),
     ('sagittal_ivc', (-22.0, -10.0)), ('3d', (-20.0, -10.0))]
    """
    renal = landmarks.point("renal_vein_confluence")
    coronal = _along_ivc(landmarks, renal, axis=1)
    sagittal = _along_ivc(landmarks, renal, axis=0)
    return (
        FigureView("axial_renal_veins", "axial", _tuple(renal)),
        FigureView("coronal_ivc", "coronal", _tuple(coronal)),
        FigureView("sagittal_ivc", "sagittal", _tuple(sagittal)),
        FigureView("3d", "3d", _tuple(renal)),
    )


def _along_ivc(landmarks: Landmarks, renal: NDArray[np.float64], axis: int) -> NDArray[np.float64]:
    """``renal`` with its LPS coordinate ``axis`` moved to the IVC centreline's mean between the
    renal veins and the hepatic-vein confluence (unchanged without a centreline there)."""
    point = np.array(renal, dtype=float)
    c = landmarks.centreline_lps
    if c is None:
        return point
    top = (
        landmarks.z("hepatic_vein_confluence")
        if landmarks.has("hepatic_vein_confluence")
        else c[-1, 2]
    )
    sel = (c[:, 2] >= renal[2]) & (c[:, 2] <= top)
    if sel.any():
        point[axis] = float(c[sel, axis].mean())
    return point


def _tuple(p: NDArray[np.float64]) -> tuple[float, float, float]:
    return (float(p[0]), float(p[1]), float(p[2]))


@dataclass(frozen=True)
class RenderInputs:
    """What a figure set is made from: the CT, the case file and one anatomy source.

    Attributes
    ----------
    ct, case
        The CT (DICOM folder or file, or a volume file) and the case file.
    anatomy, anatomy_names, landmarks, phantom_truth
        The anatomy source, as the options of ``ivcviewer overlay`` (exactly one of
        ``anatomy``, ``landmarks`` and ``phantom_truth``).
    series, on_irregular
        Which series of a DICOM folder, and how an irregular stack is treated.
    """

    ct: str
    case: str
    anatomy: str | None = None
    anatomy_names: str | None = None
    landmarks: str | None = None
    phantom_truth: str | None = None
    series: str | None = None
    on_irregular: str = ValidationMode.RAISE.value

    def files(self) -> list[Path]:
        """Every input read (no output goes into their folders).

        >>> [p.as_posix() for p in RenderInputs("ct", "c.yaml", phantom_truth="ph").files()]
        ['ct', 'c.yaml', 'ph/landmarks.json']
        """
        from .overlay import overlay_input_files

        return overlay_input_files(
            self.ct,
            self.case,
            anatomy=self.anatomy,
            anatomy_names=self.anatomy_names,
            landmarks=self.landmarks,
            phantom_truth=self.phantom_truth,
        )

    def args(self) -> list[str]:
        """The command line of the napari renderer (``python -m ivcviewer._napari.render``).

        >>> RenderInputs("ct.nii", "c.yaml", anatomy="seg.nii").args()
        ['ct.nii', '--case', 'c.yaml', '--on-irregular', 'raise', '--anatomy', 'seg.nii']
        """
        out = [self.ct, "--case", self.case, "--on-irregular", self.on_irregular]
        for option, value in (
            ("--anatomy", self.anatomy),
            ("--anatomy-names", self.anatomy_names),
            ("--landmarks", self.landmarks),
            ("--phantom-truth", self.phantom_truth),
            ("--series", self.series),
        ):
            if value:
                out += [option, value]
        return out


def fit_case(inputs: RenderInputs) -> tuple[Volume, OverlayResult]:
    """Open the CT and fit the case on it from the anatomy source (as ``ivcviewer overlay``)."""
    from ..annotations import load_case
    from .anatomy import (
        anatomy_from_labelmap_file,
        anatomy_from_landmarks_file,
        anatomy_from_phantom_truth,
    )
    from .ct import open_ct
    from .overlay import fit_overlay

    if inputs.anatomy_names and not inputs.anatomy:
        raise AnatomyError(
            "--anatomy-names needs --anatomy (it names the values of that label map); remove "
            "it or give --anatomy LABELMAP."
        )
    case = load_case(inputs.case)
    ct = open_ct(inputs.ct, series=inputs.series, on_irregular=ValidationMode(inputs.on_irregular))
    if inputs.anatomy:
        anatomy = anatomy_from_labelmap_file(inputs.anatomy, case, inputs.anatomy_names, ct=ct)
    elif inputs.landmarks:
        anatomy = anatomy_from_landmarks_file(inputs.landmarks)
    elif inputs.phantom_truth:
        anatomy = anatomy_from_phantom_truth(inputs.phantom_truth, case)
    else:
        raise AnatomyError(
            "No anatomy source: give --anatomy LABELMAP, --landmarks JSON or --phantom-truth DIR."
        )
    return ct, fit_overlay(ct, case, anatomy, ct_name=inputs.ct)


def check_render_output(out: Path, inputs: Sequence[Path], *, force: bool = False) -> None:
    """Refuse an ``--out`` a figure set may not be written into, before anything is read.

    A file, a folder that is (or lies in) the folder of an input, or (without ``force``) a
    folder that holds other files than a figure set's.
    """
    from ..io.formats import check_output_path

    if out.exists() and not out.is_dir():
        raise IvcviewerError(f"--out {out}: is a file, not a folder. Fix: give a folder path.")
    probe = out / PANEL_FILES[0]
    try:
        check_output_path(probe, list(inputs), suffixes=(".png",))
    except IvcviewerError as err:
        raise type(err)(str(err).replace(str(probe), f"--out {out}", 1)) from err
    check_target(out, RENDER_SET, force=force, label=f"--out {out}")
