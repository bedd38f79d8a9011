"""Which files a scan reads: those under a folder, one file, or a DICOMDIR's references.

A walk never opens anything but regular files (a FIFO, a device or a socket could block a
read forever), never follows a link out of the folder it was given or into a folder it has
already seen (so a link loop ends), stops descending at ``Limits.max_walk_depth`` (the folders
not searched are reported) and refuses a tree of more than ``Limits.max_walk_entries``
entries. A DICOMDIR is read record by record (a loop among its record offsets cannot trap
it); a record naming a further DICOMDIR is followed once, and a referenced file ID that leaves
the DICOMDIR's folder is refused. File IDs are matched to the names on disc when only their
case, an ISO 9660 version (``;1``) or a trailing dot differ (media copied or mounted on Linux
have lower-case names), and the files a DICOMDIR lists but that are missing are summed up in
one line.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom import uid as pduid
from pydicom.errors import InvalidDicomError

from .._files import file_kind
from ..errors import ResourceLimitError
from ..limits import Limits, default_limits
from ..report import ReportCode
from .bounded_file import dcmread_bounded
from .library_messages import first_notes, library_messages
from .records import SkippedFile

#: Missing files a DICOMDIR summary names before it says "and N more".
MISSING_NAMED = 3


def candidate_files(
    root: Path, recursive: bool, limits: Limits | None = None
) -> Iterator[Path | SkippedFile]:
    """The files to read under ``root``, in a stable (sorted) order.

    Parameters
    ----------
    root
        A folder (its files, sub-folders too when ``recursive``), a DICOMDIR (the files it
        references) or any other file (itself).
    recursive
        Walk sub-folders.
    limits
        Depth and entry bounds of the walk (default: :func:`~ivcviewer.limits.default_limits`).

    Yields
    ------
    Path or SkippedFile
        A regular file to read, or a :class:`SkippedFile` for what is left out unopened: a
        FIFO, device or socket, a link leading out of ``root`` or back into a folder already
        walked, a folder below the depth limit; for a DICOMDIR, one that cannot be read,
        its missing files (one summary) and references that leave its folder (those first).

    Raises
    ------
    ResourceLimitError
        When the walk meets more than ``limits.max_walk_entries`` entries.
    """
    limits = limits if limits is not None else default_limits()
    kind = _kind(root)
    if kind == "file":
        if _is_dicomdir(root):
            yield from _dicomdir_files(root, limits)
        else:
            yield root
        return
    if kind != "dir":
        yield SkippedFile(root, ReportCode.NON_IMAGE_SKIPPED, _not_regular(kind))
        return
    yield from _Walk(root, recursive, limits).files()


def _kind(path: Path) -> str:
    """``file``, ``dir``, ``missing``, or what a special file is in words (``a FIFO ...``)."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return "missing"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    return file_kind(mode)


def _not_regular(kind: str) -> str:
    if kind == "missing":
        return "cannot be read (a broken link, or removed during the scan)"
    return f"{kind}, not a regular file: not opened"


def _inside(path: Path, folder: Path) -> bool:
    """``path`` (resolved) lies in ``folder`` (resolved)."""
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


@dataclass
class _Walk:
    """One bounded walk of a folder tree."""

    root: Path
    recursive: bool
    limits: Limits
    entries: int = 0
    seen_dirs: set[tuple[int, int]] = field(default_factory=set)
    seen_files: set[tuple[int, int]] = field(default_factory=set)

    def files(self) -> Iterator[Path | SkippedFile]:
        try:
            real_root = self.root.resolve(strict=True)
            st = os.stat(real_root)
        except (OSError, RuntimeError) as exc:
            yield SkippedFile(self.root, ReportCode.UNREADABLE_FILE, f"cannot be read ({exc})")
            return
        self.seen_dirs.add((st.st_dev, st.st_ino))
        stack: list[tuple[Path, int]] = [(self.root, 0)]
        while stack:
            folder, depth = stack.pop()
            subfolders: list[Path] = []
            for entry in self._entries(folder):
                out = self._visit(entry, real_root)
                if isinstance(out, (Path, SkippedFile)):
                    yield out
                elif out == "dir":
                    subfolders.append(entry)
            if not self.recursive:
                continue
            for sub in reversed(subfolders):  # popped in sorted order
                if depth + 1 > self.limits.max_walk_depth:
                    yield SkippedFile(
                        sub,
                        ReportCode.NON_IMAGE_SKIPPED,
                        f"folder more than {self.limits.max_walk_depth} levels below "
                        f"{self.root}: not searched",
                    )
                else:
                    stack.append((sub, depth + 1))

    def _entries(self, folder: Path) -> list[Path]:
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            return []
        self.entries += len(names)
        if self.entries > self.limits.max_walk_entries:
            raise ResourceLimitError(
                f"{self.root}: the folder tree holds more than {self.limits.max_walk_entries:,} "
                "entries, the most a search looks at. Fix: point to the folder of one series "
                "(or its DICOMDIR) instead of a whole archive."
            )
        return [folder / n for n in names]

    def _visit(self, entry: Path, real_root: Path) -> Path | SkippedFile | str | None:
        """A file to read, a SkippedFile, ``"dir"`` for a folder to descend, or ``None``."""
        kind = _kind(entry)
        if kind not in ("file", "dir"):
            return SkippedFile(entry, ReportCode.NON_IMAGE_SKIPPED, _not_regular(kind))
        if kind == "dir" and not self.recursive:
            return None
        if entry.is_symlink():
            try:
                target = entry.resolve(strict=True)
            except (OSError, RuntimeError):
                return SkippedFile(entry, ReportCode.NON_IMAGE_SKIPPED, "a link that loops")
            if not _inside(target, real_root):
                return SkippedFile(
                    entry,
                    ReportCode.NON_IMAGE_SKIPPED,
                    f"a link leading outside {self.root} (to {target}): not followed",
                )
        try:
            st = os.stat(entry)
        except OSError:
            return None
        key = (st.st_dev, st.st_ino)
        if kind == "dir":
            if key in self.seen_dirs:
                return SkippedFile(
                    entry, ReportCode.NON_IMAGE_SKIPPED, "a folder already searched (a link loop)"
                )
            self.seen_dirs.add(key)
            return "dir"
        if key in self.seen_files:
            return None  # the same file reached through a link
        self.seen_files.add(key)
        return entry


