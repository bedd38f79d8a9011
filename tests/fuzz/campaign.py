"""A fuzz run: build the corpus, make and run the cases, check each, summarise.

``python -m fuzz --cases N --seed S --jobs J --out DIR`` (with ``src`` and ``tests`` on the
path; ``scripts/fuzz.py`` sets that up) writes ``DIR/summary.json`` and keeps the inputs,
command and output of every failing case under ``DIR/failures/``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import runner
from .cases import Case, make_case
from .contract import Failure, check, snapshot
from .corpus import PUBLIC_CT, build_corpus

#: Failure classes in the order the summary lists them.
CLASSES = (
    "hang",
    "crash",
    "memory",
    "traceback",
    "leftover-process",
    "bad-status",
    "unclear",
    "raw-output",
    "silent-accept",
    "bad-output",
    "input-changed",
    "harness",
)


@dataclass
class Summary:
    """What a run found."""

    seed: int
    cases: int = 0
    seconds: float = 0.0
    exit_ok: int = 0
    exit_error: int = 0
    by_class: Counter[str] = field(default_factory=Counter)
    by_scenario: Counter[str] = field(default_factory=Counter)
    failing: list[dict[str, object]] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "seed": self.seed,
            "cases": self.cases,
            "seconds": round(self.seconds, 1),
            "exit_0": self.exit_ok,
            "exit_2": self.exit_error,
            "failing_cases": len(self.failing),
            "failures_by_class": {k: self.by_class[k] for k in CLASSES if self.by_class[k]},
            "cases_by_scenario": dict(sorted(self.by_scenario.items())),
            "failing": self.failing,
        }

    def report(self, limit: int = 60) -> str:
        """A readable account: the figures, then each failing case on a few lines."""
        figures = ", ".join(f"{k} {self.by_class[k]}" for k in CLASSES if self.by_class[k])
        lines = [
            f"fuzz seed {self.seed}: {self.cases} cases in {self.seconds:.0f} s; exit 0: "
            f"{self.exit_ok}, exit 2: {self.exit_error}; failing cases: {len(self.failing)}"
            + (f" ({figures})" if figures else ""),
        ]
        for item in self.failing[:limit]:
            lines.append(
                f"- #{item['index']} [{item['scenario']}] {item['mutation']}\n"
                f"    $ ivcviewer {item['command']}\n"
                + "".join(f"    {f['kind']}: {f['detail']}\n" for f in item["failures"])  # type: ignore[attr-defined]
                + f"    stderr: {item['stderr_first_line']}"
            )
        if len(self.failing) > limit:
            lines.append(f"... and {len(self.failing) - limit} more (see summary.json)")
        return "\n".join(lines)


def _record(
    summary: Summary,
    case: Case,
    result: runner.Result | None,
    fails: list[Failure],
    keep: Path | None,
) -> None:
    summary.cases += 1
    summary.by_scenario[case.scenario] += 1
    if result is not None and result.status == 0:
        summary.exit_ok += 1
    elif result is not None and result.status == 2:
        summary.exit_error += 1
    if not fails:
        return
    for kinds in {f.kind for f in fails}:
        summary.by_class[kinds] += 1
    stderr = result.stderr if result else ""
    first = next((line for line in stderr.splitlines() if line.strip()), "")
    summary.failing.append(
        {
            "index": case.index,
            "scenario": case.scenario,
            "mutation": case.mutation[:300],
            "command": " ".join(case.argv)[:400],
            "status": None if result is None else result.status,
            "seconds": None if result is None else round(result.seconds, 1),
            "failures": [{"kind": f.kind, "detail": f.detail} for f in fails],
            "stderr_first_line": first[:300],
            "kept": str(keep) if keep else None,
        }
    )


def _keep(case: Case, result: runner.Result | None, fails: list[Failure], dest: Path) -> Path:
    """Move a failing case's folder (inputs, output, stderr) under ``dest`` and describe it."""
    target = dest / f"{case.index:06d}"
    shutil.rmtree(target, ignore_errors=True)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.move(str(case.root), target)
    info = {
        "index": case.index,
        "scenario": case.scenario,
        "mutation": case.mutation,
        "argv": case.argv,
        "status": None if result is None else result.status,
        "failures": [f.__dict__ for f in fails],
        "note": "paths in argv point into the run's case folder; inputs are under in/",
    }
    (target / "case.json").write_text(json.dumps(info, indent=1), encoding="utf-8")
    return target


