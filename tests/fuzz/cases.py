"""One fuzz case per number: a damaged copy of a seed in a folder of its own, and a command.

:func:`make_case` is deterministic in (seed, index): the same pair gives the same inputs and the
same command, whatever the order or the number of parallel jobs, so a failing case can be
replayed alone (``python -m fuzz --only INDEX``).
"""

from __future__ import annotations

import os
import random
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import mutators as mu


@dataclass
class Case:
    """A damaged input and the command that reads it.

    ``root/in`` holds every input that may be damaged (it must be unchanged after the run and
    receive no output); ``root/work`` is the child's working folder and holds ``--out``.
    ``names`` are the strings one of which an error line must contain to name the input.
    """

    index: int
    scenario: str
    root: Path
    mutation: str = ""
    argv: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    must_refuse: bool = False
    json_out: bool = False
    out_dir: Path | None = None

    @property
    def inputs(self) -> Path:
        return self.root / "in"

    @property
    def work(self) -> Path:
        return self.root / "work"

    def describe(self) -> str:
        return f"#{self.index} [{self.scenario}] {self.mutation}"


class Ctx:
    """What a scenario needs: the corpus (seed name -> absolute path) and the case."""

    def __init__(self, corpus: dict[str, Path], case: Case, rng: random.Random) -> None:
        self.corpus = corpus
        self.case = case
        self.rng = rng

    def has(self, *names: str) -> bool:
        return all(n in self.corpus for n in names)

    def copy(self, seed: str, sub: str = "data", name: str | None = None) -> Path:
        """Copy a seed into the case's input folder and name it as an input."""
        src = self.corpus[seed]
        dst = self.case.inputs / sub / (name or src.name)
        if src.is_dir():
            shutil.copytree(src, dst, symlinks=True)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
        self.case.names += [str(dst), dst.name]
        return dst

    def mutate(self, what: str) -> None:
        if what.startswith("!"):
            self.case.must_refuse = True
            what = what[1:]
        self.case.mutation = (self.case.mutation + "; " if self.case.mutation else "") + what

    def run(self, *argv: str, json_out: bool = False) -> None:
        self.case.argv = [str(a) for a in argv]
        self.case.json_out = json_out

    def info(self, path: Path) -> None:
        if self.rng.random() < 0.5:
            self.run("info", path, "--json", json_out=True)
        else:
            self.run("info", path)

    def out(self) -> Path:
        self.case.out_dir = self.case.work / "out"
        return self.case.out_dir


# --------------------------------------------------------------------------------------------
# structural damage to a folder


def _structural(ctx: Ctx, folder: Path) -> str:
    rng = ctx.rng
    kind = rng.choice(
        [
            "fifo",
            "symlink loop",
            "deep tree",
            "link outside",
            "dev zero",
            "socket",
            "dir named .dcm",
            "empty file",
            "self link",
        ]
    )
    if kind == "fifo":
        os.mkfifo(folder / "zz_slice.dcm")
    elif kind == "symlink loop":
        (folder / "loop").mkdir()
        os.symlink("..", folder / "loop" / "up")
    elif kind == "self link":
        os.symlink(".", folder / "again")
    elif kind == "deep tree":
        deep = folder
        for i in range(rng.choice([40, 200])):
            deep = deep / f"d{i % 10}"
        deep.mkdir(parents=True)
        shutil.copyfile(next(p for p in sorted(folder.iterdir()) if p.is_file()), deep / "x.dcm")
    elif kind == "link outside":
        os.symlink(ctx.corpus["ph_ct"], folder / "elsewhere")
    elif kind == "dev zero":
        os.symlink("/dev/zero", folder / "zero.dcm")
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX)
        try:
            sock.bind(str(folder / "sock.dcm"))
        except OSError:
            pass
        finally:
            sock.close()
    elif kind == "dir named .dcm":
        (folder / "folder.dcm").mkdir()
    else:
        (folder / "empty.dcm").write_bytes(b"")
    return f"folder: {kind}"


# --------------------------------------------------------------------------------------------
# scenarios


