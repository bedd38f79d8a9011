"""Atomic output: write beside the target, then rename, so no half-written file is ever seen.

Temporary files and folders made by :mod:`tempfile` are private (0600/0700); the finished
output gets the ordinary permissions the user's umask gives to a new file or folder.

One file is written by :func:`atomic_file`; a whole output *set* (every file of one command's
``--out`` folder) by :func:`output_set`: the set is written into a temporary sibling folder,
completed with the marker file :data:`MARKER` (the files with their sizes and SHA-256), and
swapped in, so that the target path always holds either the old complete set or the new one.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime
import errno
import fnmatch
import hashlib
import json
import os
import secrets
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from .errors import OutputExistsError


def _umask() -> int:
    """The process umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # no /proc: read it by setting it back at once
    os.umask(mask)
    return mask


def file_mode() -> int:
    """Permissions of a new file under the current umask (usually 0644)."""
    return 0o666 & ~_umask()


def dir_mode() -> int:
    """Permissions of a new folder under the current umask (usually 0755)."""
    return 0o777 & ~_umask()


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it onto ``path``.

    ``suffix`` ends the temporary name (writers that choose the format by the ending need it).
    On any error the temporary file is removed and ``path`` is left as it was.
    """
    out = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=f".tmp{suffix}", dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, file_mode())
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically; returns the path."""
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def temp_dir_beside(path: str | os.PathLike[str]) -> Path:
    """A new empty folder beside ``path`` (same file system) with ordinary permissions."""
    out = Path(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    os.chmod(tmp, dir_mode())
    return tmp


def discard_dir(path: str | os.PathLike[str]) -> None:
    """Remove a temporary folder and everything in it, ignoring what is already gone."""
    shutil.rmtree(path, ignore_errors=True)


# ----------------------------------------------------------------------------- output sets

#: The file that marks a folder as a complete output set of ivcviewer (written last).
MARKER = "ivcviewer-complete.json"
#: ``format`` of the marker and its version.
MARKER_FORMAT = "ivcviewer.output-set"
MARKER_FORMAT_VERSION = 1
#: Middle of the names of the temporary sibling folders: ``.<name>.ivcviewer-tmp-<pid>-<random>``
#: holds a set being written, ``.<name>.ivcviewer-old-<pid>-<random>`` an old set being removed.
TMP_TAG = ".ivcviewer-tmp-"
OLD_TAG = ".ivcviewer-old-"
#: Leftovers of per-file atomic writes (older versions wrote a set file by file); they belong
#: to any set.
LEFTOVER_PATTERNS: tuple[str, ...] = (".*.tmp*", ".*.partial")

_CHUNK = 1 << 20


@dataclass(frozen=True)
class SetKind:
    """What one command writes as an output set.

    Attributes
    ----------
    command
        The command that writes it (recorded in the marker; a set of another command is
        never replaced as one's own).
    what
        How messages name the set ("overlay", "phantom").
    names
        Top-level entries the set writes: a folder holding only these (and no marker) is an
        incomplete set of this kind, left by an interrupted run.
    patterns
        Further top-level entries (glob patterns) the set may hold, e.g. screenshots.
    """

    command: str
    what: str
    names: frozenset[str]
    patterns: tuple[str, ...] = ()

    def owns(self, name: str) -> bool:
        """Whether a top-level entry ``name`` may belong to a set of this kind.

        >>> kind = SetKind("demo", "demo overlay", frozenset({"findings.json"}), ("*.png",))
        >>> [kind.owns(n) for n in ("findings.json", "a.png", ".x.tmp.json", "notes.txt")]
        [True, True, True, False]
        """
        patterns = (*self.patterns, *LEFTOVER_PATTERNS)
        return name in self.names or any(fnmatch.fnmatchcase(name, p) for p in patterns)


class TargetState(Enum):
    """What the target path of an output set holds."""

    ABSENT = "absent"
    EMPTY = "empty"
    COMPLETE = "complete"
    INCOMPLETE = "incomplete"
    FOREIGN = "foreign"


@dataclass(frozen=True)
class Inspection:
    """The state of a target folder, its marker and the entries that are not the set's."""

    state: TargetState
    marker: dict[str, Any] | None = None
    foreign: tuple[str, ...] = ()


def read_marker(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The marker document of ``folder``, or None when it has none or it is not one."""
    path = Path(folder) / MARKER
    try:
        if not path.is_file() or path.stat().st_size > 64 * _CHUNK:
            return None
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != MARKER_FORMAT:
        return None
    files = doc.get("files")
    if not isinstance(files, list) or not all(
        isinstance(f, dict) and isinstance(f.get("path"), str) for f in files
    ):
        return None
    return doc


def inspect_target(target: str | os.PathLike[str], kind: SetKind) -> Inspection:
    """Tell what ``target`` holds: nothing, an empty folder, a set of ``kind``, or other files.

    A folder holds a *complete* set when its marker names ``kind.command`` and every entry is
    the marker's or the kind's; an *incomplete* one when it has no such marker but holds only
    the kind's entries; anything else is *foreign*.

    Raises
    ------
    OutputExistsError
        ``target`` exists and is not a folder.
    """
    path = Path(target)
    if not path.exists() and not path.is_symlink():
        return Inspection(TargetState.ABSENT)
    if not path.is_dir():
        raise OutputExistsError(
            f"{path}: exists and is not a folder. Fix: give a folder path (new or empty)."
        )
    entries = sorted(os.listdir(path))
    if not entries:
        return Inspection(TargetState.EMPTY)
    marker = read_marker(path)
    if marker is not None and marker.get("command") != kind.command:
        marker = None
    listed = {MARKER} if marker is not None else set()
    if marker is not None:
        listed |= {f["path"].split("/", 1)[0] for f in marker["files"]}
    foreign = tuple(e for e in entries if e not in listed and not kind.owns(e))
    if foreign:
        return Inspection(TargetState.FOREIGN, marker, foreign)
    state = TargetState.COMPLETE if marker is not None else TargetState.INCOMPLETE
    return Inspection(state, marker)


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie counts as ended)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rpartition(")")[2].split()[:1] != ["Z"]
    except OSError:
        return True


def _temp_pid(name: str, target_name: str) -> int | None:
    """The pid in a temporary sibling's name of ``target_name``, or None for other names.

    >>> _temp_pid(".out.ivcviewer-tmp-123-ab12", "out"), _temp_pid("out2", "out")
    (123, None)
    """
    for tag in (TMP_TAG, OLD_TAG):
        head = f".{target_name}{tag}"
        if name.startswith(head):
            pid = name[len(head) :].split("-", 1)[0]
            return int(pid) if pid.isdigit() else None
    return None


def clean_stale(target: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary siblings of ``target`` left by runs that no longer run.

    Returns
    -------
    list of Path
        The folders removed.
    """
    path = Path(target)
    try:
        siblings = os.listdir(path.parent)
    except OSError:
        return []
    removed = []
    for name in sorted(siblings):
        pid = _temp_pid(name, path.name)
        if pid is None or _pid_alive(pid):
            continue
        stale = path.parent / name
        if stale.is_symlink() or not stale.is_dir():
            continue
        shutil.rmtree(stale, ignore_errors=True)
        if not stale.exists():
            removed.append(stale)
    return removed


def target_path(target: str | os.PathLike[str]) -> Path:
    """The absolute path an output set is swapped into (a symbolic link is followed)."""
    path = Path(os.path.abspath(target))
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def check_target(
    target: str | os.PathLike[str],
    kind: SetKind,
    *,
    force: bool = False,
    replace_complete: bool = True,
    label: str | None = None,
) -> Inspection:
    """Clean stale temporaries beside ``target``, then refuse a target the set may not replace.

    Parameters
    ----------
    target
        The output folder.
    kind
        What the set is.
    force
        Write even into a folder that holds other files (they are kept) or a complete set.
    replace_complete
        Whether a complete set of ``kind`` is replaced without ``force``.
    label
        How messages name the target (e.g. ``--out DIR``); default its path.

    Raises
    ------
    OutputExistsError
        ``target`` is a file, holds files that are not the set's, or (without
        ``replace_complete``) a complete set, and ``force`` is not given.
    """
    path = target_path(target)
    name = label or str(target)
    removed = clean_stale(path)
    if removed:
        warnings.warn(
            f"{name}: removed {len(removed)} temporary folder(s) of interrupted runs: "
            + ", ".join(p.name for p in removed),
            stacklevel=2,
        )
    found = inspect_target(path, kind)
    if found.state is TargetState.FOREIGN and not force:
        shown = ", ".join(found.foreign[:5]) + (", ..." if len(found.foreign) > 5 else "")
        raise OutputExistsError(
            f"{name}: is not empty and is not an ivcviewer {kind.what} (it holds {shown}). "
            f"Fix: give a new or empty folder, or add --force to write the {kind.what} into it "
            "(its other files are kept)."
        )
    if found.state is TargetState.COMPLETE and not (replace_complete or force):
        marker = found.marker or {}
        raise OutputExistsError(
            f"{name}: is not empty: it holds a complete {kind.what} written by ivcviewer "
            f"{marker.get('ivcviewer_version', '?')} at {marker.get('created_utc', '?')}. "
            "Fix: give a new or empty folder, or add --force to replace it."
        )
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_entries(folder: Path, paths: Iterable[Path]) -> list[dict[str, Any]]:
    return [
        {"path": p.relative_to(folder).as_posix(), "size": p.stat().st_size, "sha256": _sha256(p)}
        for p in sorted(paths)
        if p.is_file() and not p.is_symlink() and p.name != MARKER
    ]


def write_marker(folder: str | os.PathLike[str], command: str) -> Path:
    """Write the marker of a finished set: command, version, time, files with size and SHA-256.

    Every regular file under ``folder`` is listed (paths relative to it, ``/``-separated).
    """
    from . import __version__

    root = Path(folder)
    doc = {
        "format": MARKER_FORMAT,
        "format_version": MARKER_FORMAT_VERSION,
        "complete": True,
        "command": command,
        "ivcviewer_version": __version__,
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "files": _file_entries(root, root.rglob("*")),
    }
    return write_text(root / MARKER, json.dumps(doc, indent=1) + "\n")


def extend_marker(folder: str | os.PathLike[str], paths: Iterable[Path]) -> Path | None:
    """Add files written into a complete set after its swap (e.g. screenshots) to its marker.

    Paths that are not regular files inside ``folder`` are skipped; returns None when
    ``folder`` has no marker.
    """
    root = Path(folder)
    doc = read_marker(root)
    if doc is None:
        return None
    inside = [p for p in (Path(q) for q in paths) if p.parent.resolve() == root.resolve()]
    added = _file_entries(root, (root / p.name for p in inside))
    known = {f["path"] for f in added}
    doc["files"] = sorted(
        [f for f in doc["files"] if f["path"] not in known] + added, key=lambda f: f["path"]
    )
    return write_text(root / MARKER, json.dumps(doc, indent=1) + "\n")


def verify_set(folder: str | os.PathLike[str]) -> list[str]:
    """What is wrong with the output set in ``folder``: [] for a complete, intact set.

    Checks the marker, each listed file's size and SHA-256, and that no other file is there.
    """
    root = Path(folder)
    doc = read_marker(root)
    if doc is None:
        return [f"{root}: no valid {MARKER}"]
    problems = []
    listed = {}
    for entry in doc["files"]:
        path = root / entry["path"]
        listed[entry["path"]] = entry
        if not path.is_file():
            problems.append(f"{entry['path']}: missing")
        elif path.stat().st_size != entry.get("size") or _sha256(path) != entry.get("sha256"):
            problems.append(f"{entry['path']}: size or SHA-256 differs from the marker")
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and rel != MARKER and rel not in listed:
            problems.append(f"{rel}: not in the marker")
    return problems


# ----------------------------------------------------------------------------- the swap

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _renameat2() -> Callable[..., int] | None:
    """glibc's ``renameat2``, or None where there is none (not Linux, old C library)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def exchange(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Swap two paths in one step (``renameat2(RENAME_EXCHANGE)``); False where unsupported.

    Raises
    ------
    OSError
        The exchange is supported but failed (e.g. a path vanished).
    """
    fn = _renameat2()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), os.fspath(b))


