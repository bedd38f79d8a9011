"""Anatomy from a phantom's truth folder (as written by ``ivcviewer phantom``)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import AnatomyError
from ..io import load_labels, volume_format
from ..limits import Limits
from ..volume import Volume
from .anatomy import Landmarks
from .casefile import CaseFile
from .overlay.anatomy_access import anatomy_names_for_case


def find_truth_labelmap(folder: Path) -> Path | None:
    """The label map in a phantom's truth folder (the first volume file holding 'label').

    Only regular files count: a folder, FIFO or device of that name is never opened.
    """
    for p in sorted(folder.iterdir()):
        if _is_regular(p) and volume_format(p) is not None and "label" in p.name.lower():
            return p
    return None


def _is_regular(path: Path) -> bool:
    """Whether ``path`` is a regular file (following links), without opening it."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def phantom_truth_anatomy(
    folder: Path, case: CaseFile, limits: Limits | None = None
) -> tuple[Landmarks, Volume | None, dict[int, str] | None, list[Path]]:
    """Landmarks, label map, names and the files read, from a phantom's truth folder.

    The truth label map serves as anatomy: labels named after a solid finding are left out (the
    fit must not see the answer); a label named after a finding inside a vessel counts as part
    of that vessel (it fills the lumen). The rule is :func:`.overlay.anatomy_names_for_case`,
    which ``--anatomy`` label maps follow as well. A damaged ``landmarks.json`` is refused
    (:meth:`Landmarks.load_json`, within ``limits``); a folder without a truth label map gives
    the landmarks alone.
    """
    if not folder.is_dir():
        raise AnatomyError(
            f"{folder}: --phantom-truth must be a folder holding landmarks.json (written with "
            "the phantom). Fix: give the phantom's output folder."
        )
    lm_path = folder / "landmarks.json"
    if not os.path.lexists(lm_path):
        raise AnatomyError(
            f"{folder}: holds no landmarks.json. Fix: write the phantom with its truth "
            "('ivcviewer phantom ...') and give that folder."
        )
    landmarks = Landmarks.load_json(lm_path, limits)
    used = [lm_path]
    lab_path = find_truth_labelmap(folder)
    if lab_path is None:
        return landmarks, None, None, used
    labels, table = load_labels(lab_path)
    used.append(lab_path)
    names = anatomy_names_for_case(table.names, case, drop_solid_findings=True)
    return landmarks, labels, names, used
