"""Structure references: every kind resolved on a synthetic label map with known geometry."""

from __future__ import annotations

import numpy as np
import pytest
from _overlay_factory import IDS, World, axial_affine, truth_landmarks

from ivcviewer.annotations.anatomy import Landmarks
from ivcviewer.annotations.anatomy.reference_names import (
    BadReference,
    combined_direction,
    is_point_reference,
    parse_reference,
)
from ivcviewer.annotations.anatomy.references import References
from ivcviewer.errors import AnatomyError
from ivcviewer.volume import Volume


@pytest.fixture(scope="module")
def refs(world: World) -> References:
    return References(Landmarks.from_points({}), world.labels, world.names)


def _points(world: World, name: str) -> np.ndarray:
    ijk = np.argwhere(world.labels.array == IDS[name])
    return world.labels.voxel_to_lps(ijk)


def test_centroid_is_the_mean_of_the_voxels(world: World, refs: References) -> None:
    p = _points(world, "kidney_left")
    np.testing.assert_allclose(refs.point("kidney_left.centroid"), p.mean(axis=0), atol=1e-9)
    assert refs.point("kidney_left.centroid")[0] > 75.0  # the medial notch shifts it laterally


@pytest.mark.parametrize(
    ("ref", "axis", "extreme"),
    [
        ("kidney_left.superior", 2, "max"),
        ("kidney_left.inferior", 2, "min"),
        ("kidney_left.left", 0, "max"),
        ("kidney_left.lateral", 0, "max"),
        ("kidney_left.medial", 0, "min"),
        ("kidney_right.lateral", 0, "min"),
        ("kidney_right.medial", 0, "max"),
        ("kidney_left.anterior", 1, "min"),
        ("kidney_left.posterior", 1, "max"),
    ],
)
def test_extremes_lie_at_the_structure_edge(
    world: World, refs: References, ref: str, axis: int, extreme: str
) -> None:
    structure = ref.split(".")[0]
    p = _points(world, structure)
    edge = p[:, axis].max() if extreme == "max" else p[:, axis].min()
    q = refs.point(ref)
    assert abs(q[axis] - edge) <= 3.0  # the centroid of the outer 3 mm slab
    # the slab's centroid lies on the structure's axis in the other directions
    centre = p.mean(axis=0)
    others = [a for a in range(3) if a != axis]
    assert np.all(np.abs(q[others] - centre[others]) < 12.0)


def test_surface_point_on_the_line_from_the_centroid(world: World, refs: References) -> None:
    c = refs.point("kidney_left.centroid")
    s = refs.point("kidney_left.surface_superior")
    assert s[0] == pytest.approx(c[0]) and s[1] == pytest.approx(c[1])
    # the ellipsoid (semi-axes 25, 20, 50 about (75, 40, 0)) at the centroid's x, y
    top = 50.0 * np.sqrt(1 - ((c[0] - 75) / 25) ** 2 - ((c[1] - 40) / 20) ** 2)
    assert abs(s[2] - top) <= 4.0  # one voxel
    name, q = refs.surface_point("kidney_left", ("superior", "lateral"))
    assert name == "kidney_left.surface_superior+lateral"
    d = combined_direction(("superior", "lateral"), "kidney_left")
    np.testing.assert_allclose(np.cross(q - c, d), 0.0, atol=1e-6)  # on that line
    assert q[0] > c[0] and q[2] > c[2]


def test_centreline_of_a_tubular_structure(refs: References) -> None:
    c, r = refs.centreline("aorta.centreline")
    assert np.all(np.diff(c[:, 2]) > 0)
    np.testing.assert_allclose(c[:, :2], np.broadcast_to([15.0, -5.0], c[:, :2].shape), atol=1.0)
    assert np.median(r) == pytest.approx(10.0, abs=1.0)
    p, rz = refs.centre_at_z("aorta", 50.0)
    assert p[2] == pytest.approx(50.0) and rz == pytest.approx(10.0, abs=1.5)
    with pytest.raises(AnatomyError, match="outside the aorta centreline"):
        refs.centre_at_z("aorta", 900.0)


