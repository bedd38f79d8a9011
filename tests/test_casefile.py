"""Case files: loading the packaged case and the errors a bad case file gets."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import ivcviewer
from ivcviewer.annotations import default_case_path, load_case, packaged_cases
from ivcviewer.annotations import vocabulary as voc
from ivcviewer.errors import CaseFileError

REPO = Path(__file__).resolve().parents[1]
CASE_REPORT = REPO.parent / "shared" / "case" / "case-report.txt"


@pytest.fixture(scope="module")
def case_doc() -> dict[str, Any]:
    """The packaged case file as plain YAML data (to derive broken variants from)."""
    return dict(yaml.safe_load(default_case_path().read_text(encoding="utf-8")))


def _write(tmp_path: Path, doc: dict[str, Any], name: str = "case.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return p


# --------------------------------------------------------------------------- the packaged case


def test_packaged_case_loads_with_its_figures() -> None:
    case = load_case(default_case_path())
    assert case.schema_version == 1
    assert case.case.id == "retroperitoneal_leiomyosarcoma_ivc"
    assert case.case.citation.doi == "10.37549/AR-D-24-0011"
    assert "Sabato IM" in case.case.citation.text
    mass = case.finding("mass")
    assert mass.kind == "mass"
    assert mass.reported_extents_mm() == {"lr": 105.0, "ap": 89.0, "cc": 132.0}
    assert mass.reported_extents_sorted_mm() == (132.0, 105.0, 89.0)
    assert mass.extents_assumed()
    assert mass.measurements[0].note
    assert mass.relations.origin_structure == "iliopsoas_right"
    assert mass.relations.vessel == "inferior_vena_cava"
    assert mass.relations.centre_level == "renal_vein_confluence"
    assert [r.rule for r in mass.relations.rules_of("reaches_into")] == ["reaches_into"]
    assert mass.colour_rgb == (0xE6, 0x55, 0x3A)


def test_packaged_case_intravascular_tumour_and_levels() -> None:
    case = load_case(default_case_path())
    ivt = case.finding("intravascular_tumour")
    assert ivt.kind == "intravascular_tumour"
    assert ivt.relations.from_landmark == "renal_vein_confluence"
    assert ivt.relations.to_landmark == "hepatic_vein_confluence"
    assert ivt.relations.to_offset_mm == -10.0
    assert ivt.relations.occlusion == "near_total"
    ei = ivt.relations.expected_involvement
    assert ei is not None and (ei.mayo_level, ei.ivc_segment) == ("III", "II")
    inside = ivt.relations.rules_of("inside")[0]
    assert (inside.structure, inside.margin_mm, inside.min_fraction) == (
        "inferior_vena_cava",
        2.0,
        0.95,
    )
    with pytest.raises(CaseFileError, match="no reported measurements"):
        ivt.reported_extents_mm()


def test_packaged_case_non_spatial_and_label_values() -> None:
    case = load_case(default_case_path())
    pe = case.finding("pulmonary_embolism")
    assert pe.spatial is False and pe.colour is None
    assert [f.id for f in case.region_findings] == ["mass", "intravascular_tumour"]
    assert case.label_values() == {"mass": 1, "intravascular_tumour": 2}
    assert "pulmonary_embolism" not in [f.id for f in case.spatial_findings]
    assert set(case.required_landmarks()) >= {
        "renal_vein_confluence",
        "hepatic_vein_confluence",
        "ivc_centreline",
        "right_psoas_at_mass",
    }
    assert case.required_structures() == ["iliopsoas_right", "inferior_vena_cava", "vertebrae_*"]
    assert case.landmark_spec("renal_vein_confluence").colour == "#FFD700"
    with pytest.raises(CaseFileError, match="'thrombus_2'.*mass"):
        case.finding("thrombus_2")


def test_packaged_case_is_the_annotations_file_or_its_copy_in_the_wheel() -> None:
    packaged = default_case_path()
    assert packaged.is_file()
    # an editable install (or src/ on the path) reads annotations/; a wheel its own copy
    in_wheel = Path(ivcviewer.__file__).parent / "data" / "cases" / packaged.name
    assert packaged in (REPO / "annotations" / packaged.name, in_wheel)
    assert packaged in packaged_cases()
    top = REPO / "annotations" / packaged.name
    assert top.is_file(), f"{top} is missing: annotations/ must hold every packaged case"
    assert top.read_bytes() == packaged.read_bytes()


def test_case_descriptions_do_not_copy_the_report() -> None:
    """No run of 8 words of the case report appears in the case file's texts."""
    if not CASE_REPORT.is_file():
        pytest.skip(f"case report not found at {CASE_REPORT}")

    def words(s: str) -> list[str]:
        return re.findall(r"[a-z0-9.]+", s.lower())

    rep = words(CASE_REPORT.read_text(encoding="utf-8"))
    grams = {tuple(rep[i : i + 8]) for i in range(len(rep) - 7)}
    case = load_case(default_case_path())
    texts = [case.case.source_note, case.case.notes, case.case.diagnosis]
    for f in case.findings:
        texts += [f.description, f.relations.note] + [m.note for m in f.measurements]
    for t in texts:
        w = words(t)
        copied = [" ".join(w[i : i + 8]) for i in range(len(w) - 7) if tuple(w[i : i + 8]) in grams]
        assert not copied, f"copied from the report: {copied}"


