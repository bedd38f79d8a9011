"""The case-file figures of docs/case-file.md (scripts/render_case_figures.py) on the phantom.

Every figure is fitted on the small normal phantom and drawn without Qt; each must show every
region finding of its case in the finding's colour, over a CT (grey pixels), and the same
inputs must give the same file.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from _figure_checks import coloured, read_rgb

pytest.importorskip("matplotlib")

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "render_case_figures.py"

#: A pixel shows a region when it is within this distance (RGB) of the region's colour.
COLOUR_TOLERANCE = 40
#: Fewest pixels of a region's colour in its figure (its outline alone has far more).
MIN_REGION_PIXELS = 40


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render_case_figures", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return _script()


def _region_colours(script: ModuleType, spec: object, tmp: Path) -> dict[str, tuple[int, ...]]:
    """Finding id -> RGB of every region finding of a figure's case."""
    from ivcviewer.annotations import load_case

    path = spec.case_file  # type: ignore[attr-defined]
    if path is None:
        path = tmp / "case.yaml"
        path.write_text(spec.case_text, encoding="utf-8")  # type: ignore[attr-defined]
    case = load_case(path)
    return {f.id: f.colour_rgb for f in case.region_findings if f.colour_rgb is not None}


def _assert_regions_shown(rgb: np.ndarray, colours: dict[str, tuple[int, ...]], name: str) -> None:
    """Each region's colour is present in the figure."""
    for fid, colour in colours.items():
        dist = np.abs(rgb - np.asarray(colour, dtype=np.int16)).max(axis=2)
        n = int(np.count_nonzero(dist <= COLOUR_TOLERANCE))
        assert n >= MIN_REGION_PIXELS, f"{name}: {fid} ({colour}) shows {n} pixels"


def test_every_figure_shows_its_regions(script: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "images"
    written = script.render(out, ["phantom"], "small")
    names = {p.name for p in written}
    assert names == {f"{s.name}-phantom.png" for s in script.ALL_FIGURES}
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "temporary files left"
    for spec in script.ALL_FIGURES:
        rgb = read_rgb(out / f"{spec.name}-phantom.png")
        grey = ~coloured(rgb) & (rgb.mean(axis=2) > 40)
        assert grey.sum() > 0.2 * grey.size, f"{spec.name}: no CT shown"
        _assert_regions_shown(rgb, _region_colours(script, spec, tmp_path), spec.name)


def test_a_teaching_figure_on_the_example_ct(script: ModuleType, tmp_path: Path) -> None:
    """The shipped example CT with its label map: both findings of the renal case shown."""
    (path,) = script.render(tmp_path, ["ct"], "small", ["case-teaching-renal"])
    assert path.name == "case-teaching-renal-ct.png"
    rgb = read_rgb(path)
    spec = next(s for s in script.ALL_FIGURES if s.name == "case-teaching-renal")
    _assert_regions_shown(rgb, _region_colours(script, spec, tmp_path), path.name)


def test_figures_are_deterministic(script: ModuleType, tmp_path: Path) -> None:
    a = script.render(tmp_path / "a", ["phantom"], "small", ["case-rule-at_level"])
    b = script.render(tmp_path / "b", ["phantom"], "small", ["case-rule-at_level"])
    assert a[0].read_bytes() == b[0].read_bytes()


def test_an_unknown_figure_is_refused(script: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="unknown figure 'case-rule-nowhere'"):
        script.render(tmp_path, ["phantom"], "small", ["case-rule-nowhere"])
    assert not tmp_path.joinpath("case-rule-nowhere-phantom.png").exists()


def test_marked_points_that_coincide_share_a_label(script: ModuleType) -> None:
    pts = {
        "lower end": np.array([0.0, 0.0, 10.0]),
        "renal_vein_confluence": np.array([0.3, 0.0, 10.0]),
        "upper end": np.array([0.0, 0.0, 50.0]),
    }
    merged = script.merged_points(pts)
    assert [label for label, _ in merged] == ["lower end = renal_vein_confluence", "upper end"]


#: A finding around a ``relations:`` snippet of docs/case-file.md (indented under it).
_SNIPPET_CASE = """schema_version: 1
case: {{id: snippet, title: Snippet, teaching_example: true, source_note: A snippet.}}
findings:
  - id: finding
    name: Finding
    kind: {kind}
    colour: "#E6553A"
    description: A finding of a snippet.
{measurements}{snippet}"""


def _relations_snippets() -> list[str]:
    import re

    doc = SCRIPT.parents[1] / "docs" / "case-file.md"
    blocks = re.findall(r"```yaml\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)
    return [b for b in blocks if b.startswith("relations:")]


def test_the_relations_snippets_of_the_reference_load(tmp_path: Path) -> None:
    """Each ``relations:`` snippet of docs/case-file.md is valid in a finding of its kind."""
    from ivcviewer.annotations import load_case

    snippets = _relations_snippets()
    assert len(snippets) >= 6, "the placement and lumen snippets are missing"
    for i, snippet in enumerate(snippets):
        lumen = "from_landmark:" in snippet
        measurements = "" if lumen else "    measurements: [{id: s, values: [3, 3, 3], unit: cm}]\n"
        indented = "".join(f"    {line}\n" for line in snippet.splitlines())
        text = _SNIPPET_CASE.format(
            kind="thrombus" if lumen else "mass", measurements=measurements, snippet=indented
        )
        path = tmp_path / f"snippet{i}.yaml"
        path.write_text(text, encoding="utf-8")
        rel = load_case(path).finding("finding").relations
        assert (rel.vessel is not None) if lumen else (rel.placement is not None), snippet