def test_ivc_centreline_from_the_landmarks_when_they_have_it(world: World) -> None:
    r = References(truth_landmarks(), world.labels, world.names)
    c, rad = r.centreline("inferior_vena_cava.centreline")
    np.testing.assert_allclose(rad, 11.0)  # the landmark set's own radius, not the label map's


def test_vertebral_levels(world: World, refs: References) -> None:
    l1 = _points(world, "vertebrae_L1")
    assert refs.z("level_L1") == pytest.approx(l1[:, 2].mean())
    assert refs.z("level_L2") < refs.z("level_L1")
    # both vertebrae of this world run into the top and bottom of the grid: bounds
    assert refs.is_truncated("level_L1") and refs.is_truncated("level_L2")


def test_s1_from_the_sacrum_when_there_is_no_s1_label() -> None:
    arr = np.zeros((30, 10, 10), np.uint8)
    arr[0:25, 3:7, 3:7] = 1  # sacrum from z 0 to 48 mm (2 mm slices)
    vol = Volume(arr, axial_affine((2.0, 2.0, 2.0), (0.0, 0.0, 0.0)))
    r = References(Landmarks.from_points({}), vol, {1: "sacrum"})
    assert r.has("level_S1")
    # the centroid of its upper 20 mm: z 28..48
    assert r.z("level_S1") == pytest.approx(38.0)
    assert "upper 20 mm of the sacrum" in r.method("level_S1")


def test_clicked_points_stand_for_references_by_name(world: World) -> None:
    lm = Landmarks.from_points({"kidney_left.centroid": [1.0, 2.0, 3.0]})
    r = References(lm, world.labels, world.names)
    np.testing.assert_allclose(r.point("kidney_left.centroid"), [1.0, 2.0, 3.0])
    alone = References(lm)
    assert alone.has("kidney_left.centroid") and not alone.has("kidney_left.superior")
    with pytest.raises(AnatomyError, match="no anatomy label map.*click the point.*"):
        alone.point("kidney_left.superior")
    with pytest.raises(AnatomyError, match="'spleen'"):
        r.require(["spleen.centroid"])


def test_group_structures(world: World, refs: References) -> None:
    both = np.r_[_points(world, "vertebrae_L1"), _points(world, "vertebrae_L2")]
    np.testing.assert_allclose(refs.point("vertebrae_*.centroid"), both.mean(axis=0))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("kidney.centroid", "kidney_left"),
        ("liver.centreline", "not a tubular structure"),
        ("level_L9", "names no vertebra"),
        ("liver.medial", "needs a structure of one side"),
        ("aorta.surface_up", "not a part of a structure"),
        ("renal_vein", "renal_vein_confluence"),
        ("", "non-empty"),
    ],
)
def test_bad_references_say_what_and_how(text: str, words: str) -> None:
    with pytest.raises(BadReference) as err:
        parse_reference(text)
    assert words in str(err.value) and "Fix:" in str(err.value)


def test_reference_kinds() -> None:
    kinds = {
        "renal_vein_confluence": "landmark",
        "ivc_centreline": "centreline",
        "aorta.centreline": "centreline",
        "liver.centroid": "centroid",
        "liver.inferior": "extreme",
        "liver.surface_right": "surface",
        "level_T10": "level",
    }
    for text, kind in kinds.items():
        assert parse_reference(text).kind == kind
        assert is_point_reference(text) == (kind != "centreline")


def test_guided_clicking_asks_for_the_references_by_name() -> None:
    from pathlib import Path

    from ivcviewer.annotations import load_case
    from ivcviewer.widget_models.landmark_guide import guide_steps
    from ivcviewer.workflows.anatomy import anatomy_from_points

    root = Path(__file__).resolve().parents[1] / "annotations"
    case = load_case(root / "teaching_left_adrenal_mass.yaml")
    (step,) = guide_steps(case)
    assert step.id == "kidney_left.surface_superior+anterior+medial"
    assert "kidney left towards superior and anterior and medial" in step.description
    a = anatomy_from_points([step.id], [[1.0, 2.0, 3.0]])
    assert a.landmarks.point(step.id).tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(AnatomyError, match="neither a landmark"):
        anatomy_from_points(["kidney_left.nowhere"], [[1.0, 2.0, 3.0]])
