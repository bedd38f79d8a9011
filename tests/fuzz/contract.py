"""The input contract, checked for one case: what a run may and may not do with a bad input.

Classes of failure, most serious first: ``hang``, ``crash``, ``memory``, ``traceback``,
``leftover-process``, ``bad-status``, ``unclear`` (exit 2 without exactly one clear line),
``raw-output`` (exit 0 with stderr lines that are not ivcviewer's), ``silent-accept`` (exit 0,
no word, on an input that must be refused), ``bad-output``, ``input-changed``.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .cases import Case
from .runner import Result

#: Library wording that must not be the whole message (issue 14 and what the readers raise).
LIBRARY_PHRASES = (
    "End of file reached before delimiter",
    "The number of bytes of compressed pixel data matches",
    "Invalid value for VR",
    "DimSize required",
    "sizeof_hdr should be",
    "Expected explicit VR",
    "Expected implicit VR",
    "cannot identify image file",
    "Unable to decode",
    "Unable to determine",
    "buffer is too small",
    "buffer size must be",
    "cannot reshape array",
    "unpack requires a buffer",
    "Error -3 while decompressing",
    "Not a gzipped file",
    "Compressed file ended before",
    "CRC check failed",
    "invalid literal for int()",
    "could not convert string to float",
    "Unknown encoding",
    "could not broadcast",
    "ITK ERROR",
    "itk::ERROR",
    "Could not create IO object",
    "Unsupported Transfer Syntax",
    "No pixel data decoders",
    "is not a recognized",
    "while scanning",
    "while parsing",
    "found unhashable key",
    "could not determine a constructor",
    "Expecting value",
    "Expecting property name",
    "Extra data: line",
    "Unterminated string",
    "codec can't decode",
    "maximum recursion depth",
    "Errno",
)

#: Words that say which rule an input broke, when the line has no "Fix:".
RULE_WORDS = (
    "must ",
    "should ",
    "expected",
    "cannot",
    "refus",
    "outside",
    "over the",
    "limit",
    "only ",
    "not a ",
    "not an ",
    "no image",
    "missing",
    "unsupported",
    "accepted",
    "needs ",
    "does not",
    "is not",
)

MAX_LINE = 1000


@dataclass
class Failure:
    """One broken promise."""

    kind: str
    detail: str


def snapshot(folder: Path) -> dict[str, str]:
    """{relative path: digest or file type} of everything under ``folder``, links not followed,
    nothing but regular files opened."""
    out: dict[str, str] = {}
    if not folder.exists():
        return out
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(folder))
            try:
                st = os.lstat(path)
            except OSError:
                out[rel] = "gone"
                continue
            if stat.S_ISREG(st.st_mode):
                digest = hashlib.sha1()
                with open(path, "rb") as fh:
                    for block in iter(lambda: fh.read(1 << 20), b""):
                        digest.update(block)
                out[rel] = digest.hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                out[rel] = "link:" + os.readlink(path)
            elif not stat.S_ISDIR(st.st_mode):
                out[rel] = f"special:{stat.S_IFMT(st.st_mode)}"
    return out


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _error_line(case: Case, line: str) -> list[Failure]:
    out: list[Failure] = []
    body = line[len("ivcviewer: error: ") :]
    has_fix = "fix:" in body.lower() or "fix " in body.lower()
    argparse_usage = "--help')" in body
    if len(line) > MAX_LINE:
        out.append(
            Failure("unclear", f"error line of {len(line)} characters (value not cut short)")
        )
    library = [p for p in LIBRARY_PHRASES if p.lower() in body.lower()]
    if library and not has_fix:
        out.append(
            Failure("unclear", f"library words without ivcviewer's rule and fix: {library[0]!r}")
        )
    elif not has_fix and not argparse_usage and not any(w in body.lower() for w in RULE_WORDS):
        out.append(Failure("unclear", "no rule and no 'Fix:' in the line"))
    if case.names and not any(n and n in line for n in case.names):
        out.append(Failure("unclear", "the line does not name the input"))
    return out


def _on_error(case: Case, lines: list[str]) -> list[Failure]:
    if not lines:
        return [Failure("unclear", "exit 2 with nothing on stderr")]
    errors = [line for line in lines if line.startswith("ivcviewer: error: ")]
    if len(lines) != 1 or len(errors) != 1:
        first = next(
            (line for line in lines if not line.startswith("ivcviewer: error: ")), lines[0]
        )
        return [
            Failure("unclear", f"{len(lines)} lines on stderr, not one error line: {first[:160]!r}")
        ]
    return _error_line(case, errors[0])


def _on_success(case: Case, result: Result, lines: list[str]) -> list[Failure]:
    out: list[Failure] = []
    raw = [line for line in lines if not line.startswith("ivcviewer: ")]
    if raw:
        out.append(Failure("raw-output", f"exit 0 with raw stderr: {raw[0][:160]!r}"))
    said = "warning" in (result.stderr + result.stdout).lower()
    if case.must_refuse and not said:
        out.append(Failure("silent-accept", f"exit 0 without a word on: {case.mutation[:160]}"))
    if case.json_out:
        try:
            json.loads(result.stdout)
        except ValueError as exc:
            out.append(Failure("bad-output", f"--json output is not JSON ({exc})"))
    if case.argv and case.argv[0] == "overlay" and case.out_dir is not None:
        missing = [
            n for n in ("labels.nii.gz", "findings.json") if not (case.out_dir / n).is_file()
        ]
        if missing:
            out.append(Failure("bad-output", f"overlay exit 0 but {missing} missing in --out"))
    return out


def check(
    case: Case, result: Result, before: dict[str, str], after: dict[str, str]
) -> list[Failure]:
    """Every way ``result`` breaks the contract for ``case`` (empty: it kept it)."""
    lines = _lines(result.stderr)
    text = result.stderr
    first = lines[0][:200] if lines else ""
    if result.timed_out:
        return [Failure("hang", f"killed after {result.seconds:.0f} s")]
    if result.status == -9 or result.status == -24:  # SIGKILL by RLIMIT or SIGXCPU
        return [Failure("hang", f"killed by signal {-result.status} (CPU time limit)")]
    if result.status < 0:
        return [Failure("crash", f"signal {-result.status}")]
    if any(
        s in text
        for s in ("MemoryError", "bad_alloc", "Unable to allocate", "Cannot allocate memory")
    ):
        return [Failure("memory", first)]
    found: list[Failure] = []
    if "Traceback (most recent call last)" in text:
        last = next((line for line in reversed(lines) if not line.startswith(" ")), first)
        found.append(Failure("traceback", last[:200]))
    if result.leftover:
        found.append(Failure("leftover-process", "a process of the run was still alive after it"))
    if result.status == 2 and not found:
        found += _on_error(case, lines)
    elif result.status == 0:
        found += _on_success(case, result, lines)
    elif not found:
        found.append(Failure("bad-status", f"exit {result.status}: {first}"))
    if before != after:
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        found.append(Failure("input-changed", f"inputs changed or written into: {changed[:5]}"))
    return found
