"""Case authoring: a region drawn on a CT becomes a finding that reproduces it when fitted back,
and lands in the same structure on another CT; appending keeps the case file's text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from _authoring_factory import REGIONS, Drawing, dice, drawing, fit_on_drawing

from ivcviewer.annotations import OverlayResult, load_case
from ivcviewer.annotations.authoring import (
    append_finding,
    case_template,
    finding_from_region,
    validate_case_text,
)
from ivcviewer.errors import AnatomyError, CaseFileError, IvcviewerError
from ivcviewer.io import load_labels, open_path
from ivcviewer.workflows import fit_overlay
from ivcviewer.workflows.anatomy import anatomy_from_labelmap


@pytest.fixture(scope="module")
def drawn() -> Drawing:
    return drawing()


@pytest.fixture(scope="module")
def authored(drawn: Drawing, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The regions of REGIONS turned into findings, appended to a case file begun from the
    template."""
    case = tmp_path_factory.mktemp("case") / "drawn.yaml"
    for fid, (draw, _) in REGIONS.items():
        f = finding_from_region(
            drawn.volume(draw(drawn)),
            drawn.phantom.labels,
            drawn.names,
            finding_id=fid,
            name=fid.replace("_", " "),
            source="the normal phantom",
        )
        append_finding(case, f)
    return case


def _finding(case: Path, fid: str) -> dict:  # type: ignore[type-arg]
    doc = yaml.safe_load(case.read_text(encoding="utf-8"))
    return next(f for f in doc["findings"] if f["id"] == fid)


def test_template_is_a_valid_commented_case_file(tmp_path: Path) -> None:
    text = case_template()
    case = validate_case_text(text, tmp_path / "t.yaml")
    assert [f.id for f in case.findings] == ["renal_mass", "ivc_thrombus"]
    assert case.case.teaching_example
    assert case.finding("renal_mass").relations.placement.rule == "centred_in"
    assert case.finding("ivc_thrombus").kind == "intravascular_tumour"
    # every key is explained by a comment on its line or on the line above
    lines = text.splitlines()
    for line_no in _key_lines(yaml.compose(text)):
        line, above = lines[line_no], lines[line_no - 1].strip()
        assert "#" in line or above.startswith("#"), line


