"""Occupancy of fitted regions by anatomy structure, and the warning on normal organs covered."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from _overlay_factory import World, fit_on_world_labels, truth_landmarks

from ivcviewer.annotations.overlay import AnatomyAccess, OverlayResult, fit_case
from ivcviewer.annotations.overlay.occupancy import (
    ORGAN_SHARE_WARNING,
    UNLABELLED,
    occupancy,
    shares,
)
from ivcviewer.annotations.rasterise import CroppedMask, GridBox
from ivcviewer.volume import Volume
from ivcviewer.workflows.findings_table import render_html, render_markdown, render_terminal


@pytest.fixture(scope="module")
def fitted(world: World, case) -> OverlayResult:  # type: ignore[no-untyped-def]
    return fit_on_world_labels(world, case)


def _by_name(occ) -> dict[str, tuple[float, int]]:  # type: ignore[no-untyped-def]
    return {o.structure: (o.share, o.voxels) for o in occ}


def test_shares_of_a_box_in_a_known_label_map() -> None:
    # a 10x10x10 box: 3 slices liver, 2 slices kidney, the rest unlabelled
    lab = np.zeros((10, 10, 10), np.uint8)
    lab[0:3] = 4
    lab[3:5] = 3
    region = CroppedMask(GridBox((0, 0, 0), (10, 10, 10)), np.ones((10, 10, 10), bool))
    region.mask[9, 9, 9] = False  # 999 voxels, one unlabelled voxel left out
    lab[5, 0, 0] = 7  # a value the table does not name counts as unlabelled
    names = {3: "kidney_right", 4: "liver"}
    got = shares(region, lab, names.get)
    assert [o.structure for o in got] == [UNLABELLED, "liver", "kidney_right"]
    assert _by_name(got) == {
        UNLABELLED: (499 / 999, 499),
        "liver": (300 / 999, 300),
        "kidney_right": (200 / 999, 200),
    }
    assert sum(o.voxels for o in got) == region.n_voxels


def test_fitted_regions_occupancy_matches_the_label_map(
    fitted: OverlayResult, world: World
) -> None:
    lab = world.labels.array
    for f in fitted.drawn:
        m = fitted.mask(f.id)
        assert f.occupancy is not None
        occ = _by_name(f.occupancy)
        assert sum(v for _, v in occ.values()) == int(m.sum())
        for value, name in world.names.items():
            k = int(np.count_nonzero(m & (lab == value)))
            if k:
                assert occ[name] == (pytest.approx(k / m.sum()), k)
            else:
                assert name not in occ
        shares_ = [o.share for o in f.occupancy]
        assert shares_ == sorted(shares_, reverse=True)
    tumour = _by_name(fitted.finding("intravascular_tumour").occupancy or ())
    assert tumour["inferior_vena_cava"][0] > 0.9


def test_occupancy_unknown_with_landmarks_only(world: World, case) -> None:  # type: ignore[no-untyped-def]
    res = fit_case(world.ct, case, truth_landmarks())
    mass = res.finding("mass")
    assert mass.occupancy is None
    assert mass.to_dict()["occupancy"] is None
    assert "Occupancy by structure: unknown" in render_markdown(res)


def _mass_over_liver(fitted: OverlayResult, world: World, liver_voxels: int):  # type: ignore[no-untyped-def]
    """The mass as a 10x10x10 box whose first ``liver_voxels`` voxels (C order) are liver."""
    box = GridBox((10, 10, 10), (20, 20, 20))
    lab = np.zeros(world.labels.shape, np.uint8)
    sub = np.zeros(1000, np.uint8)
    sub[:liver_voxels] = 4
    sub[liver_voxels : liver_voxels + 300] = 5  # the psoas the mass arises from
    lab[box.slices] = sub.reshape(10, 10, 10)
    labels = Volume(lab, world.labels.affine.copy())
    anatomy = AnatomyAccess(world.ct.grid, labels, world.names, truth_landmarks())
    mass = dataclasses.replace(
        fitted.finding("mass"),
        region=CroppedMask(box, np.ones((10, 10, 10), bool)),
        warnings=[],
    )
    (out,) = occupancy((mass,), anatomy)
    return out


def test_warning_above_the_organ_share_and_not_below(fitted: OverlayResult, world: World) -> None:
    limit = int(ORGAN_SHARE_WARNING * 1000)
    above = _mass_over_liver(fitted, world, limit + 1)
    assert _by_name(above.occupancy)["liver"] == (pytest.approx((limit + 1) / 1000), limit + 1)
    (warn,) = [w for w in above.warnings if "normal organs" in w]
    assert "liver 10%" in warn and "displace" in warn
    assert "iliopsoas_right" not in warn  # the structure it arises from is not warned about
    at = _mass_over_liver(fitted, world, limit)
    assert not [w for w in at.warnings if "normal organs" in w]
    assert _by_name(at.occupancy)["iliopsoas_right"][1] == 300


def test_lumen_findings_are_not_warned_about(fitted: OverlayResult, world: World) -> None:
    box = GridBox((10, 10, 10), (12, 12, 12))
    lab = np.zeros(world.labels.shape, np.uint8)
    lab[box.slices] = 4
    anatomy = AnatomyAccess(
        world.ct.grid, Volume(lab, world.labels.affine.copy()), world.names, truth_landmarks()
    )
    tumour = dataclasses.replace(
        fitted.finding("intravascular_tumour"),
        region=CroppedMask(box, np.ones((2, 2, 2), bool)),
        warnings=[],
    )
    (out,) = occupancy((tumour,), anatomy)
    assert _by_name(out.occupancy) == {"liver": (1.0, 8)}
    assert out.warnings == []


def test_occupancy_in_json_markdown_html_and_terminal(fitted: OverlayResult) -> None:
    doc = json.loads(json.dumps(fitted.to_json_dict()))
    mass = next(f for f in doc["findings"] if f["id"] == "mass")
    occ = fitted.finding("mass").occupancy
    assert occ is not None
    assert mass["occupancy"] == [
        {"structure": o.structure, "share": round(o.share, 4), "voxels": o.voxels} for o in occ
    ]
    top = occ[0]
    line = f"{top.structure} {top.share:.1%} ({top.voxels} voxels)"
    assert line in render_markdown(fitted)
    assert line in render_html(fitted, "mass")
    assert line in render_terminal(fitted)