def _aside_name(target: Path) -> Path:
    return target.parent / f".{target.name}{OLD_TAG}{os.getpid()}-{secrets.token_hex(4)}"


def replace_dir(new: Path, target: Path) -> None:
    """Put folder ``new`` at ``target``, whose old folder (if any) is removed.

    With ``renameat2(RENAME_EXCHANGE)`` the two are exchanged in one step and ``target`` is at
    every moment the old folder or the new one. Without it the old folder is renamed aside
    (``.<name>.ivcviewer-old-<pid>-<random>``) and the new one renamed in: between the two
    renames ``target`` is absent, never a mix, and a run killed there leaves both folders
    under temporary names that the next run removes.
    """
    if not target.exists() and not target.is_symlink():
        os.rename(new, target)
        return
    if target.is_dir() and not target.is_symlink() and not any(target.iterdir()):
        os.rename(new, target)  # an empty folder is replaced in one rename
        return
    if exchange(new, target):
        shutil.rmtree(new, ignore_errors=True)  # ``new`` now holds the old folder
        return
    aside = _aside_name(target)
    os.rename(target, aside)
    os.rename(new, target)
    shutil.rmtree(aside, ignore_errors=True)


def _merge_into(tmp: Path, target: Path) -> None:
    """Move the set's entries into a folder that also holds other files (``--force``).

    The old marker goes first and the new one last, so until the end the folder reads as
    incomplete; each entry is replaced in one rename.
    """
    with contextlib.suppress(FileNotFoundError):
        (target / MARKER).unlink()
    for src in sorted(tmp.iterdir()):
        if src.name == MARKER:
            continue
        dest = target / src.name
        if dest.is_dir() and not dest.is_symlink():
            replace_dir(src, dest)
        elif src.is_dir() and (dest.exists() or dest.is_symlink()):
            dest.unlink()
            os.rename(src, dest)
        else:
            os.replace(src, dest)
    os.replace(tmp / MARKER, target / MARKER)
    shutil.rmtree(tmp, ignore_errors=True)


