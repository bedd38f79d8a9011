"""Writing case files: the template, the check, and a finding from a region drawn on a CT.

The ``ivcviewer case`` command and the napari dock "Finding from drawing" both call these:
:func:`write_case_template` (``case new``), :func:`check_case_file` (``case check``) and
:func:`add_drawn_finding` (``case from-drawing`` and the dock's "Add to case file").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import write_text
from ..annotations import CaseFile, load_case
from ..annotations.authoring import CASE_SUFFIXES, case_template, finding_from_region
from ..annotations.authoring.case_text import add_finding, finding_yaml
from ..errors import IvcviewerError
from ..io.formats import check_output_path
from ..volume import Volume


def write_case_template(out: str | Path, *, force: bool = False) -> Path:
    """Write the commented case-file template to ``out`` (atomically).

    Raises
    ------
    IvcviewerError
        ``out`` does not end with ``.yaml``/``.yml``, exists (without ``force``), is a folder,
        or its folder does not exist.
    """
    p = Path(out)
    _check_case_name(p, "--out")
    if p.is_dir():
        raise IvcviewerError(f"--out {p}: is a folder. Fix: give a file name ending with .yaml.")
    if p.exists() and not force:
        raise IvcviewerError(
            f"--out {p}: the file exists. Fix: give another name, or add --force to replace it."
        )
    if not p.parent.is_dir():
        raise IvcviewerError(
            f"--out {p}: the folder {p.parent} does not exist. Fix: create it or give another path."
        )
    return write_text(p, case_template())


def _check_case_name(p: Path, option: str) -> None:
    if not p.name.lower().endswith(CASE_SUFFIXES):
        raise IvcviewerError(
            f"{option} {p}: a case file's name must end with .yaml or .yml. Fix: give such a name."
        )


def case_summary(case: CaseFile) -> str:
    """One paragraph on a valid case file: its findings, rules and the references it needs."""
    kinds = ", ".join(f"{f.id} ({f.kind})" for f in case.findings)
    rules = Counter(str(r.rule) for f in case.findings for r in f.relations.rules)
    placements = [
        f"{f.id}: {f.relations.placement.rule}"
        for f in case.findings
        if f.relations.placement is not None
    ]
    parts = [
        f"{case.path}: a valid case file ({case.case.id}; {case.source_text.rstrip('.')})",
        f"{len(case.findings)} finding(s): {kinds}",
        "placements: " + (", ".join(placements) or "none"),
        "rules: " + (", ".join(f"{n} x {r}" for r, n in sorted(rules.items())) or "none"),
        "landmarks needed: " + (", ".join(case.required_landmarks()) or "none"),
        "structure references needed: " + (", ".join(case.required_references()) or "none"),
        "structures named: " + (", ".join(case.required_structures()) or "none"),
    ]
    return "; ".join(parts) + "."


def check_case_file(path: str | Path) -> str:
    """The summary of a valid case file (:class:`CaseFileError` naming the problem if not)."""
    return case_summary(load_case(path))


@dataclass(frozen=True)
class DrawnFinding:
    """A finding made from a drawn region and the case file it was added to."""

    finding: dict[str, Any]
    case_path: Path

    @property
    def yaml_text(self) -> str:
        """The finding as the case file holds it."""
        return finding_yaml(self.finding)


def region_of_label(region_labels: Volume, label: int | None, source: str) -> Volume:
    """The voxels of ``label`` in a painted label map (its one value when ``label`` is None).

    Raises
    ------
    IvcviewerError
        Nothing is painted, ``label`` is not painted, or several values are and none is chosen.
    """
    arr = np.asarray(region_labels.array)
    painted = sorted(int(v) for v in np.unique(arr) if v != 0)
    if not painted:
        raise IvcviewerError(
            f"{source}: nothing is painted (every voxel is 0). Fix: paint the region first."
        )
    if label is None:
        if len(painted) > 1:
            raise IvcviewerError(
                f"{source}: several label values are painted ({painted[:10]}); which is the "
                "finding is not said. Fix: choose the label value (--label N)."
            )
        label = painted[0]
    elif label not in painted:
        raise IvcviewerError(
            f"{source}: label value {label} is not painted (painted: {painted[:10]}). Fix: "
            "choose one of those values."
        )
    return Volume(arr == label, region_labels.affine)


def add_drawn_finding(
    ct: Volume,
    anatomy_labels: Volume,
    names: Mapping[int, str],
    region_labels: Volume,
    case_path: str | Path,
    *,
    finding_id: str,
    name: str,
    label: int | None = None,
    kind: str = "mass",
    colour: str | None = None,
    description: str | None = None,
    ct_name: str = "the CT",
    region_name: str = "the drawn region",
    inputs: Sequence[str | Path] = (),
) -> DrawnFinding:
    """Turn the region painted with ``label`` into a finding and add it to ``case_path``.

    The region must be painted on the CT's grid; the anatomy may lie on any grid. The case
    file (created from the template when absent) may not lie in the folder of an input
    (``inputs``: the files read). Nothing is written when the result would not be a valid
    case file.

    Raises
    ------
    IvcviewerError
        The region is not on the CT's grid or not painted, the case file is in an input's
        folder, or the finding clashes with the case file (:class:`CaseFileError`).
    AnatomyError
        No structure of the anatomy can place the region.
    """
    case = Path(case_path)
    _check_case_name(case, "--case")
    if inputs:
        check_output_path(case, list(inputs), suffixes=CASE_SUFFIXES)
    if region_labels.grid != ct.grid:
        raise IvcviewerError(
            f"{region_name}: is not on the grid of {ct_name} (shape {region_labels.shape} vs "
            f"{ct.shape}, or another placement). Fix: paint the region on a Labels layer of "
            "that CT (or save it on the CT's grid)."
        )
    region = region_of_label(region_labels, label, region_name)
    mapping = finding_from_region(
        region,
        anatomy_labels,
        names,
        finding_id=finding_id,
        name=name,
        kind=kind,
        colour=colour,
        description=description,
        source=ct_name,
    )
    written, entry = add_finding(case, mapping)
    return DrawnFinding(entry, written)


__all__ = [
    "DrawnFinding",
    "add_drawn_finding",
    "case_summary",
    "check_case_file",
    "region_of_label",
    "write_case_template",
]