def _series(ctx: Ctx) -> None:
    seeds = [s for s in ("ct3_series", "ts_series", "ph_ct") if s in ctx.corpus]
    seed = ctx.rng.choice(seeds)
    folder = ctx.copy(seed, "data", "series")
    files = sorted(p for p in folder.iterdir() if p.is_file())
    roll = ctx.rng.random()
    if roll < 0.5:
        chosen = files if ctx.rng.random() < 0.2 else ctx.rng.sample(files, ctx.rng.randint(1, 2))
        state = ctx.rng.random()  # every chosen file gets the same edit
        whats = {mu.mutate_dicom(random.Random(state), f) for f in chosen}
        for f in chosen:
            ctx.case.names.append(f.name)
        ctx.mutate(f"{len(chosen)} file(s): " + " | ".join(sorted(whats)))
    elif roll < 0.8:
        f = ctx.rng.choice(files)
        ctx.case.names.append(f.name)
        ctx.mutate(f"{f.name}: " + mu.mutate_bytes(ctx.rng, f))
    else:
        ctx.mutate(_structural(ctx, folder))
    c = ctx.corpus
    roll = ctx.rng.random()
    if seed == "ph_ct" and roll < 0.3:
        ctx.run("measure", c["ph_labels"], "--ct", folder)
    elif seed == "ph_ct" and roll < 0.6:
        ctx.run(
            "overlay",
            folder,
            "--case",
            c["case"],
            "--phantom-truth",
            c["phantom"],
            "--out",
            ctx.out(),
        )
    elif seed == "ts_series" and roll < 0.3 and ctx.has("ts_seg"):
        ctx.run("measure", c["ts_seg"], "--ct", folder)
    else:
        ctx.info(folder)


def _dicom_file(ctx: Ctx) -> None:
    choices = [s for s in ("seg_dcm",) if s in ctx.corpus] + ["slice"]
    seed = ctx.rng.choice(choices)
    if seed == "slice":
        src = sorted(ctx.corpus["ph_ct"].iterdir())[ctx.rng.randrange(72)]
        ctx.corpus["_slice"] = src
        path = ctx.copy("_slice")
    else:
        path = ctx.copy(seed)
    mut = mu.mutate_dicom if ctx.rng.random() < 0.6 else mu.mutate_bytes
    ctx.mutate(mut(ctx.rng, path))
    if seed == "seg_dcm" and ctx.has("ct3_series") and ctx.rng.random() < 0.5:
        # a damaged SEG as the anatomy of a fit, on the series it references
        c = ctx.corpus
        fit = ("--case", c["case"], "--anatomy", path, "--out", ctx.out())
        ctx.run("overlay", c["ct3_series"], *fit)
        return
    ctx.info(path)


def _dicomdir(ctx: Ctx) -> None:
    folder = ctx.copy("dicomdir", "data", "dicomdir")
    dd = folder / "DICOMDIR"
    images = sorted(p for p in folder.rglob("IM*") if p.is_file())
    roll = ctx.rng.random()
    if roll < 0.35:
        ctx.mutate("DICOMDIR: " + _dicomdir_records(ctx.rng, dd, folder))
    elif roll < 0.6:
        ctx.mutate("DICOMDIR: " + mu.mutate_bytes(ctx.rng, dd))
    elif roll < 0.85:
        f = ctx.rng.choice(images)
        ctx.case.names.append(f.name)
        ctx.mutate(f"{f.name}: " + mu.mutate_dicom(ctx.rng, f))
    else:
        f = ctx.rng.choice(images)
        f.unlink()
        if ctx.rng.random() < 0.5:
            os.mkfifo(f)
            ctx.mutate(f"{f.name} replaced by a FIFO")
        else:
            ctx.mutate(f"{f.name} removed")
    ctx.info(dd if ctx.rng.random() < 0.5 else folder)


def _dicomdir_records(rng: random.Random, dd: Path, folder: Path) -> str:
    import warnings

    import pydicom

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _dicomdir_edit(rng, dd, folder, pydicom.dcmread(dd))