def test_group_pattern_expands() -> None:
    names = ["vertebrae_L1", "vertebrae_T12", "liver"]
    assert voc.expand_structure("vertebrae_*", names) == ["vertebrae_L1", "vertebrae_T12"]
    assert voc.expand_structure("liver", names) == ["liver"]
    assert not voc.is_known_structure("organs_*")


# --------------------------------------------------------------------------- bad files

Mutation = Callable[[dict[str, Any]], None]


def _set(path: list[Any], value: Any) -> Mutation:
    def f(doc: dict[str, Any]) -> None:
        node: Any = doc
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value

    return f


def _delete(path: list[Any]) -> Mutation:
    def f(doc: dict[str, Any]) -> None:
        node: Any = doc
        for k in path[:-1]:
            node = node[k]
        del node[path[-1]]

    return f


BAD_FILES: list[tuple[str, Mutation, str, str]] = [
    # (case id, mutation, field path in the message, a word of the fix)
    ("missing_name", _delete(["findings", 0, "name"]), "findings[0].name", "add 'name:'"),
    ("missing_doi", _delete(["case", "citation", "doi"]), "case.citation.doi", "add 'doi:'"),
    ("missing_findings", _delete(["findings"]), "'findings'", "add 'findings:'"),
    (
        "wrong_unit",
        _set(["findings", 0, "measurements", 0, "unit"], "inch"),
        "findings[0].measurements[0].unit",
        "'cm' or 'mm'",
    ),
    (
        "unknown_landmark",
        _set(["findings", 0, "relations", "centre_level"], "renal_veins"),
        "findings[0].relations.centre_level",
        "use 'renal_vein_confluence'",
    ),
    (
        "unknown_landmark_in_list",
        _set(["findings", 1, "landmarks", 0], "diaphragm"),
        "findings[1].landmarks[0]",
        "Fix:",
    ),
    (
        "unknown_structure",
        _set(["findings", 0, "relations", "origin_structure"], "psoas_right"),
        "findings[0].relations.origin_structure",
        "use 'iliopsoas_right'",
    ),
    (
        "unknown_structure_in_rule",
        _set(["findings", 0, "relations", "rules", 1, "structure"], "ivc"),
        "findings[0].relations.rules[1].structure",
        "TotalSegmentator",
    ),
    ("bad_colour_name", _set(["findings", 0, "colour"], "red"), "findings[0].colour", "#E6553A"),
    ("bad_colour_hex", _set(["findings", 1, "colour"], "#GG0000"), "findings[1].colour", "'#"),
    ("wrong_schema_version", _set(["schema_version"], 2), "schema_version", "supported: 1"),
    (
        "missing_axis_note",
        _delete(["findings", 0, "measurements", 0, "note"]),
        "findings[0].measurements[0].note",
        "add 'note:'",
    ),
    (
        "axes_length",
        _set(["findings", 0, "measurements", 0, "axes"], ["lr", "ap"]),
        "findings[0].measurements[0].axes",
        "one of 'lr', 'ap', 'cc' for each value",
    ),
    (
        "bad_axis",
        _set(["findings", 0, "measurements", 0, "axes"], ["lr", "ap", "si"]),
        "findings[0].measurements[0].axes[2]",
        "'cc'",
    ),
    (
        "unknown_field",
        _set(["findings", 0, "color"], "#FF0000"),
        "findings[0].color",
        "rename it to 'colour'",
    ),
    ("bad_kind", _set(["findings", 0, "kind"], "tumor"), "findings[0].kind", "Fix:"),
    (
        "relation_landmark_not_listed",
        _set(["findings", 0, "landmarks"], ["ivc_centreline"]),
        "findings[0].landmarks",
        "add 'renal_vein_confluence'",
    ),
    ("duplicate_id", _set(["findings", 1, "id"], "mass"), "findings[1].id", "new id"),
    (
        "bad_mayo",
        _set(["findings", 1, "relations", "expected_involvement", "mayo_level"], "V"),
        "findings[1].relations.expected_involvement.mayo_level",
        "Fix:",
    ),
    ("bad_doi", _set(["case", "citation", "doi"], "doi:10.1/x"), "case.citation.doi", "bare DOI"),
    (
        "clinical_spatial",
        _set(["findings", 3, "spatial"], True),
        "findings[3].spatial",
        "spatial: false",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "field", "fix"),
    [b[1:] for b in BAD_FILES],
    ids=[b[0] for b in BAD_FILES],
)
def test_bad_case_file_error_names_file_field_and_fix(
    tmp_path: Path, case_doc: dict[str, Any], mutate: Mutation, field: str, fix: str
) -> None:
    doc = copy.deepcopy(case_doc)
    mutate(doc)
    path = _write(tmp_path, doc, "broken_case.yaml")
    with pytest.raises(CaseFileError) as info:
        load_case(path)
    msg = str(info.value)
    assert str(path) in msg
    assert field in msg
    assert "Fix:" in msg
    assert fix in msg


