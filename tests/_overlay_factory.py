"""A small synthetic abdomen (CT, label map, landmarks) for the overlay and fit tests.

The world is defined by simple shapes in LPS mm and sampled at the voxel centres of any grid,
so the same anatomy can be rasterised on axial, head-first, flipped or oblique grids:

* body: an elliptic cylinder (soft tissue 40 HU) in air (-1000 HU);
* a vertebral column: cylinder at (0, 32), radius 20, cortical bone 700 HU;
* IVC: cylinder at (-25, -10), radius 11, z -100..180;
* aorta: cylinder at (15, -5), radius 10;
* kidneys: ellipsoids at x = -/+75 with a medial notch (the hilum) at z = 0;
* liver: a block around the IVC from z 80 to 150 (the intrahepatic IVC), a right lobe down
  to z 40;
* right psoas: cylinder at (-35, 35), radius 12, up to z 60.

Landmarks (truth): renal-vein confluence (-25, -10, 0), intrahepatic IVC 80..150, the top of the
IVC at 180, right psoas at the mass level (-35, 35, 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ivcviewer import geometry
from ivcviewer.annotations import CaseFile, default_case_path, landmarks_from_labelmap
from ivcviewer.annotations.anatomy import Landmarks, Provenance
from ivcviewer.annotations.overlay import OverlayResult, fit_case
from ivcviewer.io import open_path
from ivcviewer.phantom import build_phantom, write_phantom
from ivcviewer.volume import Volume
from ivcviewer.widget_models import AnatomyInput, CaseOverlayModel

NAMES: dict[int, str] = {
    1: "inferior_vena_cava",
    2: "kidney_left",
    3: "kidney_right",
    4: "liver",
    5: "iliopsoas_right",
    6: "aorta",
    7: "vertebrae_L1",
    8: "vertebrae_L2",
}
IDS = {n: v for v, n in NAMES.items()}

IVC_XY = (-25.0, -10.0)
IVC_R = 11.0
PSOAS_XY = (-35.0, 35.0)


@dataclass
class World:
    """A sampled synthetic abdomen."""

    ct: Volume
    labels: Volume
    names: dict[int, str]


def axial_affine(
    spacing: tuple[float, float, float] = (4.0, 4.0, 4.0),
    origin: tuple[float, float, float] = (-160.0, -130.0, -100.0),
) -> NDArray[np.float64]:
    """Slices along +z, rows along +y, columns along +x."""
    dz, dy, dx = spacing
    return geometry.affine_from_dicom([1, 0, 0, 0, 1, 0], origin, [dy, dx], [0.0, 0.0, dz])


AXIAL_SHAPE = (76, 61, 81)


def sample_world(
    shape: tuple[int, int, int] = AXIAL_SHAPE,
    affine: NDArray[np.float64] | None = None,
    *,
    body_semi: tuple[float, float] = (150.0, 110.0),
) -> World:
    """The world sampled at the voxel centres of a grid."""
    aff = axial_affine() if affine is None else np.asarray(affine, dtype=float)
    ijk = np.indices(shape).reshape(3, -1).T
    p = geometry.voxel_to_lps(aff, ijk)
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    ct = np.full(len(p), -1000, np.int16)
    lab = np.zeros(len(p), np.uint8)
    body = (x / body_semi[0]) ** 2 + ((y + 10.0) / body_semi[1]) ** 2 <= 1.0
    ct[body] = 40
    d_ivc = np.hypot(x - IVC_XY[0], y - IVC_XY[1])
    ivc = (d_ivc <= IVC_R) & (z >= -100) & (z <= 180)
    for name, xc in (("kidney_right", -75.0), ("kidney_left", 75.0)):
        kb = ((x - xc) / 25) ** 2 + ((y - 40) / 20) ** 2 + ((z - 0.0) / 50) ** 2 <= 1
        medial = (x - xc) * np.sign(-xc) > 8
        notch = medial & (np.abs(z) <= 12) & (np.abs(y - 40) <= 8)
        lab[kb & ~notch] = IDS[name]
        ct[kb & ~notch] = 150
    liver_wrap = (x >= -110) & (x <= 50) & (y >= -70) & (y <= 14) & (z >= 80) & (z <= 150)
    liver_lobe = (x >= -120) & (x <= -45) & (y >= -60) & (y <= -5) & (z >= 40) & (z < 80)
    liver = (liver_wrap | liver_lobe) & (d_ivc > IVC_R + 1)
    lab[liver] = IDS["liver"]
    ct[liver] = 110
    psoas = (np.hypot(x - PSOAS_XY[0], y - PSOAS_XY[1]) <= 12) & (z <= 60)
    lab[psoas] = IDS["iliopsoas_right"]
    ct[psoas] = 50
    aorta = (np.hypot(x - 15, y + 5) <= 10) & (z >= -100) & (z <= 190)
    lab[aorta] = IDS["aorta"]
    ct[aorta] = 170
    spine = np.hypot(x, y - 32) <= 20
    lab[spine & (z >= 0)] = IDS["vertebrae_L1"]
    lab[spine & (z < 0)] = IDS["vertebrae_L2"]
    ct[spine] = 700
    lab[ivc] = IDS["inferior_vena_cava"]
    ct[ivc] = 130
    ct_vol = Volume(ct.reshape(shape), aff)
    lab_vol = Volume(lab.reshape(shape), aff)
    lab_vol.metadata.modality = "SEG"
    return World(ct_vol, lab_vol, dict(NAMES))


def truth_landmarks(ivc_top: float = 180.0, truncated: tuple[str, ...] = ()) -> Landmarks:
    """The world's landmarks, as a phantom would give them."""
    z = np.arange(-100.0, ivc_top + 1e-6, 5.0)
    centre = np.c_[np.full_like(z, IVC_XY[0]), np.full_like(z, IVC_XY[1]), z]
    return Landmarks.from_points(
        {
            "renal_vein_confluence": [IVC_XY[0], IVC_XY[1], 0.0],
            "intrahepatic_ivc_lower": [IVC_XY[0], IVC_XY[1], 80.0],
            "hepatic_vein_confluence": [IVC_XY[0], IVC_XY[1], 150.0],
            "cavo_atrial_junction": [IVC_XY[0], IVC_XY[1], ivc_top],
            "right_psoas_at_mass": [PSOAS_XY[0], PSOAS_XY[1], 0.0],
            "liver_lower_edge": [-82.0, -32.0, 40.0],
        },
        centre,
        np.full_like(z, IVC_R),
        Provenance("points", "synthetic world", truncated=list(truncated)),
    )


def fit_on_world_labels(world: World, case: CaseFile) -> OverlayResult:
    """``case`` fitted to ``world`` from its label map (landmarks derived from the labels)."""
    lm = landmarks_from_labelmap(world.labels, world.names, required=case.required_landmarks())
    return fit_case(world.ct, case, lm, world.labels, world.names)


def fit_case_on_small_phantom(out: Path) -> OverlayResult:
    """Write the small phantom into ``out`` and fit the packaged case on it from its truth."""
    write_phantom(build_phantom("small"), out)
    model = CaseOverlayModel()
    model.set_case(default_case_path())
    model.set_source(AnatomyInput.PHANTOM_TRUTH, out)
    return model.fit(open_path(out / "ct")[0], "phantom CT")
