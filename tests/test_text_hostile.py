"""Hostile case files and landmarks files: one clear line and exit status 2, never a hang,
a traceback or a memory blow-up (devices, FIFOs, folders, huge files, alias bombs, deep
nesting, unhashable keys, wrong types, non-finite numbers, huge centrelines)."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from _overlay_factory import sample_world, truth_landmarks

from ivcviewer._text import DocumentLoader, json_nesting, parse_yaml, quote
from ivcviewer.annotations import Landmarks, default_case_path, load_case
from ivcviewer.annotations.truth import phantom_truth_anatomy
from ivcviewer.cli.main import main
from ivcviewer.errors import AnatomyError, CaseFileError, ResourceLimitError
from ivcviewer.io import save_volume
from ivcviewer.limits import Limits

CASE_TEXT = default_case_path().read_text(encoding="utf-8")
GOOD_LANDMARKS = truth_landmarks().to_json_dict()


@pytest.fixture(scope="module")
def ct(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small CT the overlay can open (the synthetic abdomen)."""
    return save_volume(sample_world().ct, tmp_path_factory.mktemp("ct") / "ct.nii.gz")


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Name -> (size, mtime) of every regular file under ``folder`` (to show nothing changed)."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def _one_error_line(capsys: pytest.CaptureFixture[str], *words: str) -> str:
    """The single stderr line of a failed run, checked for the words given and a fix."""
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("ivcviewer: error: "), line
    assert "Traceback" not in err and "Fix:" in line, line
    for w in words:
        assert w in line, (w, line)
    assert len(line) < 700, line
    return line


def _away(out: Path) -> Path:
    """An output folder beside the test's folder (the overlay never writes among its inputs)."""
    return out.parent.parent / f"{out.parent.name}-{out.name}"


def _overlay_case(
    capsys: pytest.CaptureFixture[str], ct: Path, case: Path | str, out: Path, *words: str
) -> str:
    out = _away(out)
    start = time.monotonic()
    rc = main(["overlay", str(ct), "--case", str(case), "--landmarks", "x.json", "--out", str(out)])
    assert time.monotonic() - start < 30
    assert rc == 2
    assert not out.exists()
    return _one_error_line(capsys, str(case), *words)


def _overlay_landmarks(
    capsys: pytest.CaptureFixture[str], ct: Path, landmarks: Path | str, out: Path, *words: str
) -> str:
    case = str(default_case_path())
    out = _away(out)
    start = time.monotonic()
    rc = main(
        ["overlay", str(ct), "--case", case, "--landmarks", str(landmarks), "--out", str(out)]
    )
    assert time.monotonic() - start < 60
    assert rc == 2
    assert not out.exists()
    return _one_error_line(capsys, str(landmarks), *words)