def _is_dicomdir(path: Path) -> bool:
    """A file named DICOMDIR, or one whose Media Storage SOP Class is a directory."""
    if path.name.upper() == "DICOMDIR":
        return True
    try:
        with library_messages():
            meta = pydicom.filereader.read_file_meta_info(path)
    except (InvalidDicomError, OSError, EOFError, ValueError, KeyError, TypeError):
        return False
    return str(meta.get("MediaStorageSOPClassUID", "")) == pduid.MediaStorageDirectoryStorage


def _dicomdir_files(dicomdir: Path, limits: Limits) -> list[Path | SkippedFile]:
    """What a DICOMDIR (and the DICOMDIRs it names) leaves out, then the files it references."""
    reader = _DicomdirReader(limits)
    reader.read(dicomdir, 0)
    missing = _missing_summary(dicomdir, reader.missing, nested=len(reader.visited) > 1)
    return [*reader.skipped, *missing, *sorted(reader.files)]


@dataclass
class _DicomdirReader:
    """Reads a DICOMDIR's records, following nested DICOMDIRs once each."""

    limits: Limits
    files: set[Path] = field(default_factory=set)
    skipped: list[SkippedFile] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)
    visited: set[Path] = field(default_factory=set)
    listings: dict[Path, dict[str, str]] = field(default_factory=dict)
    listed: int = 0

    def read(self, dicomdir: Path, depth: int) -> None:
        real = dicomdir.resolve()
        if real in self.visited:
            return  # a DICOMDIR that names itself or an ancestor: read once
        self.visited.add(real)
        if depth > self.limits.max_walk_depth:
            self.skipped.append(
                SkippedFile(
                    dicomdir,
                    ReportCode.NON_IMAGE_SKIPPED,
                    f"DICOMDIR nested more than {self.limits.max_walk_depth} levels deep: not read",
                )
            )
            return
        try:
            with library_messages() as notes:
                ds = dcmread_bounded(dicomdir, force=True)
                records = list(ds.get("DirectoryRecordSequence", None) or [])
        except (InvalidDicomError, OSError, EOFError, ValueError, KeyError, AttributeError,
                TypeError, NotImplementedError, IndexError, RecursionError) as exc:  # fmt: skip
            why = f"unreadable DICOMDIR: {type(exc).__name__}: {str(exc)[:160]}"
            self.skipped.append(SkippedFile(dicomdir, ReportCode.UNREADABLE_FILE, why))
            return
        if not records:
            why = "unreadable DICOMDIR: it holds no directory records"
            if notes:
                why += f" (pydicom: {first_notes(notes, 1)})"
            self.skipped.append(SkippedFile(dicomdir, ReportCode.UNREADABLE_FILE, why))
            return
        if len(records) > self.limits.max_walk_entries:
            raise ResourceLimitError(
                f"{dicomdir}: the DICOMDIR holds {len(records):,} records, more than the "
                f"{self.limits.max_walk_entries:,} a search looks at. Fix: point to the folder "
                "of one series instead."
            )
        with library_messages():  # values are converted (and complained about) on access
            for record in records:
                self._record(dicomdir, record, depth)

    def _record(self, dicomdir: Path, record: pydicom.Dataset, depth: int) -> None:
        try:
            parts = record.get("ReferencedFileID", None)
        except (ValueError, TypeError, NotImplementedError, KeyError):
            parts = None
        if parts is None or parts == "":
            return
        parts = [parts] if isinstance(parts, str) else [str(p) for p in parts]
        target = _referenced_path(dicomdir, parts)
        if isinstance(target, SkippedFile):
            self.skipped.append(target)
            return
        kind = _kind(target)
        if kind == "missing":
            found = self._media_name_match(dicomdir.parent, parts)
            if found is not None:
                target, kind = found, _kind(found)
        if kind == "missing":
            self.missing.append(target)
        elif kind != "file":
            self.skipped.append(
                SkippedFile(target, ReportCode.NON_IMAGE_SKIPPED, _not_regular(kind))
            )
        elif _is_dicomdir(target):
            self.read(target, depth + 1)
        else:
            self.files.add(target)

    def _media_name_match(self, folder: Path, parts: list[str]) -> Path | None:
        """The file ``parts`` names under ``folder`` when only the case of its names, an ISO 9660
        version (``;1``) or a trailing dot differ (media copied or mounted with lower-case
        names), else ``None``."""
        current = folder
        for part in parts:
            name = self._listing(current).get(_media_key(part))
            if name is None:
                return None
            current = current / name
        try:
            inside = _inside(current.resolve(), folder.resolve())
        except (OSError, RuntimeError):
            return None
        return current if inside else None

    def _listing(self, folder: Path) -> dict[str, str]:
        """``folder``'s entries by :func:`_media_key` (read once; bounded like a walk)."""
        if folder not in self.listings:
            try:
                names = sorted(os.listdir(folder))
            except OSError:
                names = []
            self.listed += len(names)
            if self.listed > self.limits.max_walk_entries:
                raise ResourceLimitError(
                    f"{folder}: the folders a DICOMDIR points into hold more than "
                    f"{self.limits.max_walk_entries:,} entries, the most a search looks at. Fix: "
                    "point to the folder of one series instead."
                )
            self.listings[folder] = {_media_key(n): n for n in reversed(names)}
        return self.listings[folder]


