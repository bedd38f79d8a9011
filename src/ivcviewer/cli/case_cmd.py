"""``ivcviewer case new|check|from-drawing``: write, check and extend case files.

``case new --out FILE [--force]``
    writes the commented template (a valid case file to edit);
``case check FILE``
    validates a case file without a CT: exit 0 and a paragraph on its findings, rules and the
    references it needs, or exit 1 and the one-line problem (file, field, rule, fix);
``case from-drawing --ct CT --anatomy LABELMAP --region LABELS [--label N] --id ID --name NAME
--case FILE``
    turns a region painted on the CT into a finding placed relative to the anatomy and adds it
    to the case file (created from the template when absent), keeping its text and comments.
    The case file may not lie in the folder of an input. See ``docs/case-file.md``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

#: Exit status of ``case check`` on an invalid case file.
EXIT_INVALID = 1


def add_parser(subparsers: Any) -> None:
    """Register the ``case`` subcommand and its three actions."""
    p = subparsers.add_parser(
        "case",
        help="write a case file from the template, check one, or add a finding drawn on a CT",
        description=(
            "Case files hold a report's findings placed relative to the anatomy (see "
            "docs/case-file.md). 'case new' writes the commented template, 'case check' "
            "validates a file without a CT, 'case from-drawing' adds a finding made from a "
            "region painted on a CT with an anatomy label map."
        ),
    )
    sub = p.add_subparsers(dest="case_action", metavar="ACTION")
    sub.required = True
    new = sub.add_parser("new", help="write the commented case-file template")
    new.add_argument("--out", metavar="FILE", required=True, help="the case file to write (.yaml)")
    new.add_argument("--force", action="store_true", help="replace FILE if it exists")
    new.set_defaults(func=run_new)
    check = sub.add_parser("check", help="validate a case file (no CT needed)")
    check.add_argument("file", metavar="FILE", help="the case file (.yaml)")
    check.set_defaults(func=run_check)
    _add_from_drawing(sub)


def _add_from_drawing(sub: Any) -> None:
    d = sub.add_parser(
        "from-drawing",
        help="add a finding made from a region painted on a CT to a case file",
        description=(
            "Describe the region painted with --label in --region (a label map on the CT's "
            "grid) relative to the anatomy of --anatomy (structure names from its "
            "<stem>_labels.json or --anatomy-names): reference structure, placement, extents, "
            "shape and rules; add it to --case (created from the template when absent)."
        ),
    )
    d.add_argument("--ct", metavar="CT", required=True, help="the CT the region was painted on")
    d.add_argument(
        "--anatomy", metavar="LABELMAP", required=True, help="anatomy label map of the CT"
    )
    d.add_argument(
        "--anatomy-names", metavar="JSON", help="names of --anatomy's values (default: sidecar)"
    )
    d.add_argument(
        "--region", metavar="LABELS", required=True, help="label map holding the painted region"
    )
    d.add_argument(
        "--label", type=int, metavar="N", help="the region's label value (if several are painted)"
    )
    d.add_argument("--id", dest="finding_id", metavar="ID", required=True, help="finding id")
    d.add_argument("--name", metavar="NAME", required=True, help="finding name")
    d.add_argument(
        "--kind",
        default="mass",
        help="finding kind of a solid: mass (default), lesion or lymph_node",
    )
    d.add_argument("--colour", metavar="#RRGGBB", help="display colour (default: a free one)")
    d.add_argument("--case", metavar="FILE", required=True, help="case file to add it to (.yaml)")
    d.set_defaults(func=run_from_drawing)


def run_new(args: argparse.Namespace) -> int:
    """Write the template."""
    from ..workflows.case_authoring import write_case_template

    path = write_case_template(args.out, force=args.force)
    print(f"case new: wrote {path}; edit it, then run 'ivcviewer case check {path}'.")
    return 0


def run_check(args: argparse.Namespace) -> int:
    """Check a case file; exit 1 with its one-line problem when invalid."""
    from ..errors import CaseFileError, ResourceLimitError
    from ..workflows.case_authoring import check_case_file

    try:
        summary = check_case_file(args.file)
    except (CaseFileError, ResourceLimitError) as err:
        print(f"ivcviewer: error: {err}", file=sys.stderr)
        return EXIT_INVALID
    print(summary)
    return 0


def run_from_drawing(args: argparse.Namespace) -> int:
    """Add the finding drawn in ``--region`` to ``--case``."""
    from ..io import load_labels
    from ..workflows import open_ct
    from ..workflows.case_authoring import add_drawn_finding

    ct = open_ct(args.ct, option="--ct")
    anatomy, table = load_labels(args.anatomy, args.anatomy_names)
    region, _ = load_labels(args.region)
    inputs = [args.ct, args.anatomy, args.region] + (
        [args.anatomy_names] if args.anatomy_names else []
    )
    drawn = add_drawn_finding(
        ct,
        anatomy,
        {int(v): str(n) for v, n in table.names.items()},
        region,
        args.case,
        finding_id=args.finding_id,
        name=args.name,
        label=args.label,
        kind=args.kind,
        colour=args.colour,
        ct_name=str(args.ct),
        region_name=f"--region {args.region}",
        inputs=inputs,
    )
    sys.stdout.write(f"case from-drawing: added to {drawn.case_path}:\n{drawn.yaml_text}")
    return 0


__all__ = ["EXIT_INVALID", "add_parser", "run_check", "run_from_drawing", "run_new"]