def _dicomdir_edit(rng: random.Random, dd: Path, folder: Path, ds: Any) -> str:
    recs = list(ds.DirectoryRecordSequence)
    kind = rng.choice(
        [
            "next loop",
            "lower loop",
            "file id outside",
            "file id fifo",
            "file id absolute",
            "offset past end",
        ]
    )
    target = recs[rng.randrange(len(recs))]
    first = recs[0].seq_item_tell
    if kind == "next loop":
        target.OffsetOfTheNextDirectoryRecord = target.seq_item_tell
    elif kind == "lower loop":
        target.OffsetOfReferencedLowerLevelDirectoryEntity = first
    elif kind == "offset past end":
        target.OffsetOfTheNextDirectoryRecord = 1 << 30
    else:
        image = next((r for r in recs if "ReferencedFileID" in r), None)
        if image is None:
            return "no image record"
        if kind == "file id fifo":
            os.mkfifo(folder / "PIPE")
            image.ReferencedFileID = ["PIPE"]
        elif kind == "file id outside":
            image.ReferencedFileID = ["..", "..", "..", "etc", "passwd"]
        else:
            image.ReferencedFileID = ["DEV", "ZERO"]
            os.symlink("/dev/zero", folder / "DEV_ZERO")
    ds.save_as(dd)
    return kind


_NIFTI_PAIRS = {  # label map -> CT on its grid (None: measure without --ct)
    "ph_labels": "ph_ct",
    "ph_labels_n2": None,
    "ab_labels": "ab_ct",
    "ts_seg": "ts_series",
}
_NIFTI_CT = {"ab_ct": "ab_labels", "ph_ct_nii": "ph_labels"}


def _nifti(ctx: Ctx) -> None:
    seeds = [s for s in (*_NIFTI_PAIRS, *_NIFTI_CT) if s in ctx.corpus]
    seed = ctx.rng.choice(seeds)
    path = ctx.copy(seed)
    names = {"ph_labels": "ph_names", "ab_labels": "ab_names"}.get(seed)
    if names and ctx.has(names):
        stem = path.name.split(".")[0]
        shutil.copyfile(ctx.corpus[names], path.parent / f"{stem}_labels.json")
    roll = ctx.rng.random()
    if roll < 0.55:
        ctx.mutate(mu.mutate_nifti(ctx.rng, path))
    elif roll < 0.7:
        ctx.mutate(mu.mutate_bytes(ctx.rng, path))
    elif roll < 0.8 and path.name.endswith(".gz"):
        ctx.mutate(mu.gzip_trailer(ctx.rng, path))
    elif path.name.endswith(".gz"):
        ctx.mutate(mu.gzip_inner(ctx.rng, path, mu.mutate_bytes))
    else:
        ctx.mutate(mu.mutate_bytes(ctx.rng, path))
    c = ctx.corpus
    roll = ctx.rng.random()
    if roll < 0.4:
        ctx.info(path)
    elif seed in _NIFTI_PAIRS:
        ct = _NIFTI_PAIRS[seed]
        if ct and ct in c and ctx.rng.random() < 0.6:
            ctx.run("measure", path, "--ct", c[ct], "--json", json_out=True)
        else:
            ctx.run("measure", path)
    elif seed == "ph_ct_nii" and roll < 0.7:
        ctx.run(
            "overlay",
            path,
            "--case",
            c["case"],
            "--landmarks",
            c["ph_landmarks"],
            "--out",
            ctx.out(),
        )
    else:
        ctx.run("measure", c[_NIFTI_CT[seed]], "--ct", path)


_HEADERS = {  # seed -> (kind, is a label map, detached data file)
    "ph_labels_nrrd": ("nrrd", True, None),
    "ph_labels_nhdr": ("nrrd", True, "labels.raw"),
    "ph_labels_mha": ("mha", True, None),
    "ph_labels_mhaz": ("mha", True, None),
    "ph_labels_mhd": ("mha", True, "labels.raw"),
    "ph_ct_mha": ("mha", False, None),
    "ph_ct_nrrd": ("nrrd", False, None),
    "liver_nrrd": ("nrrd", True, None),
    "liver_spine_nrrd": ("nrrd", True, None),
}