# -- files that are not text documents -------------------------------------------------------


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_case_and_landmarks_from_dev_zero_are_refused_unread(
    ct: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _overlay_case(capsys, ct, "/dev/zero", tmp_path / "o1", "regular file", "device")
    assert "case file" in line
    _overlay_landmarks(capsys, ct, "/dev/zero", tmp_path / "o2", "regular file", "device")
    with pytest.raises(CaseFileError, match="must be a regular file"):
        load_case("/dev/zero")
    with pytest.raises(AnatomyError, match="must be a regular file"):
        Landmarks.load_json("/dev/zero")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_case_and_landmarks_never_hang(
    ct: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    os.mkfifo(inputs / "case.yaml")
    os.mkfifo(inputs / "landmarks.json")
    before = _snapshot(inputs)
    _overlay_case(capsys, ct, inputs / "case.yaml", tmp_path / "o1", "FIFO", "regular file")
    _overlay_landmarks(capsys, ct, inputs / "landmarks.json", tmp_path / "o2", "FIFO")
    with pytest.raises(CaseFileError, match="FIFO"):
        load_case(inputs / "case.yaml")
    assert _snapshot(inputs) == before


def test_folder_given_as_case_or_landmarks(
    ct: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "case.yaml"
    folder.mkdir()
    _overlay_case(capsys, ct, folder, tmp_path / "o1", "is a folder")
    _overlay_landmarks(capsys, ct, folder, tmp_path / "o2", "is a folder")
    with pytest.raises(AnatomyError, match="a folder"):
        Landmarks.load_json(folder)


def test_huge_files_are_refused_from_their_size(
    ct: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = tmp_path / "huge.yaml"
    with case.open("wb") as f:  # sparse: 17 MiB that take no room
        f.truncate(Limits().max_text_bytes + (1 << 20))
    lm = tmp_path / "huge.json"
    lm.write_bytes(case.read_bytes()[:0])
    with lm.open("wb") as f:
        f.truncate(Limits().max_text_bytes + 1)
    before = _snapshot(tmp_path)
    line = _overlay_case(capsys, ct, case, tmp_path / "o1", "bytes", "16,777,216")
    assert "17,825,792" in line
    _overlay_landmarks(capsys, ct, lm, tmp_path / "o2", "16,777,216")
    small = Limits(max_text_bytes=1000)
    doc = tmp_path / "case.yaml"
    doc.write_text(CASE_TEXT, encoding="utf-8")
    with pytest.raises(ResourceLimitError, match=r"case\.yaml: case file is [\d,]+ bytes"):
        load_case(doc, limits=small)
    load_case(doc)  # the same file within the default limits
    before[doc.name] = _snapshot(tmp_path)[doc.name]
    assert _snapshot(tmp_path) == before


def test_a_file_growing_while_read_is_cut_at_the_limit(tmp_path: Path) -> None:
    """The size is checked again on what was read: a file may grow after it was looked at."""
    from ivcviewer import _text

    p = tmp_path / "grows.yaml"
    p.write_text("a: 1\n", encoding="utf-8")
    limits = Limits(max_text_bytes=100)
    real_check = _text._check_size
    calls: list[int] = []

    def grow_after_check(path: Path, what: str, size: int, lim: Limits) -> None:
        real_check(path, what, size, lim)
        if not calls:
            p.write_text("a: 1\n" * 1000, encoding="utf-8")
        calls.append(size)

    _text._check_size = grow_after_check  # type: ignore[assignment]
    try:
        with pytest.raises(
            ResourceLimitError, match="grows.yaml: case file is larger than the 100"
        ):
            _text.read_text(p, "case file", CaseFileError, "fix it.", limits)
    finally:
        _text._check_size = real_check  # type: ignore[assignment]
    assert calls == [5]  # the size looked at; what was read (101 bytes) was refused


def test_case_file_not_utf8(tmp_path: Path) -> None:
    p = tmp_path / "latin1.yaml"
    p.write_bytes("case: {title: caf\xe9}\n".encode("latin-1"))
    with pytest.raises(CaseFileError, match=r"latin1\.yaml: case file is not UTF-8.*Fix: save"):
        load_case(p)


# -- YAML that expands or nests without end --------------------------------------------------


def _billion_laughs(levels: int = 9) -> str:
    text = 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for i in range(1, levels):
        text += f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n"
    return text


def test_alias_bomb_is_refused_while_composing(
    ct: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tmp_path / "bomb.yaml"
    p.write_text(
        CASE_TEXT.replace("schema_version: 1\n", _billion_laughs() + "schema_version: 1\n")
    )
    start = time.monotonic()
    line = _overlay_case(capsys, ct, p, tmp_path / "o", "aliases written out", "alias bomb")
    assert time.monotonic() - start < 5
    assert len(line) < 400
    with pytest.raises(ResourceLimitError, match=r"bomb\.yaml: case file expands"):
        load_case(p)


def test_alias_count_limit(tmp_path: Path) -> None:
    text = "a: &x 1\nb: [" + ", ".join(["*x"] * 50) + "]\n"
    p = tmp_path / "many.yaml"
    with pytest.raises(ResourceLimitError, match=r"more than 20 aliases.*Fix:"):
        parse_yaml(text, p, "case file", CaseFileError, Limits(max_yaml_aliases=20))
    assert parse_yaml(text, p, "case file", CaseFileError)["b"] == [1] * 50


def test_self_referencing_alias_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ResourceLimitError, match=r"alias '\*a' lies inside the node it names"):
        parse_yaml("a: &a [1, *a]\n", tmp_path / "loop.yaml", "case file", CaseFileError)


@pytest.mark.parametrize(
    "body",
    [
        "x: " + "[" * 5000 + "]" * 5000 + "\n",
        "x: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n",
        "".join(f"{'  ' * i}k{i}:\n" for i in range(200)) + "  " * 200 + "v: 1\n",
    ],
    ids=["flow_lists", "flow_mappings", "block_mappings"],
)
def test_deeply_nested_yaml_is_refused(
    body: str, ct: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tmp_path / "deep.yaml"
    p.write_text(body, encoding="utf-8")
    _overlay_case(capsys, ct, p, tmp_path / "o", "more than 64 levels deep", "at line")
    with pytest.raises(ResourceLimitError, match="levels deep"):
        load_case(p)


def test_aliases_that_nest_deep_count_where_they_are_used(tmp_path: Path) -> None:
    text = "a0: &a0 [1]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 100))
    with pytest.raises(ResourceLimitError, match=r"alias '\*a\d+' nests.*64 levels"):
        parse_yaml(text, tmp_path / "d.yaml", "case file", CaseFileError)


def test_yaml_loader_stays_safe_with_limits() -> None:
    assert issubclass(DocumentLoader, yaml.SafeLoader)
    with pytest.raises(yaml.YAMLError, match="python/object"):
        yaml.load("!!python/object/apply:os.getcwd []", Loader=DocumentLoader)  # noqa: S506


# -- keys and values of the wrong kind -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("? [a, b]\n: 1\n", ("line 1", "unhashable key (a list", "write the key as plain text")),
        ("schema_version: 1\n{a: 1}: 2\n", ("line 2", "unhashable key (a mapping")),
        ("? !!set {a}\n: 1\n", ("unhashable key",)),
        ("schema_version: 1\nschema_version: 1\n", ("duplicate key 'schema_version'", "keep one")),
        ("schema_version: " + "9" * 6000 + "\n", ("cannot be read", "4300 digits")),
        ("schema_version: !!python/name:os.system\n", ("remove the tag",)),
    ],
    ids=["list_key", "mapping_key", "set_key", "duplicate", "huge_int", "python_tag"],
)
def test_bad_keys_and_values_get_one_clear_line(
    text: str, words: tuple[str, ...], ct: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(text, encoding="utf-8")
    _overlay_case(capsys, ct, p, tmp_path / "o", *words)
    with pytest.raises(CaseFileError):
        load_case(p)


def _case_with(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    doc = yaml.safe_load(CASE_TEXT)
    change(doc)
    p = tmp_path / "changed.yaml"
    p.write_text(yaml.safe_dump(doc, width=1 << 30), encoding="utf-8")
    return p


def _set(path: list[str | int], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        node: Any = doc
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return change


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (_set(["findings", 0, "relations"], "x" * 100_000), ("a text of 100,000 characters",)),
        (_set(["findings", 0, "relations"], [1, 2]), ("must be a mapping", "got [1, 2]")),
        (_set(["findings", 0, "relations", "vessel"], {"a": ["b"] * 50_000}), ("mapping of 1",)),
        (_set(["findings", 0, "relations", "placement"], [[1] * 50_000]), ("findings[0]",)),
        (_set(["findings", 0, "measurements", 0, "values"], [[1.0] * 100_000]), ("100,000",)),
        (_set(["findings", 0, "x" * 50_000], 1), ("xxx...",)),
        (_set(["findings"], {"mass": 1}), ("must be a list",)),
    ],
    ids=["long_text", "list", "mapping_value", "nested_list", "long_list", "long_key", "mapping"],
)
def test_wrong_typed_relations_and_values_are_quoted_short(
    change: Callable[[dict[str, Any]], None],
    words: tuple[str, ...],
    ct: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    p = _case_with(tmp_path, change)
    line = _overlay_case(capsys, ct, p, tmp_path / "o", "field 'findings", *words)
    assert len(line) < 600
    with pytest.raises(CaseFileError):
        load_case(p)


def test_quote_is_short_and_cheap() -> None:
    assert quote({"a": 1}) == repr({"a": 1})
    assert quote((1,)) == "(1,)" and quote(set()) == "set()" and quote(frozenset()) == "frozenset()"
    big = [[1.0] * 1000] * 10**5  # 10^8 items: building its repr would take gigabytes
    start = time.monotonic()
    text = quote(big)
    assert time.monotonic() - start < 1
    assert len(text) < 160 and text.endswith("(a list of 100,000 items)")
    assert "bits" in quote(10**5000)


# -- landmarks files -------------------------------------------------------------------------


def _write_json(tmp_path: Path, doc: Any, name: str = "landmarks.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(doc), encoding="utf-8")
    return p


def _with(**fields: Any) -> dict[str, Any]:
    return GOOD_LANDMARKS | fields


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        ([1, 2, 3], ("(top level)", "must be a JSON object")),
        ("landmarks", ("(top level)",)),
        (_with(points=[1, 2]), ("field 'points'", "must be an object")),
        (_with(points={"renal_vein_confluence": ["1", 0, 0]}), ("3 finite numbers",)),
        (_with(points={"renal_vein_confluence": [True, 0, 0]}), ("3 finite numbers",)),
        (_with(points={"renal_vein_confluence": [float("nan"), 0, 0]}), ("got [nan, 0, 0]",)),
        (_with(points={"renal_vein_confluence": [float("inf"), 0, 0]}), ("got [inf, 0, 0]",)),
        (_with(points={"renal_vein_confluence": [10**400, 0, 0]}), ("bits",)),
        (_with(ivc_centreline={"points": "abc", "radius_mm": [1]}), ("must be a list",)),
        (
            _with(ivc_centreline={"points": [[0, 0, 1], [0, 0]], "radius_mm": [1, 1]}),
            ("list of [x, y, z]",),
        ),
        (
            _with(ivc_centreline={"points": [[0, 0, 1], [0, 0, {}]], "radius_mm": [1, 1]}),
            ("not numbers",),
        ),
        (
            _with(
                ivc_centreline={"points": [[0, 0, 1], [0, 0, 2]], "radius_mm": [1, float("nan")]}
            ),
            ("not finite",),
        ),
        (
            _with(ivc_centreline={"points": [[0, 0, 1], [0, 0, 10**400]], "radius_mm": [1, 1]}),
            ("float range",),
        ),
        (_with(format="x" * 100_000), ("a text of 100,000 characters",)),
        (_with(provenance={"truncated": [[1] * 10_000]}), ("a list of 10,000 items",)),
        (_with(provenance={"source": {"a": 1}}), ("must be text",)),
        (GOOD_LANDMARKS | {"y" * 100_000: 1}, ("yyy...'",)),
    ],
    ids=[
        "list",
        "text",
        "points_list",
        "text_number",
        "boolean",
        "nan",
        "inf",
        "huge_int",
        "centreline_text",
        "ragged",
        "object_in_points",
        "nan_radius",
        "huge_int_centreline",
        "long_format",
        "long_truncated",
        "source_object",
        "long_key",
    ],
)
def test_bad_landmarks_get_one_clear_line(
    doc: Any, words: tuple[str, ...], ct: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = _write_json(tmp_path, doc)
    before = _snapshot(tmp_path)
    line = _overlay_landmarks(capsys, ct, p, tmp_path / "o", *words)
    assert len(line) < 600
    with pytest.raises(AnatomyError, match="Fix:"):
        Landmarks.load_json(p)
    assert _snapshot(tmp_path) == before


def test_duplicate_keys_and_bad_json_syntax(tmp_path: Path) -> None:
    p = tmp_path / "dup.json"
    p.write_text('{"format": "ivcviewer.landmarks", "format": "x"}', encoding="utf-8")
    with pytest.raises(
        AnatomyError, match=r"dup\.json: landmarks file holds the key 'format' twice"
    ):
        Landmarks.load_json(p)
    p.write_text('{"points": [1, 2}', encoding="utf-8")
    with pytest.raises(AnatomyError, match=r"not valid JSON at line 1, column 17.*Fix"):
        Landmarks.load_json(p)
    p.write_text('{"a": ' + "9" * 6000 + "}", encoding="utf-8")
    with pytest.raises(AnatomyError, match="cannot be read.*4300 digits"):
        Landmarks.load_json(p)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a": ' * 5000 + "1" + "}" * 5000,
        "[" * (sys.getrecursionlimit() * 4),
    ],
    ids=["arrays", "objects", "unclosed"],
)
def test_deeply_nested_landmarks_are_refused(
    text: str, ct: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tmp_path / "deep.json"
    p.write_text(text, encoding="utf-8")
    _overlay_landmarks(capsys, ct, p, tmp_path / "o", "levels deep", "more than the 64")
    with pytest.raises(ResourceLimitError, match="levels deep"):
        Landmarks.load_json(p)


def test_json_nesting_ignores_brackets_in_strings() -> None:
    assert json_nesting('["[[[[", {"a": "]]]{"}]') == 2
    assert json_nesting('"\\"[[[["') == 0
    assert json_nesting("1") == 0


def test_a_million_centreline_points_are_refused_quickly(
    ct: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    n = 10**6
    doc = _with(ivc_centreline={"points": [[0, 0, i] for i in range(n)], "radius_mm": [1] * n})
    p = _write_json(tmp_path, doc)
    start = time.monotonic()
    _overlay_landmarks(capsys, ct, p, tmp_path / "o", "bytes")  # the file is over 16 MiB
    big = Limits(max_text_bytes=64 << 20)
    with pytest.raises(ResourceLimitError, match=r"1,000,000 items, more than the 20,000 points"):
        Landmarks.load_json(p, big)
    assert time.monotonic() - start < 20


def test_centreline_at_the_point_limit_loads_in_linear_time(tmp_path: Path) -> None:
    n = Limits().max_centreline_points
    doc = _with(
        ivc_centreline={"points": [[0, 0, i * 0.01] for i in range(n)], "radius_mm": [1] * n}
    )
    p = _write_json(tmp_path, doc)
    start = time.monotonic()
    lm = Landmarks.load_json(p)
    assert lm.centreline()[0].shape == (n, 3)
    assert time.monotonic() - start < 5


# -- a phantom's truth folder ----------------------------------------------------------------


def _truth_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "truth"
    folder.mkdir()
    truth_landmarks().save_json(folder / "landmarks.json")
    return folder


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda p: p.write_text('{"format": ', encoding="utf-8"), ("not valid JSON",)),
        (lambda p: p.write_text("[" * 10_000, encoding="utf-8"), ("levels deep",)),
        (lambda p: p.write_bytes(b"\xff\xfe{}"), ("not UTF-8",)),
        (lambda p: (p.unlink(), p.mkdir()), ("is a folder",)),
    ],
    ids=["truncated", "deep", "not_utf8", "folder"],
)
def test_phantom_truth_with_damaged_landmarks(
    damage: Callable[[Path], Any],
    words: tuple[str, ...],
    ct: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = _truth_folder(tmp_path)
    damage(folder / "landmarks.json")
    before = _snapshot(folder)
    case = str(default_case_path())
    out = _away(tmp_path / "o")
    rc = main(
        ["overlay", str(ct), "--case", case, "--phantom-truth", str(folder), "--out", str(out)]
    )
    assert rc == 2
    _one_error_line(capsys, str(folder / "landmarks.json"), *words)
    assert _snapshot(folder) == before and not out.exists()
    with pytest.raises((AnatomyError, ResourceLimitError)):
        phantom_truth_anatomy(folder, load_case(default_case_path()))


def test_phantom_truth_without_its_label_map_uses_the_landmarks(tmp_path: Path) -> None:
    folder = _truth_folder(tmp_path)
    if hasattr(os, "mkfifo"):  # a FIFO named like a label map is never opened
        os.mkfifo(folder / "truth_labels.nii.gz")
    landmarks, labels, names, used = phantom_truth_anatomy(folder, load_case(default_case_path()))
    assert labels is None and names is None and used == [folder / "landmarks.json"]
    assert landmarks.has("ivc_centreline")


def test_phantom_truth_without_landmarks(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    with pytest.raises(AnatomyError, match=r"holds no landmarks\.json\. Fix:"):
        phantom_truth_anatomy(folder, load_case(default_case_path()))


def test_overlay_from_a_centreline_at_the_point_limit_runs_in_linear_time(
    ct: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A dense centreline (a point every 0.015 mm) fits as the sparse one does, in seconds."""
    import numpy as np

    c, r = truth_landmarks().centreline()
    z = np.linspace(c[0, 2], c[-1, 2], Limits().max_centreline_points)
    points = np.stack([np.interp(z, c[:, 2], c[:, k]) for k in range(3)], axis=1)
    doc = _with(
        ivc_centreline={"points": points.tolist(), "radius_mm": np.interp(z, c[:, 2], r).tolist()}
    )
    p = _write_json(tmp_path, doc)
    out = _away(tmp_path / "o")
    case = str(default_case_path())
    start = time.monotonic()
    rc = main(["overlay", str(ct), "--case", case, "--landmarks", str(p), "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    assert time.monotonic() - start < 60  # ten minutes when each segment walked all the points
    assert "Mayo III" in capsys.readouterr().out
