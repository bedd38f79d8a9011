"""Export a label map on its CT as a DICOM object: one function for the command line and napari.

:func:`export_seg` writes a DICOM Segmentation (:mod:`ivcviewer.interop.seg_write`) from a
label map given as a file or a volume, on a CT given as a folder or a volume. With the case
file, the regions of its findings get the codes of their kind (*Neoplasm*, *Thrombus*) with
their finding site, and the case's id is recorded as a parameter of the algorithm.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..annotations import CaseFile
from ..io.labels import LabelTable
from ..volume import Volume
from .ct import open_ct

if TYPE_CHECKING:
    from ..interop.codes import SegmentCodes

#: Finding kinds whose site is the vessel they lie in (else the structure they arise from).
_IN_VESSEL = ("intravascular_tumour", "thrombus")


def finding_codes(table: LabelTable, case: CaseFile) -> dict[int, SegmentCodes]:
    """Codes of the table's entries that are findings of ``case`` (by id or name).

    The finding site is the finding's vessel for a finding inside a vessel, else the structure
    it arises from (or, without one, its vessel).
    """
    from ..interop.codes import codes_for_structure

    out: dict[int, SegmentCodes] = {}
    for value, entry in table.items():
        finding = next((f for f in case.findings if entry.name in (f.id, f.name)), None)
        if finding is None:
            continue
        rel = finding.relations
        kind = str(finding.kind)
        if kind in _IN_VESSEL:
            site = rel.vessel or rel.origin_structure
        else:
            site = rel.origin_structure or rel.vessel
        codes = codes_for_structure(kind, finding_site=None if site is None else str(site))
        if codes is not None:
            out[value] = codes
    return out


def _labels_and_table(
    labels: str | Path | Volume, table: LabelTable | Mapping[int, str] | None
) -> tuple[Volume, LabelTable]:
    from ..io.volumes import load_labels

    given = (
        table if table is None or isinstance(table, LabelTable) else (LabelTable.from_names(table))
    )
    if isinstance(labels, Volume):
        return labels, given or LabelTable()
    return load_labels(labels, given)


def export_seg(
    labels: str | Path | Volume,
    ct: str | Path | Volume,
    out: str | Path,
    *,
    table: LabelTable | Mapping[int, str] | None = None,
    case: CaseFile | str | Path | None = None,
    algorithm: Literal["manual", "semiautomatic"] = "manual",
    force: bool = False,
) -> Path:
    """Write ``labels`` on ``ct`` as a DICOM SEG at ``out``; returns the path written.

    Parameters
    ----------
    labels
        A label map file (its names from ``table`` or its sidecar) or a label volume.
    ct
        The CT's DICOM folder or file, or the CT volume loaded from DICOM.
    out
        The ``.dcm`` file to write (never inside the CT's DICOM folder).
    table
        Names and colours of the label values (a :class:`LabelTable` or value -> name);
        for a file, ``None`` reads its sidecar table; values without a name get ``label_<v>``.
    case
        The case file (or its path): its findings' regions get the codes of their kind.
    algorithm
        ``"manual"`` for painted labels, ``"semiautomatic"`` for labels fitted by ivcviewer.
    force
        Replace an existing ``out``.

    Raises
    ------
    IvcviewerError
        A CT not from DICOM (the message offers NIfTI with names instead), labels that are
        not on the CT's voxels, no labelled voxel, an output that exists or lies in the CT's
        folder; each with a one-line message.
    """
    from ..annotations import load_case
    from ..interop.seg_write import check_seg_output, write_seg

    check_seg_output(out, [] if isinstance(ct, Volume) else [Path(ct)], force=force)
    case_file = load_case(case) if isinstance(case, (str, Path)) else case
    label_volume, label_table = _labels_and_table(labels, table)
    ct_volume = ct if isinstance(ct, Volume) else open_ct(ct, option="--ct")
    codes = None if case_file is None else finding_codes(label_table, case_file)
    params = None if case_file is None else {"case": str(case_file.case.id)}
    return write_seg(
        label_volume,
        label_table,
        ct_volume,
        out,
        algorithm=algorithm,
        codes=codes,
        force=force,
        series_description=(
            "ivcviewer segmentation" if case_file is None else f"ivcviewer {case_file.case.id}"
        ),
        algorithm_parameters=params,
    )