def _volume_header(ctx: Ctx) -> None:
    seed = ctx.rng.choice([s for s in _HEADERS if s in ctx.corpus])
    kind, is_labels, detached = _HEADERS[seed]
    path = ctx.copy(seed)
    raw = ctx.corpus["ph_labels_nhdr"].parent / "labels.raw"
    if detached:
        shutil.copyfile(raw, path.parent / detached)
    shutil.copyfile(raw, ctx.case.inputs / "secret.raw")
    if ctx.rng.random() < 0.85:
        ctx.mutate(mu.mutate_header(ctx.rng, path, kind))
    else:
        ctx.mutate(mu.mutate_bytes(ctx.rng, path))
    if b"fifo.raw" in path.read_bytes()[:200_000]:
        os.mkfifo(path.parent / "fifo.raw")
    c = ctx.corpus
    if ctx.rng.random() < 0.4:
        ctx.info(path)
    elif is_labels:
        ct = "ph_ct_mha" if seed.startswith("ph_") and ctx.rng.random() < 0.5 else None
        ctx.run("measure", path, *(("--ct", c[ct]) if ct else ()))
    else:
        ctx.run("measure", c["ph_labels"], "--ct", path)


def _label_table(ctx: Ctx) -> None:
    c = ctx.corpus
    use_ab = ctx.has("ab_names", "ab_labels", "ab_ct") and ctx.rng.random() < 0.3
    path = ctx.copy("ab_names" if use_ab else "ph_names")
    ctx.case.names.append("--names" if not use_ab else "--anatomy-names")
    ctx.mutate(mu.mutate_text(ctx.rng, path, "json"))
    if use_ab:
        ctx.run(
            "overlay",
            c["ab_ct"],
            "--case",
            c["case"],
            "--anatomy",
            c["ab_labels"],
            "--anatomy-names",
            path,
            "--out",
            ctx.out(),
        )
    else:
        ctx.run("measure", c["ph_labels"], "--names", path)


def _landmarks(ctx: Ctx) -> None:
    c = ctx.corpus
    truth = ctx.rng.random() < 0.3
    if truth:
        folder = ctx.case.inputs / "truth"
        folder.mkdir(parents=True)
        path = ctx.copy("ph_landmarks", "truth")
        shutil.copyfile(c["ph_labels"], folder / "labels.nii.gz")
        shutil.copyfile(c["ph_names"], folder / "labels_labels.json")
    else:
        path = ctx.copy("ph_landmarks")
    ctx.case.names.append("--landmarks")
    if ctx.rng.random() < 0.1:
        ctx.mutate(mu.many_points(path, ctx.rng.choice([100_000, 1_000_000])))
    else:
        ctx.mutate(mu.mutate_text(ctx.rng, path, "json"))
    source = ("--phantom-truth", path.parent) if truth else ("--landmarks", path)
    ctx.run("overlay", c["ph_ct"], "--case", c["case"], *source, "--out", ctx.out())


def _case_file(ctx: Ctx) -> None:
    c = ctx.corpus
    seed = ctx.rng.choice(["case", *(k for k in sorted(c) if k.startswith("teaching_case_"))])
    path = ctx.copy(seed)
    ctx.case.names.append("--case")
    ctx.mutate(mu.mutate_text(ctx.rng, path, "yaml"))
    if seed != "case" and ctx.rng.random() < 0.6:  # placed from the phantom's label map
        ctx.run(
            "overlay",
            c["ph_ct"],
            "--case",
            path,
            "--phantom-truth",
            c["phantom"],
            "--out",
            ctx.out(),
        )
    elif ctx.rng.random() < 0.6:
        ctx.run(
            "overlay",
            c["ph_ct"],
            "--case",
            path,
            "--landmarks",
            c["ph_landmarks"],
            "--out",
            ctx.out(),
        )
    else:
        ctx.run("measure", c["ph_labels"], "--case", path)


