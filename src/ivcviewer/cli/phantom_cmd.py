"""``ivcviewer phantom --out DIR [--size small|standard] [--seed N] [--normal] [--force]``.

Generates the synthetic abdominal CT phantom with the case's findings (or the normal
baseline) and writes it to DIR: a DICOM CT series in ``DIR/ct``, the truth label map
``labels.nii.gz`` with its table ``labels_labels.json``, ``landmarks.json`` (LPS mm),
``manifest.json`` and the marker of a complete set ``ivcviewer-complete.json``. The set is
written beside DIR and swapped in, so DIR holds an earlier complete phantom or the new one,
never a mix. A DIR that holds anything is refused unless ``--force`` is given, except an
incomplete phantom left by an interrupted run, which is replaced with a warning.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from .._atomic import check_target
from ..errors import OutputExistsError
from .options import LazyChoices, shown_arg


def add_parser(subparsers: Any) -> None:
    """Register the ``phantom`` subcommand."""
    p = subparsers.add_parser(
        "phantom",
        help="write the synthetic abdominal CT phantom (DICOM series and ground truth)",
        description=(
            "Generate the synthetic abdominal CT phantom (portal-venous phase) with the case's "
            "retroperitoneal leiomyosarcoma and its tumour thrombus in the IVC, or without "
            "them (--normal), and write it to DIR as a DICOM CT series with the truth label "
            "map, landmarks and a manifest. The data are synthetic, not a patient's."
        ),
    )
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    p.add_argument(
        "--size",
        choices=LazyChoices("ivcviewer.phantom.grid", "SIZES"),
        metavar="SIZE",
        default="standard",
        help="small: 72x96x96 voxels of 5x4x4 mm (tests); standard: 143x512x512 voxels of "
        "2.5x0.75x0.75 mm (default)",
    )
    p.add_argument("--seed", type=_seed, default=0, metavar="N", help="noise seed (default 0)")
    p.add_argument("--normal", action="store_true", help="leave out the findings (baseline)")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace the phantom in DIR, or write into DIR even if it holds other files "
        "(they are kept)",
    )
    p.set_defaults(func=run)


def _seed(text: str) -> int:
    """A non-negative integer seed (argparse type)."""
    rule = "must be a non-negative integer"
    fix = "Fix: give a whole number such as 0 or 42"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{rule}, got {shown_arg(text)}. {fix}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{rule}, got {shown_arg(text)}. {fix}")
    return value


def run(args: argparse.Namespace) -> int:
    """Generate and write the phantom; print what was written. Returns the exit status."""
    from ..phantom import (
        build_phantom,
        measured_extents_mm,
        reported_mass_extents_mm,
        write_phantom,
    )
    from ..phantom.output import PHANTOM_SET

    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"--out {out} exists and is not a folder; give a folder.")
    # before the build: temporaries of interrupted runs removed, a folder in use refused
    check_target(out, PHANTOM_SET, force=args.force, replace_complete=False, label=f"--out {out}")
    t0 = time.perf_counter()
    phantom = build_phantom(args.size, seed=args.seed, normal=args.normal)
    paths = write_phantom(phantom, out, overwrite=args.force, label=f"--out {out}")
    dt = time.perf_counter() - t0
    ct = phantom.ct
    sp = " x ".join(f"{v:g}" for v in ct.spacing)
    w = sys.stdout.write
    kind = (
        "normal baseline"
        if args.normal
        else "case: retroperitoneal leiomyosarcoma invading the IVC"
    )
    w(f"Synthetic phantom ({kind}), size {args.size}, seed {args.seed}, in {dt:.1f} s\n")
    w(f"  grid {ct.shape[0]} x {ct.shape[1]} x {ct.shape[2]} (slice, row, col), spacing {sp} mm\n")
    n = len(list(paths["ct"].glob("*.dcm")))
    w(f"  DICOM CT series   {paths['ct']}  ({n} files)\n")
    w(f"  truth labels      {paths['labels']}\n")
    w(f"  label table       {paths['label_table']}\n")
    w(f"  landmarks (LPS)   {paths['landmarks']}\n")
    w(f"  manifest          {paths['manifest']}\n")
    if not args.normal:
        ext = measured_extents_mm(phantom)
        rep = reported_mass_extents_mm()
        w(
            "  mass label extents (lr x ap x cc): "
            f"{ext['lr'] / 10:.1f} x {ext['ap'] / 10:.1f} x {ext['cc'] / 10:.1f} cm "
            f"(reported {rep['lr'] / 10:.1f} x {rep['ap'] / 10:.1f} x {rep['cc'] / 10:.1f} cm)\n"
        )
    return 0
