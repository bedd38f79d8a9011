"""The long fuzz run of ivcviewer's readers and command line (docs/reliability.md).

    python scripts/fuzz.py --cases 5000 --seed 0 --jobs 2 --out fuzz-out

Writes fuzz-out/summary.json (figures by failure class and scenario, each failing case with its
command, mutation and first stderr line) and keeps each failing case's inputs and output under
fuzz-out/failures/. Replay single cases with ``--only INDEX [INDEX ...]`` and the same seed.
Exit status 1 when any case broke the contract.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# this script's own folder comes first on the path, and this file is named like the harness
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
for path in (ROOT / "src", ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from fuzz.campaign import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
