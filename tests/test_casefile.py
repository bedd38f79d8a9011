"""Case files: loading the packaged case and the errors a bad case file gets."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import ivcviewer
from ivcviewer.annotations import default_case_path, load_case, packaged_cases
from ivcviewer.annotations import vocabulary as voc
from ivcviewer.annotations.casefile import Placement, PlacementPoint, Relations
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


# --------------------------------------------------------------------------- typed models

VOCABULARIES: list[tuple[type[voc.VocabularyEnum], list[str]]] = [
    (voc.FindingKind, list(voc.KINDS)),
    (voc.Axis, list(voc.AXES)),
    (voc.LengthUnit, list(voc.UNITS_MM)),
    (voc.RelationRule, list(voc.RULES)),
    (voc.PlacementRule, list(voc.PLACEMENT_RULES)),
    (voc.Side, list(voc.SIDES)),
    (voc.Occlusion, list(voc.OCCLUSION)),
    (voc.MayoLevel, list(voc.MAYO_LEVELS)),
    (voc.IvcSegment, list(voc.IVC_SEGMENTS)),
]


@pytest.mark.parametrize(
    ("vocabulary", "names"), VOCABULARIES, ids=[v[0].__name__ for v in VOCABULARIES]
)
def test_vocabulary_enums_are_their_strings(
    vocabulary: type[voc.VocabularyEnum], names: list[str]
) -> None:
    assert [m.value for m in vocabulary] == names
    for member, name in zip(vocabulary, names, strict=True):
        assert vocabulary(name) is member
        assert member == name and hash(member) == hash(name) and {name: 1}[member] == 1
        assert (str(member), f"{member}", f"{member:>4}", repr(member)) == (
            name,
            name,
            f"{name:>4}",
            repr(name),
        )
        assert json.dumps({member: [member]}) == json.dumps({name: [name]})


def test_packaged_case_holds_vocabulary_members() -> None:
    case = load_case(default_case_path())
    mass, ivt = case.finding("mass"), case.finding("intravascular_tumour")
    assert mass.kind is voc.FindingKind.MASS
    assert case.finding("pulmonary_embolism").kind is voc.FindingKind.CLINICAL
    m = mass.measurements[0]
    assert m.unit is voc.LengthUnit.CM
    assert m.axes == (voc.Axis.LR, voc.Axis.AP, voc.Axis.CC)
    assert all(type(a) is voc.Axis for a in m.axes)
    assert [r.rule for r in mass.relations.rules] == [
        voc.RelationRule.OVERLAPS,
        voc.RelationRule.REACHES_INTO,
        voc.RelationRule.AVOIDS,
    ]
    assert ivt.relations.occlusion is voc.Occlusion.NEAR_TOTAL
    ei = ivt.relations.expected_involvement
    assert ei is not None
    assert (ei.mayo_level, ei.ivc_segment) == (voc.MayoLevel.LEVEL_III, voc.IvcSegment.SEGMENT_II)
    # extents are keyed by the plain axis names
    assert all(type(k) is str for k in mass.reported_extents_mm())


def _as_written(value: Any) -> Any:
    """A YAML value as the model holds it: texts stripped, lists as tuples, numbers as floats."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return tuple(_as_written(v) for v in value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def _same_as_written(model: Any, written: Any, where: str) -> None:
    """Every key of the YAML mapping ``written`` has its value in the dataclass ``model``."""
    assert dataclasses.is_dataclass(model), where
    for key, value in written.items():
        attr = "landmark_specs" if (where == "" and key == "landmarks") else key
        got = getattr(model, attr)
        w = f"{where}.{key}" if where else key
        if isinstance(value, dict):
            _same_as_written(got, value, w)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            assert len(got) == len(value), w
            for i, (g, v) in enumerate(zip(got, value, strict=True)):
                _same_as_written(g, v, f"{w}[{i}]")
        elif key == "colour":
            assert got == value.upper(), w
        elif key in ("label_value", "schema_version"):
            assert got == value and type(got) is int, w
        else:
            assert got == _as_written(value), w