def _key_lines(node: yaml.Node) -> list[int]:
    """Line numbers of every mapping key of a YAML node tree."""
    out: list[int] = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out.append(key.start_mark.line)
            out += _key_lines(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            out += _key_lines(item)
    return out


@pytest.fixture(scope="module")
def refitted(drawn: Drawing, authored: Path) -> OverlayResult:
    return fit_on_drawing(drawn, authored)


@pytest.mark.parametrize("fid", list(REGIONS))
def test_drawn_region_fitted_back_reproduces_itself(
    fid: str, drawn: Drawing, refitted: OverlayResult
) -> None:
    region = REGIONS[fid][0](drawn)
    assert dice(refitted.mask(fid), region) >= 0.85
    inside = REGIONS[fid][1]
    if inside is not None:
        assert refitted.finding(fid).occupancy[0].structure == inside


def test_placements_and_shapes_follow_the_drawing(authored: Path) -> None:
    liver = _finding(authored, "liver_lesion")["relations"]
    assert liver["placement"]["rule"] == "centred_in"
    assert liver["placement"]["structure"] == "liver"
    assert liver["placement"]["position"]["lr"] < -0.1  # drawn towards the patient's right
    assert liver["shape"] == "ellipsoid"
    assert liver["rules"][0]["rule"] == "mostly_within"
    assert 0.5 <= liver["rules"][0]["min_share"] < 1.0
    box = _finding(authored, "left_kidney_box")
    assert box["relations"]["shape"] == "rounded_box"
    assert box["measurements"][0]["axes"] == ["lr", "ap", "cc"]
    assert box["measurements"][0]["assumed"] is False
    # 28 x 24 x 32 mm drawn, as voxels of 4 x 4 x 5 mm hold it
    assert np.allclose(box["measurements"][0]["values"], [28.0, 24.0, 32.0], atol=5.0)
    blob = _finding(authored, "lower_pole_blob")["relations"]["placement"]
    assert blob["structure"] == "kidney_left" and blob["position"]["cc"] < -0.3
    beside = _finding(authored, "beside_left_kidney")["relations"]
    assert beside["placement"]["rule"] == "arises_from"
    assert beside["placement"]["structure"] == "kidney_left"
    assert beside["placement"]["towards"] == ["left"]  # drawn lateral to the left kidney
    assert beside["rules"] == [{"rule": "touches", "structure": "kidney_left"}]


def test_drawn_findings_pass_their_own_rules(refitted: OverlayResult) -> None:
    for fid in REGIONS:
        assert [r.status for r in refitted.finding(fid).rules] == ["satisfied"], fid


@pytest.mark.realdata
def test_drawn_findings_fitted_on_the_real_ct_lie_in_their_structure(authored: Path) -> None:
    from ivcviewer.sample_data import real_abdominal_ct

    try:
        sample = real_abdominal_ct()
    except IvcviewerError as err:
        pytest.skip(f"the shipped example CT is absent: {err}")
    (ct,) = open_path(sample.ct)
    labels, table = load_labels(sample.labels)
    case = load_case(authored)
    names = {int(v): str(n) for v, n in table.names.items()}
    result = fit_overlay(ct, case, anatomy_from_labelmap(labels, names, case, "example CT"))
    for fid in ("liver_lesion", "left_kidney_box", "lower_pole_blob"):
        reference = case.finding(fid).relations.placement.structure
        top = [o for o in result.finding(fid).occupancy if o.structure != "unlabelled"][0]
        assert top.structure == reference, (fid, result.finding(fid).occupancy)


def test_append_keeps_text_and_comments(drawn: Drawing, tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(case_template() + "# a closing remark of the author\n", encoding="utf-8")
    before = case.read_text(encoding="utf-8")
    f = finding_from_region(
        drawn.volume(REGIONS["liver_lesion"][0](drawn)),
        drawn.phantom.labels,
        drawn.names,
        finding_id="liver_lesion",
        name="Liver lesion",
        kind="lesion",
    )
    append_finding(case, f)
    after = case.read_text(encoding="utf-8")
    assert after.startswith(before.removesuffix("# a closing remark of the author\n"))
    assert after.rstrip().endswith("# a closing remark of the author") or (
        "# a closing remark of the author" in after
    )
    assert after.count("#") >= before.count("#")
    loaded = load_case(case)
    assert [x.id for x in loaded.findings] == ["renal_mass", "ivc_thrombus", "liver_lesion"]
    new = loaded.finding("liver_lesion")
    assert new.label_value == 3  # the first free value
    assert new.colour not in ("#D9534F", "#3A9BE6")


def test_append_refuses_a_repeated_id_or_label_and_leaves_the_file(
    drawn: Drawing, tmp_path: Path
) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(case_template(), encoding="utf-8")
    before = case.read_bytes()
    f = finding_from_region(
        drawn.volume(REGIONS["left_kidney_box"][0](drawn)),
        drawn.phantom.labels,
        drawn.names,
        finding_id="renal_mass",
        name="Box",
    )
    with pytest.raises(CaseFileError, match=r"id 'renal_mass' is already in the case file.*Fix"):
        append_finding(case, f)
    with pytest.raises(CaseFileError, match=r"label value 2 .* 'ivc_thrombus'.*Fix"):
        append_finding(case, {**f, "id": "box", "label_value": 2})
    assert case.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.yaml"]


def test_no_file_is_left_when_the_result_is_invalid(tmp_path: Path) -> None:
    bad = {
        "id": "bad",
        "name": "Bad",
        "kind": "mass",
        "colour": "#123456",
        "description": "A mass placed in a structure that does not exist.",
        "relations": {"placement": {"rule": "centred_in", "structure": "kidney_middle"}},
    }
    new = tmp_path / "new.yaml"
    with pytest.raises(CaseFileError, match=r"new.yaml: field 'findings\[2\].*kidney_middle"):
        append_finding(new, bad)
    assert list(tmp_path.iterdir()) == []
    old = tmp_path / "old.yaml"
    old.write_text(case_template(), encoding="utf-8")
    with pytest.raises(CaseFileError):
        append_finding(old, bad)
    assert old.read_text(encoding="utf-8") == case_template()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.yaml"]


def test_empty_region_and_non_solid_kind_are_refused(drawn: Drawing) -> None:
    empty = drawn.volume(np.zeros(drawn.phantom.ct.shape, bool))
    with pytest.raises(AnatomyError, match="empty.*Fix"):
        finding_from_region(empty, drawn.phantom.labels, drawn.names, finding_id="a", name="A")
    region = drawn.volume(REGIONS["liver_lesion"][0](drawn))
    with pytest.raises(CaseFileError, match="kind 'thrombus'.*Fix"):
        finding_from_region(
            region, drawn.phantom.labels, drawn.names, finding_id="a", name="A", kind="thrombus"
        )


def test_dock_model_names_what_is_missing(drawn: Drawing, tmp_path: Path) -> None:
    from ivcviewer.widget_models import LabelmapInput
    from ivcviewer.widget_models.finding_from_drawing import (
        NOTHING_ADDED,
        FindingFromDrawingModel,
    )

    model = FindingFromDrawingModel(case_path=str(tmp_path / "c.yaml"), finding_id="a")
    region = drawn.volume(REGIONS["liver_lesion"][0](drawn))
    ct, labels = drawn.phantom.ct, drawn.phantom.labels
    with pytest.raises(IvcviewerError, match="the finding name is empty. Fix"):
        model.add(
            ct, LabelmapInput(labels, drawn.names, "a"), region, ct_name="ct", region_name="r"
        )
    model.name = "A"
    with pytest.raises(IvcviewerError, match="layer 'anatomy': has no label names.*Fix"):
        model.add(
            ct, LabelmapInput(labels, {}, "layer 'anatomy'"), region, ct_name="c", region_name="r"
        )
    assert model.shown_text == NOTHING_ADDED and not (tmp_path / "c.yaml").exists()
    seen = []
    model.added.connect(seen.append)
    drawn_finding = model.add(
        ct,
        LabelmapInput(labels, drawn.names, "a"),
        region.with_array(region.array.astype(np.uint8)),
        ct_name="ct",
        region_name="r",
    )
    assert seen == [drawn_finding]
    assert model.shown_text.startswith(f"# added to {tmp_path / 'c.yaml'}\n  - id: a\n")
