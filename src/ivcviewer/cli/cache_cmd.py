"""``ivcviewer cache [--clear]``: where the fetched series are kept, how much room they take."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._json import dumps
from ..public import cache


def add_parser(subparsers: Any) -> None:
    """Register the ``cache`` subcommand."""
    p = subparsers.add_parser(
        "cache",
        help="show the cache of fetched series and its size, or clear it",
        description=(
            f"Show the folder of fetched series (${cache.CACHE_ENV}, else "
            "$XDG_CACHE_HOME/ivcviewer/series), how many series it holds and their size; "
            "--clear removes them."
        ),
    )
    p.add_argument("--clear", action="store_true", help="remove every cached series")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Show (or clear) the cache."""
    freed = cache.clear_cache() if args.clear else 0
    series = [p.name for p in cache.cached_series()]
    size = cache.cache_size()
    if args.json:
        info = {
            "folder": str(cache.cache_dir()),
            "series": series,
            "size_bytes": size,
            "freed_bytes": freed,
        }
        sys.stdout.write(dumps(info) + "\n")
        return 0
    if args.clear:
        print(f"cache: removed {freed / 1e6:.1f} MB")
    print(f"cache: {cache.cache_dir()}: {len(series)} series, {size / 1e6:.1f} MB")
    return 0