def test_packaged_case_round_trip_keeps_every_value(case_doc: dict[str, Any]) -> None:
    """File -> model -> values: each value of the file is in the model; defaults as before."""
    case = load_case(default_case_path())
    _same_as_written(case, case_doc, "")
    assert case.path == default_case_path()
    # what the file leaves out
    mass, ivt = case.finding("mass"), case.finding("intravascular_tumour")
    pe = case.finding("pulmonary_embolism")
    assert (mass.spatial, pe.spatial, pe.label_value, pe.measurements) == (True, False, None, ())
    assert pe.relations == Relations()
    assert (mass.relations.from_offset_mm, mass.relations.occlusion) == (0.0, None)
    assert [(r.margin_mm, r.min_fraction) for r in mass.relations.rules] == [(0.0, 1.0)] * 3
    assert ivt.relations.placement is None and ivt.relations.from_offset_mm == 0.0
    assert case.landmark_specs[1].description == ""
    assert case == load_case(default_case_path())  # frozen dataclasses compare by value


# --------------------------------------------------------------------------- more bad files
def _append(path: list[Any], value: Any) -> Mutation:
    def f(doc: dict[str, Any]) -> None:
        node: Any = doc
        for k in path:
            node = node[k]
        node.append(value)

    return f


MORE_BAD_FILES: list[tuple[str, Mutation, str]] = [
    # (case id, mutation, the whole message after the file name)
    (
        "unknown_kind_lists_the_kinds",
        _set(["findings", 1, "kind"], "tumour_thrombus"),
        "field 'findings[1].kind': is not a known finding kind (known: mass, "
        "intravascular_tumour, thrombus, lesion, lymph_node, vessel, organ, landmark, "
        "clinical), got 'tumour_thrombus'. Fix: use 'thrombus'",
    ),
    (
        "wrong_type_list",
        _set(["findings", 0, "measurements", 0, "values"], "10.5 x 8.9 x 13.2 cm"),
        "field 'findings[0].measurements[0].values': must be a list, got '10.5 x 8.9 x 13.2 cm'. "
        "Fix: write it as '[a, b]' or '- ' lines",
    ),
    (
        "wrong_type_number",
        _set(["findings", 1, "relations", "rules", 0, "margin_mm"], "2 mm"),
        "field 'findings[1].relations.rules[0].margin_mm': must be a number, got '2 mm'. "
        "Fix: write a plain number (no unit)",
    ),
    (
        "wrong_type_boolean",
        _set(["findings", 0, "measurements", 0, "assumed"], "yes"),
        "field 'findings[0].measurements[0].assumed': must be true or false, got 'yes'. "
        "Fix: write true or false",
    ),
    (
        "wrong_type_mapping",
        _set(["findings", 1, "relations"], ["inferior_vena_cava"]),
        "field 'findings[1].relations': must be a mapping of keys to values, got "
        "['inferior_vena_cava']. Fix: write it as 'key: value' lines",
    ),
    (
        "wrong_type_unhashable_unit",
        _set(["findings", 0, "measurements", 0, "unit"], ["cm"]),
        "field 'findings[0].measurements[0].unit': is not an allowed length unit (allowed: mm, "
        "cm), got ['cm']. Fix: write 'cm' or 'mm' (convert other units first)",
    ),
    (
        "missing_field",
        _delete(["findings", 0, "measurements", 0, "unit"]),
        "field 'findings[0].measurements[0].unit': is missing (it is required). Fix: add "
        "'unit:' under 'findings[0].measurements[0]' (the reference is docs/case-file.md)",
    ),
    (
        "null_is_missing",
        _set(["case", "title"], None),
        "field 'case.title': is missing (it is required). Fix: add 'title:' under 'case' (the "
        "reference is docs/case-file.md)",
    ),
    (
        "missing_relations",
        _delete(["findings", 1, "relations"]),
        "field 'findings[1].relations': is missing (a spatial finding needs relations that "
        "place it). Fix: add 'relations:' (see docs/case-file.md), or write 'spatial: false'",
    ),
    (
        "top_level_list",
        _set(["findings"], "mass"),
        "field 'findings': must be a list, got 'mass'. Fix: write it as '[a, b]' or '- ' lines",
    ),
    (
        "path_is_not_a_field",
        _set(["path"], "elsewhere.yaml"),
        "field 'path': is not a field of this schema (allowed: case, checks, findings, "
        "landmarks, schema_version, structures). "
        "Fix: remove it (the reference is docs/case-file.md)",
    ),
    (
        "placement_of_a_lumen",
        _set(
            ["findings", 1, "relations", "placement"],
            {
                "rule": "outline_through",
                "through": [{"landmark": "ivc_centreline"}],
                "side": "right",
            },
        ),
        "field 'findings[1].relations.placement': only places solid findings (kinds mass, "
        "lesion, lymph_node), not kind 'intravascular_tumour'. Fix: remove 'placement' (a "
        "finding inside a vessel is placed by from_landmark and to_landmark)",
    ),
    (
        "placement_side_contradicts_origin",
        _set(["findings", 0, "relations", "placement", "side"], "left"),
        "field 'findings[0].relations.placement.side': contradicts 'origin_structure' "
        "'iliopsoas_right' (a structure of the right side), got 'left'. Fix: write 'side: "
        "right', or correct the origin structure",
    ),
    (
        "placement_repeats_a_landmark",
        _set(["findings", 0, "relations", "placement", "through", 1, "landmark"], "ivc_centreline"),
        "field 'findings[0].relations.placement.through[1].landmark': repeats a landmark of "
        "this list, got 'ivc_centreline'. Fix: name another one",
    ),
    (
        "min_fraction_of_another_rule",
        _set(["findings", 0, "relations", "rules", 0, "min_fraction"], 0.5),
        "field 'findings[0].relations.rules[0].min_fraction': only applies to the rule "
        "'inside'. Fix: remove it, or change the rule to 'inside'",
    ),
    (
        "axis_twice_in_a_finding",
        _append(
            ["findings", 0, "measurements"],
            {"id": "depth", "values": [9], "unit": "cm", "axes": ["ap"], "assumed": False},
        ),
        "field 'findings[0].measurements[1].axes': assigns axis 'ap' that measurement 'size' "
        "already assigns. Fix: assign each axis once per finding",
    ),
    (
        "assumed_names_an_unset_field",
        _set(["findings", 0, "relations", "assumed"], ["centre_level", "occlusion"]),
        "field 'findings[0].relations.assumed[1]': names 'occlusion', which these relations "
        "do not set. Fix: set 'occlusion' or remove it from 'assumed'",
    ),
    (
        "duplicate_label_value",
        _set(["findings", 1, "label_value"], 1),
        "field 'findings[1].label_value': repeats another finding's label value, got 1. Fix: "
        "give it a unique value",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [b[1:] for b in MORE_BAD_FILES],
    ids=[b[0] for b in MORE_BAD_FILES],
)
def test_bad_case_file_whole_message(
    tmp_path: Path, case_doc: dict[str, Any], mutate: Mutation, expected: str
) -> None:
    doc = copy.deepcopy(case_doc)
    mutate(doc)
    path = _write(tmp_path, doc, "broken_case.yaml")
    with pytest.raises(CaseFileError) as info:
        load_case(path)
    assert str(info.value) == f"{path}: {expected}"


def test_yaml_loader_stays_safe_and_strict(tmp_path: Path) -> None:
    p = tmp_path / "unsafe.yaml"
    p.write_text("schema_version: !!python/object/apply:os.getcwd []\n", encoding="utf-8")
    with pytest.raises(CaseFileError, match=r"unsafe\.yaml: is not valid YAML.*python/object"):
        load_case(p)
    p.write_text("? [a, b]\n: 1\n", encoding="utf-8")
    with pytest.raises(CaseFileError, match=r"is not valid YAML.*unhashable key"):
        load_case(p)


def test_models_built_in_code_take_their_fields_as_given() -> None:
    """Code (the fit, tests) builds and replaces parts without the file's checks."""
    placement = Placement("outline_through", (PlacementPoint("ivc_centreline"),), "")
    assert placement.side == "" and placement.landmarks() == ["ivc_centreline"]
    mass = load_case(default_case_path()).finding("mass")
    moved = dataclasses.replace(mass, relations=dataclasses.replace(mass.relations, note=""))
    assert moved.relations.note == "" and mass.relations.note
