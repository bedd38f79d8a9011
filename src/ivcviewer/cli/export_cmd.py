"""``ivcviewer export LABELS --ct CT --to seg|sr|nifti|nrrd --out FILE [--case FILE]
[--names JSON] [--force]``.

Writes a label map on its CT as a file other tools open: a DICOM Segmentation (``seg``), a
DICOM SR TID 1500 measurement report (``sr``) or a NIfTI / NRRD label map with its name table
(``nifti``, ``nrrd``). ``LABELS`` is a label map (NIfTI, NRRD, MHA, with its names) or a DICOM
SEG or RTSTRUCT made on the CT; it is placed on the CT's voxels (any voxel order, never
resampled). A report references the segments of a SEG: ``LABELS`` when it is one, else the SEG
written beside the report (``<stem>_seg.dcm``, said on stdout). With ``--case`` the regions of
the case's findings are coded by their kind and site, the SEG's algorithm is
*semiautomatic* (regions fitted by ivcviewer; *manual* without it), and the report records the
case's reported figures beside the measured ones.

Outputs go through temporary files renamed into place (a report and its SEG are renamed
together at the end), never over an existing file without ``--force``, never into the CT's
folder. See docs/interop.md, "Command line".
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import IvcviewerError, OutputExistsError

if TYPE_CHECKING:
    from ..annotations import CaseFile
    from ..io.labels import LabelTable
    from ..volume import Volume

__all__ = ["FORMATS", "SUFFIXES", "add_parser", "run", "seg_beside"]

#: What ``--to`` writes.
FORMATS: tuple[str, ...] = ("seg", "sr", "nifti", "nrrd")

#: File-name endings ``--out`` must have, per format.
SUFFIXES: dict[str, tuple[str, ...]] = {
    "seg": (".dcm",),
    "sr": (".dcm",),
    "nifti": (".nii.gz", ".nii"),
    "nrrd": (".nrrd",),
}


def add_parser(subparsers: Any) -> None:
    """Register the ``export`` subcommand."""
    p = subparsers.add_parser(
        "export",
        help="write a label map on its CT as DICOM SEG, DICOM SR, NIfTI or NRRD",
        description=(
            "Write LABELS (a label map with its names, or a DICOM SEG / RTSTRUCT) on the CT "
            "--ct as a DICOM SEG (--to seg), a DICOM SR TID 1500 measurement report (--to sr; "
            "it references a SEG: LABELS when it is one, else <stem>_seg.dcm written beside "
            "it), or a label map with its name table (--to nifti, --to nrrd). SEG and SR need "
            "the CT's DICOM series. See docs/interop.md."
        ),
    )
    p.add_argument(
        "labels",
        metavar="LABELS",
        help="label map (.nii.gz, .nii, .nrrd, .mha) or a DICOM SEG or RTSTRUCT of the CT",
    )
    p.add_argument(
        "--ct",
        metavar="CT",
        required=True,
        help="the CT the labels lie on: its DICOM folder (needed for seg and sr) or a volume file",
    )
    p.add_argument("--series", metavar="UID", default=None, help="the series of a --ct folder")
    p.add_argument("--to", choices=FORMATS, required=True, help="what to write")
    p.add_argument(
        "--out",
        metavar="FILE",
        required=True,
        help="the file to write (.dcm for seg and sr, .nii.gz or .nii for nifti, .nrrd for "
        "nrrd); never in the CT's folder",
    )
    p.add_argument(
        "--case",
        metavar="FILE",
        help="case file (YAML): its findings' codes, the reported figures (sr), and the "
        "algorithm 'semiautomatic' (regions fitted by ivcviewer; 'manual' without --case)",
    )
    p.add_argument(
        "--names",
        metavar="JSON",
        help="label table of a label map LABELS (value -> name); default: <stem>_labels.json",
    )
    p.add_argument("--force", action="store_true", help="replace existing output files")
    p.set_defaults(func=run)


def seg_beside(out: Path) -> Path:
    """The SEG written beside a report ``out`` made from a label map: ``<stem>_seg.dcm``.

    >>> seg_beside(Path("out/report.dcm")).as_posix()
    'out/report_seg.dcm'
    """
    return out.with_name(f"{out.name[: -len('.dcm')]}_seg.dcm")


def _outputs(args: argparse.Namespace, kind: str | None) -> list[Path]:
    """Every file the command writes (the report's SEG too), checked before anything is read.

    Raises
    ------
    VolumeFormatError
        A wrong ending, or an output in the CT's folder.
    OutputExistsError
        An output that exists, without ``--force``.
    """
    from ..io import label_sidecar_path
    from ..io.formats import check_output_path, not_found

    out = Path(args.out)
    # the CT's folder is never written into; an output may go beside the labels (as a SEG
    # beside its label map, or a report beside its SEG)
    check_output_path(out, [args.ct], SUFFIXES[args.to])
    if not out.parent.is_dir():
        raise not_found(out.parent)
    paths = [out]
    if args.to in ("nifti", "nrrd"):
        paths.append(label_sidecar_path(out))
    elif args.to == "sr" and kind != "seg":
        paths.insert(0, seg_beside(out))
    _refuse_existing(paths, out, force=args.force)
    return paths


def _check_kind(args: argparse.Namespace, kind: str | None) -> None:
    """Refuse combinations of LABELS' kind, ``--to`` and ``--names`` that cannot work."""
    if kind == "sr":
        raise IvcviewerError(
            f"{args.labels}: is a DICOM SR, not labels. Fix: give the label map or the SEG the "
            "report was made from."
        )
    if kind == "seg" and args.to == "seg":
        raise IvcviewerError(
            f"{args.labels}: is already a DICOM SEG. Fix: copy it, or give the label map to "
            "write a new SEG from it."
        )
    if kind is not None and args.names:
        raise IvcviewerError(
            f"--names {args.names}: a label table is not used with {args.labels}, a DICOM "
            f"{kind.upper()} whose segments carry their own names. Fix: leave --names out."
        )


def _check_dicom_ct(args: argparse.Namespace, ct: Volume) -> None:
    """Refuse a CT that did not come from DICOM for ``--to seg`` and ``--to sr``."""
    from ..io.formats import volume_format

    if args.to not in ("seg", "sr") or ct.metadata.source == "dicom":
        return
    raise IvcviewerError(
        f"--ct {args.ct}: the CT was read from a {volume_format(args.ct) or 'volume'} file, not "
        f"from DICOM, so a DICOM {args.to.upper()} has no images to reference. Fix: give --ct the "
        "CT's DICOM folder, or write the labels as NIfTI with their names (--to nifti --out "
        "labels.nii.gz)."
    )


@dataclass(frozen=True)
class _Labels:
    """LABELS on the CT's grid: the map, its names, and the SEG file when LABELS is one."""

    volume: Volume
    table: LabelTable
    seg: Path | None


def _read_labels(args: argparse.Namespace, kind: str | None, ct: Volume) -> _Labels:
    """Read LABELS and put it on the CT's voxels (exactly: a SEG cannot be resampled).

    The map takes the CT's provenance, so that no output goes into the CT's folder.
    """
    from ..interop.seg_write import labels_on_grid
    from ..io import load_labels

    path = Path(args.labels)
    if kind in ("seg", "rtstruct"):
        from ..interop.rtstruct_read import read_rtstruct
        from ..interop.seg_read import read_segmentation

        read = read_segmentation(path, ct) if kind == "seg" else read_rtstruct(path, ct)
        for note in read.report:  # overlapping segments, a placement by positions only
            warnings.warn(note, stacklevel=2)
        seg = path if kind == "seg" else None
        return _Labels(ct.with_array(read.labels.array), read.table, seg)
    labels, table = load_labels(path, args.names or None)
    target = f"--ct {args.ct}"
    return _Labels(ct.with_array(labels_on_grid(labels, ct.grid, target=target)), table, None)


def _write_sr_with_seg(
    labels: _Labels, ct: Volume, case: CaseFile | None, seg_out: Path, out: Path, force: bool
) -> None:
    """Write the SEG of ``labels`` and the report on it.

    Both are finished in a temporary folder beside ``out``, then renamed into place, the SEG
    first: no partial file appears, and the report never without its SEG.
    """
    from .._atomic import discard_dir, temp_dir_beside
    from ..workflows.export import export_seg
    from ..workflows.export_sr import export_sr

    work = temp_dir_beside(out)
    try:
        seg = export_seg(
            labels.volume,
            ct,
            work / seg_out.name,
            table=labels.table,
            case=case,
            algorithm=_algorithm(case),
        )
        report = export_sr(labels.volume, ct, seg, work / out.name, table=labels.table, case=case)
        # checked again: another program may have written them meanwhile
        _refuse_existing([seg_out, out], out, force=force)
        os.replace(seg, seg_out)
        os.replace(report, out)
    finally:
        discard_dir(work)


def _refuse_existing(paths: list[Path], out: Path, *, force: bool) -> None:
    """Refuse an output path that is a folder, or a file that exists (unless ``force``)."""
    for path in paths:
        if path.is_dir() or (path.exists() and not force):
            what = "a folder" if path.is_dir() else "a file"
            role = "" if path == out else f" (written with --out {out})"
            fix = "choose another --out" + ("" if path.is_dir() else ", or add --force")
            raise OutputExistsError(f"{path}{role}: {what} is already there. Fix: {fix}.")


def _algorithm(case: CaseFile | None) -> Literal["manual", "semiautomatic"]:
    """Semi-automatic for the regions of a case (fitted by ivcviewer), else manual (painted)."""
    return "manual" if case is None else "semiautomatic"


def run(args: argparse.Namespace) -> int:
    """Write LABELS on the CT as ``--to`` says; returns the exit status."""
    from ..annotations import load_case
    from ..interop.label_files import write_label_file
    from ..interop.sniff import dicom_object_kind
    from ..workflows import open_ct
    from ..workflows.export import export_seg
    from ..workflows.export_sr import export_sr

    kind = dicom_object_kind(args.labels) if Path(args.labels).is_file() else None
    _check_kind(args, kind)
    paths = _outputs(args, kind)
    out = Path(args.out)
    case = load_case(args.case) if args.case else None
    ct = open_ct(args.ct, series=args.series, option="--ct")
    _check_dicom_ct(args, ct)
    labels = _read_labels(args, kind, ct)
    if args.to == "seg":
        export_seg(
            labels.volume,
            ct,
            out,
            table=labels.table,
            case=case,
            algorithm=_algorithm(case),
            force=args.force,
        )
    elif args.to == "sr" and labels.seg is not None:
        export_sr(
            labels.volume, ct, labels.seg, out, table=labels.table, case=case, force=args.force
        )
    elif args.to == "sr":
        _write_sr_with_seg(labels, ct, case, paths[0], out, args.force)
        sys.stdout.write(f"wrote {paths[0]} (the DICOM SEG the report references)\n")
        paths = [out]
    else:
        write_label_file(labels.volume, labels.table, out, args.force, inputs=[args.ct])
    sys.stdout.write(f"wrote {', '.join(str(p) for p in paths)}\n")
    return 0
