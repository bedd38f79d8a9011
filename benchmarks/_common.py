"""Helpers the benchmark scripts share: printing the targets and writing the JSON results.

The scripts run as ``python benchmarks/bench_*.py``, which puts this folder on ``sys.path``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def print_targets(checks: dict[str, bool]) -> None:
    """Print one ``MET`` / ``NOT MET`` line per target, after a blank line."""
    print()
    for text, ok in checks.items():
        print(f"{'MET    ' if ok else 'NOT MET'}  {text}")


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` to ``path`` as indented JSON, atomically (temp file + rename)."""
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(json.dumps(payload, indent=2))
    os.replace(tmp, path)