def _media_key(name: str) -> str:
    """A file ID component compared as removable media spell it.

    >>> _media_key("im0001;1"), _media_key("IM0001."), _media_key(" Se000001 ")
    ('IM0001', 'IM0001', 'SE000001')
    """
    return name.strip().split(";")[0].rstrip(".").upper()


def _referenced_path(dicomdir: Path, parts: list[str]) -> Path | SkippedFile:
    """The file a ReferencedFileID names, or why it is refused (it leaves the folder)."""
    shown = "\\".join(parts)[:80]
    bad = [
        p
        for p in parts
        if p.strip() in ("", ".", "..") or "/" in p or "\\" in p or ":" in p or "\0" in p
    ]
    if bad:
        return SkippedFile(
            dicomdir,
            ReportCode.UNREADABLE_FILE,
            f"ReferencedFileID {shown!r} is not a path inside the DICOMDIR's folder "
            "(components must be plain names): not followed",
        )
    target = dicomdir.parent.joinpath(*(p.strip() for p in parts))
    try:
        real = target.resolve()
        folder = dicomdir.parent.resolve()
    except (OSError, RuntimeError):
        return SkippedFile(target, ReportCode.NON_IMAGE_SKIPPED, "a link that loops")
    if not _inside(real, folder):
        return SkippedFile(
            target,
            ReportCode.NON_IMAGE_SKIPPED,
            f"ReferencedFileID {shown!r} leads outside the DICOMDIR's folder (to {real}): "
            "not followed",
        )
    return target


def _missing_summary(dicomdir: Path, missing: list[Path], nested: bool) -> list[SkippedFile]:
    """One :class:`SkippedFile` for all the files a DICOMDIR (and the DICOMDIRs it names) lists
    but which are missing, named relative to the DICOMDIR's folder."""
    if not missing:
        return []
    where = "this DICOMDIR and the DICOMDIRs it names" if nested else "this DICOMDIR"
    if len(missing) == 1 and not nested:
        return [
            SkippedFile(
                missing[0],
                ReportCode.UNREADABLE_FILE,
                f"listed in {dicomdir} but the file is missing",
            )
        ]
    names = ", ".join(_relative(p, dicomdir.parent) for p in missing[:MISSING_NAMED])
    more = f" and {len(missing) - MISSING_NAMED} more" if len(missing) > MISSING_NAMED else ""
    return [
        SkippedFile(
            dicomdir,
            ReportCode.UNREADABLE_FILE,
            f"{len(missing)} {'file' if len(missing) == 1 else 'files'} listed in {where} "
            f"{'is' if len(missing) == 1 else 'are'} missing ({names}{more})",
        )
    ]


def _relative(path: Path, folder: Path) -> str:
    """``path`` relative to ``folder`` when it lies there, else its name.

    >>> _relative(Path("/m/DISC1/IM1"), Path("/m")), _relative(Path("/x/IM1"), Path("/m"))
    ('DISC1/IM1', 'IM1')
    """
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return path.name
