"""A small synthetic CT written as DICOM, with a mass (label 1) and a thrombus (label 2).

Used by the tests that export a label map as DICOM SEG and SR and read the report back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ivcviewer.dicom.write import write_ct_series
from ivcviewer.io import open_path
from ivcviewer.volume import Volume

#: The CT's voxel -> LPS affine: slices along z (2.5 mm), 0.8 mm pixels, rows along y.
SMALL_AFFINE = np.array(
    [[0, 0, 0.8, -30.0], [0, 0.8, 0, -20.0], [2.5, 0, 0, -10.0], [0, 0, 0, 1.0]]
)

#: Names of the two regions of the label map.
REGION_NAMES = {1: "mass", 2: "intravascular_tumour"}


@dataclass(frozen=True)
class SmallCT:
    """The CT's files, the CT read back from them and its label map on the same grid."""

    files: list[Path]
    ct: Volume
    labels: Volume


def write_small_ct(folder: Path, *, seed: int, uid_seed: str, mass_contrast: int = 0) -> SmallCT:
    """Write a 10 x 40 x 40 noisy CT (40 +- 10 HU, random ``seed``) to ``folder`` and read it back.

    ``mass_contrast`` HU are added inside the mass, so that its mean differs from the rest.
    """
    rng = np.random.default_rng(seed)
    hu = rng.normal(40, 10, (10, 40, 40)).round().astype(np.int16)
    lab = np.zeros(hu.shape, np.uint8)
    lab[2:7, 5:20, 8:30] = 1
    lab[3:5, 25:35, 10:20] = 2
    hu[lab == 1] += mass_contrast
    files = write_ct_series(Volume(hu, SMALL_AFFINE), folder, uid_seed=uid_seed)
    (ct,) = open_path(folder)
    return SmallCT(list(files), ct, ct.with_array(lab))