def run_campaign(
    seed: int,
    count: int,
    jobs: int,
    out: Path,
    public_ct: Path | None = PUBLIC_CT,
    timeout: float = 30.0,
    only: list[int] | None = None,
    keep_failures: bool = True,
    progress: bool = False,
) -> Summary:
    """Run ``count`` cases (or the ``only`` ones) with ``jobs`` children at a time."""
    main = runner.preload()
    out.mkdir(parents=True, exist_ok=True)
    corpus_dir = out / "corpus"
    shutil.rmtree(corpus_dir, ignore_errors=True)
    if runner.run_in_child(lambda: _quiet_build(corpus_dir, public_ct)) != 0:
        raise RuntimeError(f"building the fuzz corpus in {corpus_dir} failed")
    rel = json.loads((corpus_dir / "corpus.json").read_text(encoding="utf-8"))
    corpus = {k: corpus_dir / v for k, v in rel.items()}
    corpus_before = snapshot(corpus_dir)
    cases_dir = out / "cases"
    shutil.rmtree(cases_dir, ignore_errors=True)
    summary = Summary(seed=seed)
    state: dict[int, tuple[Case, dict[str, str]]] = {}
    start = time.monotonic()

    def jobs_iter() -> Iterator[tuple[object, list[str], Path]]:
        for index in only if only is not None else range(count):
            root = cases_dir / f"{index:06d}"
            try:
                case = make_case(seed, index, corpus, root)
            except Exception as exc:  # a fault of the harness: reported, never hidden
                bad = Case(index=index, scenario="harness", root=root, mutation=repr(exc)[:300])
                _record(
                    summary, bad, None, [Failure("harness", f"building the case: {exc!r}")], None
                )
                shutil.rmtree(root, ignore_errors=True)
                continue
            state[index] = (case, snapshot(case.inputs))
            yield index, case.argv, case.work

    for key, result in runner.run_many(main, jobs_iter(), jobs, timeout):
        case, before = state.pop(key)  # type: ignore[call-overload]
        fails = check(case, result, before, snapshot(case.inputs))
        keep = _keep(case, result, fails, out / "failures") if fails and keep_failures else None
        _record(summary, case, result, fails, keep)
        if keep is None:
            shutil.rmtree(case.root, ignore_errors=True)
        if summary.cases % 100 == 0:
            summary.seconds = time.monotonic() - start
            partial = dict(summary.as_json(), partial=True)
            (out / "summary.json").write_text(json.dumps(partial, indent=1), encoding="utf-8")
            if progress:
                print(f"{summary.cases} cases, {len(summary.failing)} failing", file=sys.stderr)
    if snapshot(corpus_dir) != corpus_before:
        bad = Case(index=-1, scenario="corpus", root=corpus_dir, mutation="corpus after the run")
        _record(
            summary, bad, None, [Failure("input-changed", "a seed of the corpus changed")], None
        )
    summary.seconds = time.monotonic() - start
    summary.failing.sort(key=lambda item: int(item["index"]))  # type: ignore[call-overload]
    (out / "summary.json").write_text(json.dumps(summary.as_json(), indent=1), encoding="utf-8")
    return summary


def _quiet_build(dest: Path, public_ct: Path | None) -> None:
    import contextlib
    import io

    import SimpleITK as sitk

    sitk.ProcessObject_SetGlobalWarningDisplay(False)
    with contextlib.redirect_stdout(io.StringIO()):
        build_corpus(dest, public_ct)


def main(argv: list[str] | None = None) -> int:
    """``python -m fuzz``: a run from the command line; exit 1 when a case failed."""
    parser = argparse.ArgumentParser(prog="fuzz", description=__doc__)
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--out", type=Path, default=None, help="folder for the run (default: a temp)"
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds before a case is a hang"
    )
    parser.add_argument("--only", type=int, nargs="+", help="replay these case numbers")
    parser.add_argument("--no-public", action="store_true", help="leave out ../shared/public_ct")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="ivcviewer-fuzz-"))
    summary = run_campaign(
        args.seed,
        args.cases,
        args.jobs,
        out,
        None if args.no_public else PUBLIC_CT,
        args.timeout,
        args.only,
        progress=True,
    )
    print(summary.report(limit=200))
    print(f"summary: {out / 'summary.json'}")
    return 1 if summary.failing else 0