def _holds_cwd(target: Path) -> bool:
    try:
        cwd = Path.cwd().resolve()
    except OSError:
        return False
    return cwd == target.resolve() or target.resolve() in cwd.parents


def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; returns those created, deepest last."""
    missing = []
    for p in [folder, *folder.parents]:
        if p.exists():
            break
        missing.append(p)
    folder.mkdir(parents=True, exist_ok=True)
    return missing[::-1]


@contextlib.contextmanager
def output_set(
    target: str | os.PathLike[str],
    kind: SetKind,
    *,
    force: bool = False,
    replace_complete: bool = True,
    label: str | None = None,
) -> Iterator[Path]:
    """Yield a temporary sibling folder of ``target``; on success mark it complete, swap it in.

    The set is written into ``.<name>.ivcviewer-tmp-<pid>-<random>`` beside ``target``; when
    the block ends, :data:`MARKER` is written into it and it replaces ``target`` in one step
    (:func:`replace_dir`). A folder that holds other files is written into entry by entry
    (only with ``force``; :func:`_merge_into`), as is the current folder or one that holds it.
    On any error the temporary folder, and the parents this call created, are removed, and
    ``target`` is left as it was. Arguments and errors as :func:`check_target`; an incomplete
    set of ``kind`` found at ``target`` is replaced with a warning.
    """
    path = target_path(target)
    name = label or str(target)
    check_target(path, kind, force=force, replace_complete=replace_complete, label=name)
    created = _make_parents(path.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}{TMP_TAG}{os.getpid()}-", dir=path.parent))
    try:
        os.chmod(tmp, dir_mode())
        yield tmp
        write_marker(tmp, kind.command)
        # again: another run may have written the target meanwhile
        found = check_target(path, kind, force=force, replace_complete=replace_complete, label=name)
        if found.state is TargetState.INCOMPLETE:
            warnings.warn(
                f"{name}: held an incomplete {kind.what} (no {MARKER}: an earlier run was "
                "interrupted); it is replaced",
                stacklevel=3,
            )
        if found.state is TargetState.FOREIGN or (_holds_cwd(path) and path.exists()):
            _merge_into(tmp, path)
        else:
            replace_dir(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for folder in reversed(created):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