def _special_path(ctx: Ctx) -> None:
    c = ctx.corpus
    data = ctx.case.inputs / "data"
    data.mkdir(parents=True)
    kind = ctx.rng.choice(["/dev/zero", "fifo", "folder", "missing", "loop"])
    if kind == "fifo":
        target = data / "pipe.yaml"
        os.mkfifo(target)
    elif kind == "folder":
        target = data / "folder.json"
        target.mkdir()
    elif kind == "missing":
        target = data / "absent.nii.gz"
    elif kind == "loop":
        target = data / "loop.json"
        os.symlink(target.name, target)
    else:
        target = Path("/dev/zero")
    where = ctx.rng.choice(["--case", "--landmarks", "info", "measure", "--ct", "--names"])
    ctx.case.names += [str(target), target.name, where]
    ctx.mutate(f"{where} {kind}")
    if where == "--case":
        ctx.run(
            "overlay",
            c["ph_ct"],
            "--case",
            target,
            "--landmarks",
            c["ph_landmarks"],
            "--out",
            ctx.out(),
        )
    elif where == "--landmarks":
        ctx.run(
            "overlay", c["ph_ct"], "--case", c["case"], "--landmarks", target, "--out", ctx.out()
        )
    elif where == "info":
        ctx.run("info", target)
    elif where == "measure":
        ctx.run("measure", target)
    elif where == "--ct":
        ctx.run("measure", c["ph_labels"], "--ct", target)
    else:
        ctx.run("measure", c["ph_labels"], "--names", target)


def _phantom_args(ctx: Ctx) -> None:
    data = ctx.case.inputs / "data"
    data.mkdir(parents=True)
    (data / "keep.txt").write_text("user file\n")
    kind = ctx.rng.choice(
        ["bad seed", "huge seed", "out is a file", "out not empty", "out under file"]
    )
    out = ctx.out()
    extra: list[str] = []
    if kind == "bad seed":
        extra = ["--seed", ctx.rng.choice(["-1", "x", "1e3", ""])]
    elif kind == "huge seed":
        extra = ["--seed", "9" * ctx.rng.choice([20, 5000])]
    elif kind == "out is a file":
        out = data / "keep.txt"
    elif kind == "out not empty":
        out = data
    else:
        out = data / "keep.txt" / "sub"
    ctx.case.names += [str(out), out.name, "--out", "--seed", str(data)]
    ctx.mutate(f"phantom: {kind} {extra}")
    ctx.run("phantom", "--size", "small", "--out", out, *extra)


def _pristine(ctx: Ctx) -> None:
    c = ctx.corpus
    commands = [
        ["info", c["ph_ct"]],
        ["info", c["ph_labels_mhd"], "--json"],
        ["info", c["dicomdir"] / "DICOMDIR"],
        ["measure", c["ph_labels_nrrd"], "--ct", c["ph_ct_mha"]],
        [
            "overlay",
            c["ph_ct"],
            "--case",
            c["case"],
            "--landmarks",
            c["ph_landmarks"],
            "--out",
            "OUT",
        ],
    ]
    if ctx.has("ct3_series", "ab_labels", "ab_ct"):
        commands += [
            ["info", c["ct3_series"], "--json"],
            ["measure", c["ab_labels"], "--ct", c["ab_ct"]],
        ]
    argv = ctx.rng.choice(commands)
    out = str(ctx.out()) if "OUT" in argv else ""
    ctx.mutate("none (seed as built)")
    ctx.run(*[out if a == "OUT" else a for a in argv], json_out="--json" in argv)
    if not out:
        ctx.case.out_dir = None


#: (name, weight, scenario): how often each kind of input is damaged.
SCENARIOS: tuple[tuple[str, float, Callable[[Ctx], None]], ...] = (
    ("dicom-series", 20, _series),
    ("dicom-file", 8, _dicom_file),
    ("dicomdir", 6, _dicomdir),
    ("nifti", 18, _nifti),
    ("nrrd-mha", 18, _volume_header),
    ("label-table", 6, _label_table),
    ("landmarks", 8, _landmarks),
    ("case-file", 10, _case_file),
    ("special-path", 3, _special_path),
    ("phantom-args", 1, _phantom_args),
    ("pristine", 2, _pristine),
)


def make_case(seed: int, index: int, corpus: dict[str, Path], root: Path) -> Case:
    """Build case ``index`` of a run with ``seed`` under ``root`` (created here)."""
    rng = random.Random(f"{seed}:{index}")
    name, _, scenario = rng.choices(SCENARIOS, weights=[w for _, w, _ in SCENARIOS])[0]
    case = Case(index=index, scenario=name, root=root)
    case.inputs.mkdir(parents=True)
    case.work.mkdir()
    scenario(Ctx(dict(corpus), case, rng))
    return case
