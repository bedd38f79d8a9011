"""Anatomy from a phantom's truth folder (as written by ``ivcviewer phantom``)."""

from __future__ import annotations

from pathlib import Path

from ..errors import AnatomyError
from ..io import load_labels, volume_format
from ..volume import Volume
from .anatomy import Landmarks
from .casefile import CaseFile
from .overlay.anatomy_access import anatomy_names_for_case


def find_truth_labelmap(folder: Path) -> Path | None:
    """The label map in a phantom's truth folder (the first volume file holding 'label')."""
    for p in sorted(folder.iterdir()):
        if p.is_file() and volume_format(p) is not None and "label" in p.name.lower():
            return p
    return None


def phantom_truth_anatomy(
    folder: Path, case: CaseFile
) -> tuple[Landmarks, Volume | None, dict[int, str] | None, list[Path]]:
    """Landmarks, label map, names and the files read, from a phantom's truth folder.

    The truth label map serves as anatomy: labels named after a solid finding are left out (the
    fit must not see the answer); a label named after a finding inside a vessel counts as part
    of that vessel (it fills the lumen). The rule is :func:`.overlay.anatomy_names_for_case`,
    which ``--anatomy`` label maps follow as well.
    """
    if not folder.is_dir():
        raise AnatomyError(
            f"{folder}: --phantom-truth must be a folder holding landmarks.json (written with "
            "the phantom). Fix: give the phantom's output folder."
        )
    lm_path = folder / "landmarks.json"
    if not lm_path.is_file():
        raise AnatomyError(
            f"{folder}: holds no landmarks.json. Fix: write the phantom with its truth "
            "('ivcviewer phantom ...') and give that folder."
        )
    landmarks = Landmarks.load_json(lm_path)
    used = [lm_path]
    lab_path = find_truth_labelmap(folder)
    if lab_path is None:
        return landmarks, None, None, used
    labels, table = load_labels(lab_path)
    used.append(lab_path)
    names = anatomy_names_for_case(table.names, case, drop_solid_findings=True)
    return landmarks, labels, names, used
