"""``ivcviewer fetch``: download public CT series from the Imaging Data Commons or DICOMweb.

``ivcviewer fetch SERIES_UID... [--to DIR]`` downloads IDC series (needs the internet);
``ivcviewer fetch --dicomweb URL --study UID [--series UID] [--to DIR]`` retrieves a study or
series from a DICOMweb server. Without ``--to`` the series go into the cache
(``ivcviewer cache``). Each series folder is printed on stdout when complete.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from ..public import DicomwebAuth, PublicDataError, fetch_dicomweb, fetch_idc
from ..public.dicomweb import PASSWORD_ENV, TOKEN_ENV, USER_ENV

#: How often (in tenths of the total) progress is printed on stderr.
PROGRESS_STEPS = 10


def add_dicomweb_options(p: argparse.ArgumentParser) -> None:
    """``--dicomweb URL``, ``--user NAME`` and ``--insecure`` (shared with ``search``)."""
    p.add_argument("--dicomweb", metavar="URL", help="a DICOMweb server's root URL")
    p.add_argument(
        "--user",
        metavar="NAME",
        help=f"user for basic authentication (default ${USER_ENV}); the password comes from "
        f"${PASSWORD_ENV} or a hidden prompt; a bearer token from ${TOKEN_ENV}",
    )
    p.add_argument(
        "--insecure",
        action="store_true",
        help="do not verify the server's TLS certificate (only on a network you trust)",
    )


def auth_from_args(args: argparse.Namespace) -> DicomwebAuth:
    """The credentials for ``--dicomweb`` (environment, or a prompt on a terminal)."""
    return DicomwebAuth.from_env(user=getattr(args, "user", None))


def add_parser(subparsers: Any) -> None:
    """Register the ``fetch`` subcommand."""
    p = subparsers.add_parser(
        "fetch",
        help="download public CT series (Imaging Data Commons or a DICOMweb server)",
        description=(
            "Download series from the Imaging Data Commons by SeriesInstanceUID (see "
            "'ivcviewer search'; needs the internet), or a study or series from a DICOMweb "
            "server. Each series is checked (every instance present and readable) before it "
            "appears in DIR/<UID>/; an interrupted fetch leaves nothing behind."
        ),
    )
    p.add_argument("series_uids", metavar="SERIES_UID", nargs="*", help="IDC series to fetch")
    p.add_argument(
        "--to", metavar="DIR", type=Path, help="folder receiving the series (default: the cache)"
    )
    add_dicomweb_options(p)
    p.add_argument("--study", metavar="UID", help="with --dicomweb: the StudyInstanceUID")
    p.add_argument(
        "--series", dest="series_uid", metavar="UID", help="with --dicomweb: only this series"
    )
    p.set_defaults(func=run)


class StderrProgress:
    """Prints ``fetch: 40% (8 of 20) ...`` on a stream at each tenth of the way."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.last = -1

    def __call__(self, done: int, total: int, text: str) -> None:
        if total <= 0:
            return
        step = done * PROGRESS_STEPS // total
        if step != self.last:
            self.last = step
            print(f"fetch: {100 * done // total}% ({done} of {total}) {text}", file=self.stream)


def run(args: argparse.Namespace) -> int:
    """Fetch what the arguments name; print each series folder."""
    progress = StderrProgress()
    if args.dicomweb:
        if args.series_uids:
            raise PublicDataError(
                "fetch: SERIES_UID arguments are IDC series; with --dicomweb give --study UID "
                "(and --series UID). Fix: drop the positional UIDs."
            )
        if not args.study:
            raise PublicDataError(
                "fetch --dicomweb: --study UID is missing. Fix: add --study (find it with "
                "'ivcviewer search --dicomweb URL')."
            )
        folder = fetch_dicomweb(
            args.dicomweb,
            args.study,
            args.series_uid,
            to=args.to,
            auth=auth_from_args(args),
            verify_tls=not args.insecure,
            progress=progress,
        )
        print(folder)
        return 0
    if args.study or args.series_uid:
        raise PublicDataError(
            "fetch: --study and --series go with --dicomweb. Fix: add --dicomweb URL, or give "
            "IDC series UIDs as arguments."
        )
    for folder in fetch_idc(args.series_uids, to=args.to, progress=progress):
        print(folder)
    return 0
