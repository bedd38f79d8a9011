"""Placement rules and rules with shares, fitted on a synthetic abdomen of known geometry.

The world (tests/_overlay_factory.py): kidneys are ellipsoids of semi-axes 25, 20, 50 mm about
(+-75, 40, 0); the aorta a cylinder of radius 10 at (15, -5); L1 above z = 0, L2 below; 4 mm
voxels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from _overlay_factory import IDS, World, truth_landmarks

from ivcviewer.annotations import CaseFile, load_case
from ivcviewer.annotations.overlay import OverlayResult, fit_case
from ivcviewer.errors import AnatomyError, CaseFileError

CASE_INFO = {
    "id": "rules_test",
    "title": "Rules test",
    "teaching_example": True,
    "source_note": "Synthetic case for tests.",
}


def solid(
    placement: dict[str, Any],
    size_mm: tuple[float, float, float] = (30.0, 30.0, 30.0),
    rules: list[dict[str, Any]] | None = None,
    **relations: Any,
) -> dict[str, Any]:
    return {
        "id": "lesion",
        "name": "Lesion",
        "kind": "mass",
        "colour": "#FF0000",
        "description": "A solid finding.",
        "measurements": [
            {
                "id": "size",
                "values": list(size_mm),
                "unit": "mm",
                "axes": ["lr", "ap", "cc"],
                "assumed": False,
            }
        ],
        "relations": {"placement": placement, "rules": rules or [], **relations},
    }


def write_case(tmp_path: Path, *findings: dict[str, Any], **top: Any) -> CaseFile:
    doc = {"schema_version": 1, "case": CASE_INFO, "findings": list(findings), **top}
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return load_case(path)


def fit(world: World, case: CaseFile) -> OverlayResult:
    return fit_case(world.ct, case, truth_landmarks(), world.labels, world.names)


def centroid(res: OverlayResult, world: World, fid: str = "lesion") -> np.ndarray:
    m = res.mask(fid)
    return world.ct.voxel_to_lps(np.argwhere(m)).mean(axis=0)


def structure_points(world: World, name: str) -> np.ndarray:
    return world.labels.voxel_to_lps(np.argwhere(world.labels.array == IDS[name]))


def test_centred_in_a_structure(tmp_path: Path, world: World) -> None:
    case = write_case(
        tmp_path,
        solid(
            {"rule": "centred_in", "structure": "kidney_right"},
            rules=[{"rule": "mostly_within", "structure": "kidney_right"}],
        ),
    )
    res = fit(world, case)
    kid = structure_points(world, "kidney_right").mean(axis=0)
    assert np.linalg.norm(centroid(res, world) - kid) <= 4.0
    (chk,) = res.finding("lesion").rules
    assert chk.status == "satisfied" and "needed: at least 50%" in chk.detail
    occ = res.finding("lesion").occupancy
    assert occ is not None and occ[0].structure == "kidney_right" and occ[0].share > 0.9


def test_centred_in_at_a_level_and_moved_by_position(tmp_path: Path, world: World) -> None:
    case = write_case(
        tmp_path,
        solid(
            {
                "rule": "centred_in",
                "structure": "kidney_left",
                "level": "kidney_left.superior",
                "position": {"lr": 0.5, "cc": -0.2},
            },
            size_mm=(12.0, 12.0, 12.0),
        ),
    )
    res = fit(world, case)
    p = structure_points(world, "kidney_left")
    half = (p.max(axis=0) - p.min(axis=0)) / 2.0
    fitted = res.finding("lesion").fit.model.centre_lps
    from ivcviewer.annotations.anatomy.references import References

    z_top = References(truth_landmarks(), world.labels, world.names).z("kidney_left.superior")
    assert fitted[2] == pytest.approx(z_top - 0.2 * half[2])
    band = p[np.abs(p[:, 2] - z_top) <= 2.0]
    assert fitted[0] == pytest.approx(band[:, 0].mean() + 0.5 * half[0])


def test_centred_in_refuses_a_level_the_structure_does_not_reach(
    tmp_path: Path, world: World
) -> None:
    case = write_case(
        tmp_path,
        solid({"rule": "centred_in", "structure": "iliopsoas_right", "level": "liver.superior"}),
    )
    with pytest.raises(AnatomyError, match="does not reach the level of liver.superior"):
        fit(world, case)


def test_arises_from_a_surface_and_grows_away(tmp_path: Path, world: World) -> None:
    case = write_case(
        tmp_path,
        solid(
            {"rule": "arises_from", "structure": "kidney_left", "towards": "superior"},
            size_mm=(40.0, 40.0, 40.0),
            rules=[
                {"rule": "touches", "structure": "kidney_left"},
                {"rule": "mostly_within", "structure": "kidney_left", "min_share": 0.5},
            ],
        ),
    )
    res = fit(world, case)
    top = structure_points(world, "kidney_left")[:, 2].max()
    z = world.ct.voxel_to_lps(np.argwhere(res.mask("lesion")))[:, 2]
    assert top - 4.0 <= z.min() <= top + 8.0  # it starts at the kidney's top
    assert z.max() == pytest.approx(z.min() + 40.0, abs=8.0)
    touches, within = res.finding("lesion").rules
    assert touches.status == "satisfied"
    assert within.status == "violated" and "needed: at least 50%" in within.detail


def test_arises_from_sunk_into_the_structure(tmp_path: Path, world: World) -> None:
    shallow = fit(
        world,
        write_case(
            tmp_path,
            solid({"rule": "arises_from", "structure": "kidney_left", "towards": "lateral"}),
        ),
    )
    deep = fit(
        world,
        write_case(
            tmp_path,
            solid(
                {
                    "rule": "arises_from",
                    "structure": "kidney_left",
                    "towards": "lateral",
                    "depth_mm": 10,
                }
            ),
        ),
    )
    a = shallow.finding("lesion").fit.model.centre_lps
    b = deep.finding("lesion").fit.model.centre_lps
    assert a[0] - b[0] == pytest.approx(10.0)  # lateral of the left kidney is +x
    assert b[0] > structure_points(world, "kidney_left")[:, 0].mean()


def test_at_level_beside_a_vessel(tmp_path: Path, world: World) -> None:
    case = write_case(
        tmp_path,
        solid(
            {
                "rule": "at_level",
                "level": "level_L2",
                "vessel": "aorta",
                "towards": "left",
                "gap_mm": 4,
            },
            size_mm=(20.0, 16.0, 24.0),
            rules=[{"rule": "avoids", "structure": "aorta", "max_share": 0.0}],
        ),
    )
    res = fit(world, case)
    c = res.finding("lesion").fit.model.centre_lps
    # the aorta's centre x = 15, radius 10 (equal-area radius of its voxels), 4 mm gap, 10 mm
    assert c[0] == pytest.approx(15 + 10 + 4 + 10, abs=1.5)
    assert c[1] == pytest.approx(-5.0, abs=1.0)
    (chk,) = res.finding("lesion").rules
    assert chk.status == "satisfied"


def test_at_level_refuses_a_vertical_side(tmp_path: Path, world: World) -> None:
    case = write_case(
        tmp_path,
        solid({"rule": "at_level", "level": "level_L2", "vessel": "aorta", "towards": "superior"}),
    )
    with pytest.raises(CaseFileError, match="towards: superior"):
        fit(world, case)


def test_rounded_box_fills_more_of_its_box(tmp_path: Path, world: World) -> None:
    place = {"rule": "centred_in", "structure": "liver"}
    ell = fit(world, write_case(tmp_path, solid(place, size_mm=(40.0, 32.0, 40.0))))
    box = fit(
        world, write_case(tmp_path, solid(place, size_mm=(40.0, 32.0, 40.0), shape="rounded_box"))
    )
    n_e, n_b = ell.mask("lesion").sum(), box.mask("lesion").sum()
    assert 1.3 < n_b / n_e < 1.7  # 0.78 / 0.52 of the box for the smooth shapes
    ext = box.finding("lesion").extents_mm
    assert ext is not None
    assert ext["lr"] == pytest.approx(40.0, abs=4.0) and ext["cc"] == pytest.approx(40.0, abs=4.0)


def test_sorted_triple_puts_the_longest_cranio_caudal(tmp_path: Path, world: World) -> None:
    f = solid({"rule": "centred_in", "structure": "liver"})
    f["measurements"] = [{"id": "size", "values": [2.0, 4.8, 3.2], "unit": "cm"}]
    case = write_case(tmp_path, f)
    assert case.finding("lesion").reported_extents_mm() == {"lr": 32.0, "ap": 20.0, "cc": 48.0}
    assert case.finding("lesion").extents_assumed()


def test_lumen_between_a_vascular_and_a_vertebral_level(tmp_path: Path, world: World) -> None:
    thrombus = {
        "id": "thrombus",
        "name": "Thrombus",
        "kind": "thrombus",
        "colour": "#0000FF",
        "description": "Bland thrombus.",
        "relations": {
            "vessel": "inferior_vena_cava",
            "from_landmark": "renal_vein_confluence",
            "to_landmark": "level_L1",
            "occlusion": "partial",
            "rules": [{"rule": "within_vessel", "structure": "inferior_vena_cava"}],
        },
        "landmarks": ["renal_vein_confluence", "ivc_centreline"],
    }
    res = fit(world, write_case(tmp_path, thrombus))
    from ivcviewer.annotations.anatomy.references import References

    z_l1 = References(truth_landmarks(), world.labels, world.names).z("level_L1")
    z = world.ct.voxel_to_lps(np.argwhere(res.mask("thrombus")))[:, 2]
    assert z.min() == pytest.approx(0.0, abs=4.0) and z.max() == pytest.approx(z_l1, abs=4.0)
    (chk,) = res.finding("thrombus").rules
    assert chk.status == "satisfied" and "needed: at least 95%" in chk.detail


@pytest.mark.parametrize(
    ("rule", "size", "status", "figure"),
    [
        ({"rule": "mostly_within", "structure": "kidney_right"}, 30.0, "satisfied", None),
        ({"rule": "mostly_within", "structure": "kidney_right"}, 90.0, "violated", "50%"),
        (
            {"rule": "mostly_within", "structure": "kidney_right", "min_share": 0.99},
            30.0,
            "violated",
            "99%",
        ),
        ({"rule": "within_vessel", "structure": "kidney_right"}, 90.0, "violated", "95%"),
        (
            {"rule": "avoids", "structure": "kidney_right", "max_share": 0.2},
            90.0,
            "violated",
            "at most 20%",
        ),
        (
            {"rule": "avoids", "structure": "kidney_right", "max_share": 0.9},
            90.0,
            "satisfied",
            "at most 90%",
        ),
        ({"rule": "touches", "structure": "kidney_left"}, 30.0, "violated", None),
    ],
)
def test_rules_report_their_measured_share(
    tmp_path: Path,
    world: World,
    rule: dict[str, Any],
    size: float,
    status: str,
    figure: str | None,
) -> None:
    case = write_case(
        tmp_path,
        solid(
            {"rule": "centred_in", "structure": "kidney_right"},
            size_mm=(size, size, size),
            rules=[rule],
        ),
    )
    res = fit(world, case)
    (chk,) = res.finding("lesion").rules
    assert chk.status == status, chk.detail
    if figure is not None:
        # the detail gives the measured share, then the threshold
        measured, threshold = chk.detail.split("lies")
        assert measured.strip().endswith("of the region") and "%" in measured
        assert figure in threshold
    if rule["rule"] == "avoids":  # with max_share nothing is clipped
        assert (res.mask("lesion") & (world.labels.array == IDS["kidney_right"])).any()


def test_organ_share_warning_threshold_from_the_case_file(tmp_path: Path, world: World) -> None:
    # a lesion centred on the right kidney's medial edge spills into the psoas beside it
    f = solid(
        {"rule": "centred_in", "structure": "kidney_right", "position": {"lr": 1.0}},
        size_mm=(40.0, 40.0, 40.0),
    )

    def organ_warnings(res: OverlayResult) -> list[str]:
        return [w for w in res.finding("lesion").warnings if "normal organs" in w]

    strict = fit(world, write_case(tmp_path, f, checks={"organ_share_warning": 0.01}))
    occ = {o.structure: o.share for o in strict.finding("lesion").occupancy or ()}
    psoas = occ["iliopsoas_right"]
    assert 0.01 < psoas < 0.9
    (words,) = organ_warnings(strict)
    assert f"iliopsoas_right {psoas:.0%}" in words and "more than 1% each" in words
    # the kidney itself is named by the placement: never warned about
    assert "kidney_right" not in words
    lax = fit(world, write_case(tmp_path, f, checks={"organ_share_warning": 0.95}))
    assert organ_warnings(lax) == []


@pytest.mark.parametrize(
    ("placement", "field", "words"),
    [
        ({"rule": "centred_in"}, "placement.structure", "needs structure"),
        (
            {
                "rule": "at_level",
                "level": "level_L1",
                "vessel": "aorta",
                "towards": "left",
                "through": [{"landmark": "ivc_centreline"}],
            },
            "placement.through",
            "does not apply",
        ),
        (
            {"rule": "arises_from", "structure": "liver", "towards": "medial"},
            "placement.towards",
            "one side",
        ),
        (
            {"rule": "arises_from", "structure": "liver", "towards": ["superior", "inferior"]},
            "placement.towards",
            "opposite",
        ),
        (
            {"rule": "arises_from", "structure": "vertebrae_*", "towards": "left"},
            "placement.structure",
            "not a group",
        ),
        (
            {"rule": "centred_in", "structure": "liver", "position": {"lr": 5}},
            "placement.position.lr",
            "[-3.0, 3.0]",
        ),
        (
            {"rule": "centred_in", "structure": "liver", "level": "aorta.centreline"},
            "placement.level",
            "centreline, not a point",
        ),
    ],
)
def test_bad_placements_name_their_field(
    tmp_path: Path, placement: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(CaseFileError) as err:
        write_case(tmp_path, solid(placement))
    assert field in str(err.value) and words in str(err.value)


def test_share_fields_belong_to_their_rules(tmp_path: Path) -> None:
    with pytest.raises(CaseFileError, match="min_share.*only applies to the rule 'mostly_within'"):
        write_case(
            tmp_path,
            solid(
                {"rule": "centred_in", "structure": "liver"},
                rules=[{"rule": "touches", "structure": "liver", "min_share": 0.5}],
            ),
        )
    with pytest.raises(CaseFileError, match="centre_level.*does not apply"):
        write_case(
            tmp_path,
            solid(
                {"rule": "centred_in", "structure": "liver"}, centre_level="renal_vein_confluence"
            ),
        )


def test_citation_or_teaching_example(tmp_path: Path) -> None:
    f = solid({"rule": "centred_in", "structure": "liver"})
    info = {k: v for k, v in CASE_INFO.items() if k != "teaching_example"}
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump({"schema_version": 1, "case": info, "findings": [f]}))
    with pytest.raises(CaseFileError, match="case.citation.*teaching_example: true"):
        load_case(path)


def test_a_clicked_point_places_the_solid_without_a_label_map(tmp_path: Path, world: World) -> None:
    case = write_case(
        tmp_path,
        solid(
            {"rule": "arises_from", "structure": "kidney_left", "towards": ["superior", "medial"]},
            size_mm=(20.0, 20.0, 20.0),
        ),
    )
    name = "kidney_left.surface_superior+medial"
    assert name in case.required_references()
    lm = truth_landmarks()
    lm.points_lps[name] = np.array([60.0, 40.0, 40.0])
    res = fit_case(world.ct, case, lm)  # landmarks only: no label map
    c = res.finding("lesion").fit.model.centre_lps
    d = np.array([-1.0, 0.0, 1.0]) / np.sqrt(2.0)  # medial of the left kidney is -x
    np.testing.assert_allclose(c, [60.0, 40.0, 40.0] + d * 10.0, atol=1e-6)
    with pytest.raises(AnatomyError, match="click the point.*" + name.replace("+", r"\+")):
        fit_case(world.ct, case, truth_landmarks())


def test_structures_of_a_named_label_map_beyond_totalsegmentator(
    tmp_path: Path, world: World
) -> None:
    f = solid(
        {"rule": "centred_in", "structure": "tumour_bed"},
        rules=[{"rule": "mostly_within", "structure": "tumour_bed"}],
    )
    with pytest.raises(
        CaseFileError, match="listed under the case file's 'structures'.*got 'tumour_bed'"
    ):
        write_case(tmp_path, f)
    case = write_case(tmp_path, f, structures=["tumour_bed"])
    labels = world.labels.array.copy()
    labels[labels == IDS["kidney_right"]] = 99  # the right kidney, renamed
    from ivcviewer.volume import Volume

    named = Volume(labels, world.labels.affine)
    res = fit_case(world.ct, case, truth_landmarks(), named, {**world.names, 99: "tumour_bed"})
    (chk,) = res.finding("lesion").rules
    assert chk.status == "satisfied"
    with pytest.raises(AnatomyError, match="no voxel of 'tumour_bed'"):
        fit_case(world.ct, case, truth_landmarks(), world.labels, world.names)


def test_centred_in_on_a_clicked_centre_without_a_label_map(tmp_path: Path, world: World) -> None:
    case = write_case(tmp_path, solid({"rule": "centred_in", "structure": "kidney_right"}))
    assert case.required_references() == ["kidney_right.centroid"]
    lm = truth_landmarks()
    lm.points_lps["kidney_right.centroid"] = np.array([-70.0, 38.0, 4.0])
    res = fit_case(world.ct, case, lm)
    np.testing.assert_allclose(res.finding("lesion").fit.model.centre_lps, [-70.0, 38.0, 4.0])
    moved = write_case(
        tmp_path,
        solid({"rule": "centred_in", "structure": "kidney_right", "position": {"lr": 0.5}}),
    )
    with pytest.raises(AnatomyError, match="no anatomy label map"):
        fit_case(world.ct, moved, lm)  # a position needs the structure's extent


def test_findings_report_says_not_satisfied_with_the_figures(tmp_path: Path, world: World) -> None:
    from ivcviewer.workflows.findings_table import render_html, render_markdown

    case = write_case(
        tmp_path,
        solid(
            {"rule": "centred_in", "structure": "kidney_right"},
            size_mm=(90.0, 90.0, 90.0),
            rules=[{"rule": "mostly_within", "structure": "kidney_right", "min_share": 0.8}],
        ),
    )
    res = fit(world, case)
    (chk,) = res.finding("lesion").rules
    share = chk.detail.split("%")[0]
    md = render_markdown(res)
    row = next(line for line in md.splitlines() if line.startswith("| mostly_within"))
    assert "| not satisfied |" in row and f"{share}%" in row and "needed: at least 80%" in row
    assert "not satisfied" in render_html(res, "lesion")
