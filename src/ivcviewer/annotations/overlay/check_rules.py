"""Stage 6 of :func:`~.pipeline.fit_case`: the case file's rules checked on each region.

Each rule (``touches``, ``overlaps``, ``reaches_into``, ``inside``, ``avoids``,
``mostly_within``, ``within_vessel``) is checked on the region as fitted and clipped, before
overlaps with other findings were resolved: where a mass enters the IVC, the label map shows
the intravascular tumour, yet the mass does reach into the vessel. A rule that does not hold
becomes a warning. A rule that states a share (``mostly_within``, ``within_vessel``,
``inside``, ``avoids`` with ``max_share``) is satisfied only when the measured share meets it,
and its detail gives both figures.

Examples
--------
>>> share_verdict("mostly_within", 0.13, 0.5)
(False, '13.0% of the region lies inside it (needed: at least 50%)')
>>> share_verdict("avoids", 0.04, 0.1)
(True, '4.0% of the region lies inside it (allowed: at most 10%)')
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import ndimage as ndi

from ...errors import CaseFileError
from ..casefile import Rule
from ..rasterise import CroppedMask
from ..vocabulary import RuleStatus
from .anatomy_access import AnatomyAccess
from .results import FindingResult, RuleCheck


def share_verdict(rule_name: str, share: float, threshold: float) -> tuple[bool, str]:
    """Whether a measured share meets a rule's threshold (a floor; a ceiling for ``avoids``),
    and the sentence that says so."""
    if rule_name == "avoids":
        ok = share <= threshold + 1e-12
        return ok, f"{share:.1%} of the region lies inside it (allowed: at most {threshold:.0%})"
    ok = share >= threshold - 1e-12
    return ok, f"{share:.1%} of the region lies inside it (needed: at least {threshold:.0%})"


def check_rule(rule: Rule, region: CroppedMask, anatomy: AnatomyAccess) -> RuleCheck:
    """Whether one rule holds for a region: ``satisfied``, ``violated`` or ``not_checked``
    (the structure is not in the anatomy source), with what was counted.

    A rule with a share (:attr:`Rule.threshold`: what ``inside``, ``mostly_within`` and
    ``within_vessel`` need, what ``avoids`` allows) is checked against it.
    """
    rule_name, structure, margin_mm = str(rule.rule), rule.structure, rule.margin_mm
    threshold = rule.threshold
    src = anatomy.source_of(structure)
    if not src:
        return RuleCheck(
            rule_name,
            structure,
            RuleStatus.NOT_CHECKED,
            f"{structure} is not in the anatomy source (no label map names it)",
        )
    source = "label map" if src == "labels" else "IVC centreline and radius"
    n = region.n_voxels
    if n == 0:
        return RuleCheck(rule_name, structure, RuleStatus.VIOLATED, "the region is empty", source)
    if rule_name == "touches":
        box = region.box.grow(1, anatomy.shape)
        s = anatomy.structure(structure, box, margin_mm)
        grown = ndi.binary_dilation(region.on(box), structure=np.ones((3, 3, 3), bool))
        k = int(np.count_nonzero(grown & s))
        ok = k > 0
        detail = f"{k} voxels of {structure} lie in or next to the region"
    else:
        s = anatomy.structure(structure, region.box, margin_mm)
        k = int(np.count_nonzero(s & region.mask))
        frac = k / n
        if rule_name in ("overlaps", "reaches_into"):
            ok = k > 0
            detail = f"{k} voxels ({frac:.1%} of the region) lie inside {structure}"
        elif rule_name == "inside" and threshold is not None:
            ok = frac >= threshold - 1e-12
            grown = f" grown by {margin_mm:g} mm" if margin_mm else ""
            detail = (
                f"{frac:.1%} of the region lies inside {structure}{grown} (needed: {threshold:.0%})"
            )
        elif rule_name == "avoids" and threshold is None:
            ok = k == 0
            detail = f"{k} voxels of the region lie inside {structure}"
        elif rule_name in ("avoids", "mostly_within", "within_vessel") and threshold is not None:
            ok, said = share_verdict(rule_name, frac, threshold)
            detail = said.replace("inside it", f"inside {structure}")
        else:  # pragma: no cover - the case file admits only the rules above
            raise CaseFileError(f"Unknown rule {rule_name!r}.")
    if margin_mm and rule_name != "inside":
        detail += f" (grown by {margin_mm:g} mm)"
    status = RuleStatus.SATISFIED if ok else RuleStatus.VIOLATED
    return RuleCheck(rule_name, structure, status, detail, source)


def check_rules(
    findings: tuple[FindingResult, ...], anatomy: AnatomyAccess
) -> tuple[FindingResult, ...]:
    """Every drawn finding with its rules checked (and a warning per rule that does not hold).

    A finding of which nothing is drawn keeps no rule checks.
    """
    out = []
    for r in findings:
        if r.n_voxels == 0:
            out.append(r)
            continue
        checked = r.before_overlaps if r.before_overlaps is not None else r.region
        rules = [check_rule(rule, checked, anatomy) for rule in r.finding.relations.rules]
        violated = [
            f"Rule '{chk.rule} {chk.structure}' does not hold: {chk.detail}."
            for chk in rules
            if chk.status == RuleStatus.VIOLATED
        ]
        out.append(dataclasses.replace(r, rules=rules, warnings=[*r.warnings, *violated]))
    return tuple(out)
