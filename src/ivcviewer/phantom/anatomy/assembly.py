"""The normal anatomy assembled: every organ group's structures, grouped by painting stage, and
the shared fields they use."""

from __future__ import annotations

from ..raster import FieldFn, Structure
from .body_wall import (
    FOV,
    body_sd,
    body_wall,
    cavity_sd,
    fat_thickness,
    muscle_sd,
    muscle_thickness,
    radius_field,
    table,
)
from .diaphragm import diaphragm_field, diaphragm_norm
from .gut import gut
from .mass_effect import anatomy_params
from .muscles import back_muscles, psoas, psoas_rows
from .pelvis import pelvis
from .ribs import ribs
from .shapes import Extrusion
from .solid_organs import kidneys, liver_spleen, pancreas_gb
from .spine import spine
from .thorax import thorax
from .vessels import arteries, veins


def shared_fields() -> dict[str, FieldFn]:
    """Fields shared by several structures (computed once per slab): the body outline and its
    layers, the diaphragm surface."""
    return {
        "radius": radius_field,
        "fat_t": fat_thickness,
        "muscle_t": muscle_thickness,
        "body_sd": body_sd,
        "muscle_sd": muscle_sd,
        "cavity_sd": cavity_sd,
        "diaphragm": diaphragm_field,
        "diaphragm_n": diaphragm_norm,
    }


class Anatomy:
    """The structures of the normal anatomy (optionally with the case's mass effect).

    Attributes
    ----------
    case
        With the case's mass effect (:mod:`.mass_effect`).
    p
        The geometry the mass effect changes (:class:`~.mass_effect.AnatomyParams`).
    ivc
        The IVC's course and section along z.

    Examples
    --------
    >>> groups = Anatomy(case=True).structures()
    >>> list(groups)
    ['wall', 'thorax', 'viscera', 'retroperitoneum', 'spine', 'vessels']
    >>> groups["vessels"][-1].key
    'hepatic_vein_2'
    """

    #: A box holding the whole field of view (mm).
    FOV = FOV

    def __init__(self, case: bool = False) -> None:
        self.case = case
        self.p = anatomy_params(case)
        self.ivc = Extrusion(self.p.ivc_rows, smooth=True)

    @staticmethod
    def fields() -> dict[str, FieldFn]:
        """Fields shared by several structures (computed once per slab)."""
        return shared_fields()

    @staticmethod
    def psoas_rows(side: float) -> tuple[tuple[float, float, float, float, float], ...]:
        """Control rows ``(z, x, y, a, b)`` of a psoas (:func:`~.muscles.psoas_rows`)."""
        return psoas_rows(side)

    def structures(self) -> dict[str, list[Structure]]:
        """Structures grouped by painting stage (the findings are inserted between stages)."""
        return {
            "wall": table() + body_wall(),
            "thorax": thorax(),
            "viscera": liver_spleen() + gut() + pancreas_gb(),
            "retroperitoneum": back_muscles() + ribs() + pelvis() + kidneys(self.p) + psoas(),
            "spine": spine(),
            "vessels": arteries(self.p, self.ivc, self.case) + veins(self.p, self.ivc, self.case),
        }
