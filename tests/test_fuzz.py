"""The bounded, seeded fuzz run: every damaged input keeps the input contract.

A few hundred cases derived from the public CT, the phantom, NRRD / MetaImage / NIfTI copies,
label tables, landmarks and the case file (see tests/fuzz/ and docs/reliability.md). The run
happens in one fresh Python process that imports ivcviewer once and forks a child per case, so
that the test process starts no native thread pools and keeps its own resource limits. Each
failing case is listed with its command, its mutation and the first line of its stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ivcviewer

TESTS = Path(__file__).resolve().parent
#: How many cases, from which seed, two at a time; the long run is scripts/fuzz.py.
CASES = 300
SEED = 14
JOBS = 2
TIMEOUT_S = 20


def _run(tmp_path: Path, cases: int, seed: int, *extra: str) -> None:
    src = Path(ivcviewer.__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(src), str(TESTS)]))
    out = tmp_path / "fuzz"
    cmd = [
        sys.executable,
        "-m",
        "fuzz",
        "--cases",
        str(cases),
        "--seed",
        str(seed),
        "--jobs",
        str(JOBS),
        "--timeout",
        str(TIMEOUT_S),
        "--out",
        str(out),
        *extra,
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, check=False)
    summary_path = out / "summary.json"
    assert summary_path.is_file(), f"the fuzz run did not finish:\n{proc.stderr[-4000:]}"
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    print(proc.stdout)
    assert not summary.get("partial") and summary["cases"] == cases, proc.stderr[-4000:]
    assert summary["failing_cases"] == 0, (
        f"{summary['failing_cases']} of {cases} fuzz cases broke the input contract "
        f"{summary['failures_by_class']} (replay one: PYTHONPATH=src:tests python -m fuzz "
        f"--seed {seed} --only INDEX --out DIR {' '.join(extra)}):\n" + proc.stdout[-20000:]
    )


@pytest.mark.realdata
def test_fuzz_run_keeps_the_input_contract(public_ct: Path, tmp_path: Path) -> None:
    _run(tmp_path, CASES, SEED)


def test_fuzz_run_on_shipped_data_keeps_the_input_contract(tmp_path: Path) -> None:
    """The same contract on a machine without ../shared/public_ct: the corpus is the shipped
    real CT and label map, the phantom and what is converted from them."""
    _run(tmp_path, 150, SEED + 1, "--no-public")
