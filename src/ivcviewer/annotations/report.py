"""The readable report of a fitted overlay (``findings.md``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .overlay import FindingResult, OverlayResult

_AXES = (("lr", "left-right"), ("ap", "antero-posterior"), ("cc", "cranio-caudal"))


def _cm(v: float | None) -> str:
    return "-" if v is None else f"{v / 10.0:.2f}"


def _signed_cm(v: float | None) -> str:
    return "-" if v is None else f"{v / 10.0:+.2f}"


def _finding_section(r: FindingResult) -> list[str]:
    f = r.finding
    out = [f"## {f.name}", ""]
    out.append(f"- id `{f.id}`, kind {f.kind}, label value {r.label_value}, colour `{f.colour}`")
    out.append(f"- {f.description}")
    out.append(f"- placed by: {r.fit.method}")
    out.append("")
    rep = r.reported_extents_mm
    diff = r.differences_mm() or {}
    one = r.within_one_voxel() or {}
    out.append("| axis | reported (cm) | measured (cm) | difference (cm) | within one voxel |")
    out.append("|---|---|---|---|---|")
    for a, name in _AXES:
        meas = None if r.extents_mm is None else r.extents_mm.get(a)
        rv = None if rep is None else rep.get(a)
        ok = "-" if a not in one else ("yes" if one[a] else "no")
        out.append(f"| {name} | {_cm(rv)} | {_cm(meas)} | {_signed_cm(diff.get(a))} | {ok} |")
    out.append("")
    out.append(f"Volume: {r.volume_ml:.1f} mL ({r.n_voxels} voxels).")
    if rep is not None and r.extents_mm is not None:
        srt = sorted(r.extents_mm.values(), reverse=True)[: len(rep)]
        out.append(
            "Order-free (sorted) comparison: reported "
            + " x ".join(_cm(v) for v in f.reported_extents_sorted_mm())
            + " cm, measured "
            + " x ".join(_cm(v) for v in srt)
            + " cm."
        )
        if f.extents_assumed():
            out.append(
                "The axis assignment of the reported figures is an assumption of the case file."
            )
    if r.z_span_lps is not None:
        out.append(
            f"Drawn from z = {r.z_span_lps[0]:.1f} to {r.z_span_lps[1]:.1f} mm "
            "(LPS, voxel centres)."
        )
    out.append("")
    if r.clipping:
        out.append("Clipping:")
        out.append("")
        for c in r.clipping:
            n = "" if c.voxels_removed is None else f"{c.voxels_removed} voxels"
            ml = "" if c.volume_removed_ml is None else f", {c.volume_removed_ml:.1f} mL"
            ch = c.extent_changes_mm()
            changes = ", ".join(f"{a} {v / 10.0:+.2f} cm" for a, v in ch.items() if abs(v) > 1e-6)
            tail = f"; extents changed: {changes}" if changes else ""
            out.append(f"- {c.reason}: {c.description} ({n}{ml}){tail}")
        out.append("")
    if r.rules:
        out.append("| rule | structure | holds | detail |")
        out.append("|---|---|---|---|")
        for chk in r.rules:
            out.append(f"| {chk.rule} | {chk.structure} | {chk.status} | {chk.detail} |")
        out.append("")
    if r.warnings:
        out.append("Warnings:")
        out.append("")
        out += [f"- {w}" for w in r.warnings]
        out.append("")
    return out


def overlay_markdown(result: OverlayResult) -> str:
    """The report as Markdown."""
    c = result.case
    lm = result.landmarks
    out = [
        f"# {c.case.title}",
        "",
        f"Findings of case `{c.case.id}` placed on this CT by ivcviewer. Source: "
        f"{c.case.citation.text} doi:{c.case.citation.doi}",
        "",
        c.case.source_note,
        "",
        f"CT grid: {' x '.join(str(n) for n in result.labels.shape)} voxels (slice, row, col), "
        f"spacing {', '.join(f'{s:.3g}' for s in result.labels.spacing)} mm. Anatomy: "
        f"{lm.provenance.source}"
        + (f" ({lm.provenance.description})" if lm.provenance.description else "")
        + ".",
        "",
    ]
    lv = result.involvement
    if lv is not None:
        exp = result.expected_involvement
        match = result.involvement_matches() or {}
        out += ["## IVC involvement", ""]
        bound = " (lower bound)" if lv.lower_bound else ""
        out.append(
            f"- Mayo level **{lv.mayo_level}**{bound} (strict reading of the Mayo wording: "
            f"{lv.mayo_level_strict}); IVC segment **{lv.ivc_segment}**."
        )
        out.append(
            f"- Tumour from z = {lv.bottom_z_mm:.1f} to {lv.top_z_mm:.1f} mm, its top "
            f"{lv.top_above_renal_mm:.1f} mm above the renal-vein confluence."
        )
        if exp is not None:
            out.append(
                f"- Expected by the case file: Mayo {exp.mayo_level or '-'}, segment "
                f"{exp.ivc_segment or '-'}; "
                + ", ".join(f"{k} {'matches' if v else 'differs'}" for k, v in match.items())
                + "."
            )
        out += [f"- {n}" for n in lv.notes]
        out.append("")
    elif result.involvement_missing:
        out += ["## IVC involvement", "", f"- Not computed: {result.involvement_missing}", ""]
    for r in result.findings:
        out += _finding_section(r)
    not_drawn = [f for f in c.findings if not f.spatial]
    if not_drawn:
        out += ["## Not drawn", ""]
        out += [f"- {f.name}: {f.description}" for f in not_drawn]
        out.append("")
    out += ["## Landmarks (LPS mm)", ""]
    out.append("| landmark | x | y | z | note |")
    out.append("|---|---|---|---|---|")
    for p in result.points:
        if p.finding_id is not None:
            continue
        note = "truncated (a bound)" if p.truncated else ""
        x, y, z = p.position_lps
        out.append(f"| {p.name} | {x:.1f} | {y:.1f} | {z:.1f} | {note} |")
    if lm.centreline_lps is not None and lm.centreline_radius_mm is not None:
        out.append("")
        out.append(
            f"IVC centreline: {len(lm.centreline_lps)} points from z = "
            f"{lm.centreline_lps[0, 2]:.1f} to {lm.centreline_lps[-1, 2]:.1f} mm, radius "
            f"{lm.centreline_radius_mm.min():.1f}-{lm.centreline_radius_mm.max():.1f} mm."
        )
    warn = list(result.warnings) + list(lm.provenance.warnings)
    if warn:
        out += ["", "## Warnings", ""]
        out += [f"- {w}" for w in warn]
    out.append("")
    return "\n".join(out)
