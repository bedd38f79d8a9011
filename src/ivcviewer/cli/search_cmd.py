"""``ivcviewer search``: find public CT series, offline in the IDC index or on a DICOMweb server.

``--json`` prints a list of objects with the fields of :class:`ivcviewer.public.SeriesHit`
(``segs`` a list of ``{series_uid, modality, description}``); with ``--curated``, the curated
list's entries with their ``suits`` and ``why``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

from .._json import dumps
from ..public import SeriesHit, curated, search_dicomweb, search_idc
from .fetch_cmd import add_dicomweb_options, auth_from_args


def add_parser(subparsers: Any) -> None:
    """Register the ``search`` subcommand."""
    p = subparsers.add_parser(
        "search",
        help="find public CT series (Imaging Data Commons offline, or a DICOMweb server)",
        description=(
            "Search the Imaging Data Commons index shipped with idc-index (offline), the "
            "curated list of series suited to the cases (--curated), or a DICOMweb server "
            "(--dicomweb URL). Prints series UID, collection, patient, images, size, licence "
            "and the SEG/RTSTRUCT series of the study."
        ),
    )
    p.add_argument("--collection", metavar="C", help="IDC collection, e.g. tcga_sarc, c4kc_kits")
    p.add_argument("--body-part", metavar="B", help="part of BodyPartExamined, e.g. abdomen")
    p.add_argument("--modality", metavar="M", default="CT", help="image modality (default CT)")
    p.add_argument("--text", metavar="WORDS", help="words of the descriptions, patient or UID")
    p.add_argument("--with-seg", action="store_true", help="only series with a SEG or RTSTRUCT")
    p.add_argument("--limit", type=int, default=50, metavar="N", help="most hits (default 50)")
    p.add_argument("--curated", action="store_true", help="list the curated series instead")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_dicomweb_options(p)
    p.add_argument("--study", metavar="UID", help="with --dicomweb: series of this study only")
    p.set_defaults(func=run)


def _table(hits: list[SeriesHit]) -> str:
    header = ("series uid", "collection", "patient", "images", "MB", "licence", "segs", "desc")
    rows = [
        (
            h.series_uid,
            h.collection,
            h.patient_id,
            str(h.n_images),
            f"{h.size_mb:.1f}",
            h.licence or "-",
            str(len(h.segs)),
            h.description,
        )
        for h in hits
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    ]
    for h in hits:
        for uid, modality, description in h.segs:
            lines.append(f"{h.series_uid}: {modality} {uid} {description}".rstrip())
    lines.append(f"{len(hits)} series")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Search and print the hits."""
    if args.curated:
        entries = curated()
        if args.json:
            sys.stdout.write(dumps([dataclasses.asdict(c) for c in entries]) + "\n")
        else:
            sys.stdout.write(_table([c.to_hit() for c in entries]))
            for c in entries:
                sys.stdout.write(f"{c.series_uid}: {c.suits}: {c.why}\n")
        return 0
    if args.dicomweb:
        hits = search_dicomweb(
            args.dicomweb,
            study_uid=args.study,
            modality=args.modality,
            text=args.text,
            limit=args.limit,
            auth=auth_from_args(args),
            verify_tls=not args.insecure,
        )
    else:
        hits = search_idc(
            collection=args.collection,
            body_part=args.body_part,
            modality=args.modality,
            text=args.text,
            with_seg=args.with_seg,
            limit=args.limit,
        )
    if args.json:
        sys.stdout.write(dumps([h.to_dict() for h in hits]) + "\n")
    else:
        sys.stdout.write(_table(hits))
    return 0