def test_unmodified_copy_loads(tmp_path: Path, case_doc: dict[str, Any]) -> None:
    """The variants above fail because of their one change, not because of the copy."""
    case = load_case(_write(tmp_path, copy.deepcopy(case_doc)))
    assert case.finding("mass").reported_extents_mm()["cc"] == 132.0


def test_mm_units_are_converted(tmp_path: Path, case_doc: dict[str, Any]) -> None:
    doc = copy.deepcopy(case_doc)
    m = doc["findings"][0]["measurements"][0]
    m["values"], m["unit"] = [105, 89, 132], "mm"
    m["axes"] = ["cc", "lr", "ap"]
    case = load_case(_write(tmp_path, doc))
    assert case.finding("mass").reported_extents_mm() == {"lr": 89.0, "ap": 132.0, "cc": 105.0}


def test_duplicate_yaml_key_is_an_error(tmp_path: Path) -> None:
    text = default_case_path().read_text(encoding="utf-8")
    p = tmp_path / "dup.yaml"
    p.write_text(text.replace("schema_version: 1\n", "schema_version: 1\nschema_version: 1\n"))
    with pytest.raises(CaseFileError, match=r"dup\.yaml.*duplicate key 'schema_version'"):
        load_case(p)


def test_invalid_yaml_and_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "syntax.yaml"
    p.write_text("schema_version: 1\ncase: [unclosed\n", encoding="utf-8")
    with pytest.raises(CaseFileError, match=r"syntax\.yaml: is not valid YAML.*Fix"):
        load_case(p)
    with pytest.raises(CaseFileError, match=r"nothing\.yaml: case file not found"):
        load_case(tmp_path / "nothing.yaml")
    p.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(CaseFileError, match="must be a mapping"):
        load_case(p)


def test_reference_example_loads(tmp_path: Path) -> None:
    """The YAML example in docs/case-file.md is a valid case file."""
    doc = REPO / "docs" / "case-file.md"
    blocks = re.findall(r"```yaml\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)
    assert blocks, "docs/case-file.md has no YAML example"
    p = tmp_path / "example.yaml"
    p.write_text(blocks[0], encoding="utf-8")
    case = load_case(p)
    assert case.finding("mass").reported_extents_mm() == {"lr": 105.0, "ap": 89.0, "cc": 132.0}
