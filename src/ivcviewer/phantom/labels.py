"""The phantom's label table: value, name, colour and documented HU range of every structure.

Names follow TotalSegmentator's class names where one exists (``liver``,
``inferior_vena_cava``, ``iliopsoas_right``, ``vertebrae_L1``, ...), so that code deriving
landmarks from a TotalSegmentator label map works on the phantom's truth unchanged. The two
findings take the names, values and colours of the case file (``mass`` = 1,
``intravascular_tumour`` = 2 in the default case).

``hu_range`` is the range the mean attenuation of the structure lies in on the generated CT
(portal-venous phase), measured inside the structure away from its edges; the tests check every
one of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .case_specs import finding_label_specs

#: Vertebrae in the field of view, head to feet.
VERTEBRAE: tuple[str, ...] = (
    "T7", "T8", "T9", "T10", "T11", "T12", "L1", "L2", "L3", "L4", "L5",
)  # fmt: skip

#: Ribs drawn (both sides): 7-12 (values 44-55), then 5-6 (values 91-94, added later).
RIBS: tuple[int, ...] = (7, 8, 9, 10, 11, 12)
UPPER_RIBS: tuple[int, ...] = (5, 6)


@dataclass(frozen=True)
class LabelInfo:
    """One entry of the phantom's label table.

    Attributes
    ----------
    value
        Label value in the label map (1-255).
    name
        Structure name (TotalSegmentator class name where there is one).
    colour
        Display colour ``(r, g, b)``, 0-255.
    hu_range
        ``(low, high)``: where the structure's mean HU lies (None for structures too mixed or
        too thin to have one, such as ribs at 4 mm voxels).
    description
        What the label covers.
    """

    value: int
    name: str
    colour: tuple[int, int, int]
    hu_range: tuple[float, float] | None
    description: str

    @property
    def rgba(self) -> tuple[float, float, float, float]:
        """The colour as floats 0..1 with full opacity."""
        r, g, b = self.colour
        return (round(r / 255, 4), round(g / 255, 4), round(b / 255, 4), 1.0)


def _hex(c: str) -> tuple[int, int, int]:
    c = c.lstrip("#")
    return (int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16))


#: Anatomy entries: name -> (value, colour, HU range, description). Findings come from the case.
_ANATOMY: list[tuple[int, str, str, tuple[float, float] | None, str]] = [
    (10, "skin", "#f0c8a0", (0.0, 80.0), "skin (outer 3 mm of the body)"),
    (11, "subcutaneous_fat", "#f5e6a0", (-120.0, -80.0), "subcutaneous fat"),
    (
        12,
        "abdominal_wall_muscle",
        "#c86450",
        (40.0, 60.0),
        "muscles of the abdominal and lower thoracic wall (rectus, obliques, intercostals)",
    ),
    (
        13,
        "torso_fat",
        "#e6d278",
        (-120.0, -70.0),
        "intra-abdominal, retroperitoneal and mediastinal fat",
    ),
    (14, "autochthon_left", "#b45a46", (40.0, 60.0), "erector spinae, left"),
    (15, "autochthon_right", "#b45a46", (40.0, 60.0), "erector spinae, right"),
    (16, "quadratus_lumborum_left", "#be6e5a", (40.0, 60.0), "quadratus lumborum, left"),
    (17, "quadratus_lumborum_right", "#be6e5a", (40.0, 60.0), "quadratus lumborum, right"),
    (18, "iliopsoas_left", "#d2785f", (40.0, 60.0), "psoas major (and iliacus), left"),
    (19, "iliopsoas_right", "#d2785f", (40.0, 60.0), "psoas major (and iliacus), right"),
    (20, "gluteus_medius_left", "#aa5a4b", (40.0, 60.0), "gluteus medius, left"),
    (21, "gluteus_medius_right", "#aa5a4b", (40.0, 60.0), "gluteus medius, right"),
    (22, "diaphragm", "#c8785a", (40.0, 60.0), "diaphragm and its crura"),
    *[
        (
            30 + i,
            f"vertebrae_{v}",
            "#f1d691",
            (200.0, 600.0),
            f"vertebra {v}: body (cortical rim, cancellous core) and posterior elements",
        )
        for i, v in enumerate(VERTEBRAE)
    ],
    (41, "sacrum", "#e6c882", (200.0, 600.0), "sacrum (S1)"),
    (42, "intervertebral_discs", "#96c8dc", (60.0, 110.0), "intervertebral discs"),
    (43, "spinal_canal", "#a0b4ff", (0.0, 30.0), "spinal canal contents (CSF, cord, cauda equina)"),
    *[
        (44 + 2 * i + j, f"rib_{side}_{r}", "#fae1b4", (300.0, 800.0), f"rib {r}, {side}")
        for i, r in enumerate(RIBS)
        for j, side in enumerate(("left", "right"))
    ],
    (56, "costal_cartilages", "#c8dcbe", (80.0, 220.0), "costal cartilages"),
    (57, "hip_left", "#f0d28c", (300.0, 800.0), "ilium (iliac wing), left"),
    (58, "hip_right", "#f0d28c", (300.0, 800.0), "ilium (iliac wing), right"),
    (60, "lung_left", "#c8e6ff", (-900.0, -800.0), "lung base, left"),
    (61, "lung_right", "#c8e6ff", (-900.0, -800.0), "lung base, right"),
    (62, "heart", "#c83c3c", (100.0, 180.0), "heart (ventricles and myocardium)"),
    (63, "heart_atrium_right", "#e65a5a", (120.0, 180.0), "right atrium"),
    (64, "liver", "#dd8265", (100.0, 120.0), "liver"),
    (65, "spleen", "#9d6ca2", (100.0, 130.0), "spleen"),
    (66, "gallbladder", "#8cb45a", (0.0, 25.0), "gallbladder (bile)"),
    (67, "pancreas", "#f0b478", (80.0, 120.0), "pancreas"),
    (68, "stomach", "#dcaa8c", (0.0, 60.0), "stomach (wall and fluid content)"),
    (69, "esophagus", "#d2a082", (20.0, 70.0), "oesophagus"),
    (
        70,
        "small_bowel",
        "#f0a0aa",
        (80.0, 200.0),
        "small bowel (enhancing wall, lumen with positive oral contrast)",
    ),
    (71, "colon", "#c88c78", (-80.0, 60.0), "colon (wall and faecal content)"),
    (72, "bowel_gas", "#404040", (-1024.0, -950.0), "gas in the stomach and bowel"),
    (73, "kidney_left", "#b96653", (150.0, 200.0), "left kidney parenchyma (nephrographic)"),
    (74, "kidney_right", "#b96653", (150.0, 200.0), "right kidney parenchyma (nephrographic)"),
    (75, "renal_sinus_left", "#e6d2a0", (-110.0, 0.0), "left renal sinus (fat, pelvis)"),
    (76, "renal_sinus_right", "#e6d2a0", (-110.0, 0.0), "right renal sinus (fat, pelvis)"),
    (80, "aorta", "#e0614c", (150.0, 200.0), "aorta"),
    (81, "iliac_artery_left", "#e0614c", (150.0, 200.0), "common iliac artery, left"),
    (82, "iliac_artery_right", "#e0614c", (150.0, 200.0), "common iliac artery, right"),
    (
        83,
        "aortic_branches",
        "#f07864",
        (150.0, 200.0),
        "coeliac trunk, superior mesenteric and renal arteries",
    ),
    (
        84,
        "inferior_vena_cava",
        "#0097ce",
        (120.0, 150.0),
        "inferior vena cava lumen (HU range above the renal veins)",
    ),
    (85, "iliac_vena_left", "#0082b4", (90.0, 130.0), "common iliac vein, left"),
    (86, "iliac_vena_right", "#0082b4", (90.0, 130.0), "common iliac vein, right"),
    (87, "renal_vein_left", "#3caadc", (120.0, 180.0), "left renal vein"),
    (88, "renal_vein_right", "#3caadc", (120.0, 180.0), "right renal vein"),
    (89, "hepatic_veins", "#46b4e6", (120.0, 170.0), "right, middle and left hepatic veins"),
    (
        90,
        "portal_vein_and_splenic_vein",
        "#00699d",
        (150.0, 200.0),
        "portal, splenic and superior mesenteric veins",
    ),
    *[
        (91 + 2 * i + j, f"rib_{side}_{r}", "#fae1b4", (300.0, 800.0), f"rib {r}, {side}")
        for i, r in enumerate(UPPER_RIBS)
        for j, side in enumerate(("left", "right"))
    ],
]


def anatomy_labels() -> list[LabelInfo]:
    """The anatomy entries of the label table (without the findings)."""
    return [LabelInfo(v, n, _hex(c), r, d) for v, n, c, r, d in _ANATOMY]


def finding_labels() -> list[LabelInfo]:
    """The finding entries (``mass``, ``intravascular_tumour``) with the case file's values and
    colours."""
    out = []
    for fid, (value, colour) in finding_label_specs().items():
        rng, desc = FINDING_HU[fid]
        out.append(LabelInfo(value, fid, colour, rng, desc))
    return out


#: HU range and description of the finding labels.
FINDING_HU: dict[str, tuple[tuple[float, float], str]] = {
    "mass": (
        (20.0, 70.0),
        "retroperitoneal leiomyosarcoma: enhancing rim, solid tumour, necrotic areas",
    ),
    "intravascular_tumour": (
        (30.0, 70.0),
        "tumour inside the IVC lumen (filling defect darker than enhanced blood)",
    ),
}

#: HU ranges of sub-regions recorded by the phantom (parts that share a label).
REGION_HU: dict[str, tuple[float, float]] = {
    "vertebral_cortex": (700.0, 1400.0),
    "vertebral_cancellous": (200.0, 300.0),
    "posterior_elements": (350.0, 900.0),
    "mass_rim": (60.0, 110.0),
    "mass_solid": (30.0, 70.0),
    "mass_necrosis": (10.0, 20.0),
    "ivc_infrarenal": (80.0, 130.0),
}


def label_table(normal: bool = False) -> dict[int, LabelInfo]:
    """Value -> :class:`LabelInfo` of every label of the phantom (findings only when not
    ``normal``).

    >>> t = label_table()
    >>> t[1].name, t[2].name, t[64].name
    ('mass', 'intravascular_tumour', 'liver')
    >>> 1 in label_table(normal=True)
    False
    """
    entries = anatomy_labels() + ([] if normal else finding_labels())
    return {e.value: e for e in sorted(entries, key=lambda e: e.value)}
