"""The findings of a fitted overlay as rows, and the one renderer of those rows.

:func:`findings_rows` turns an :class:`~ivcviewer.annotations.overlay.OverlayResult` into plain
rows (one :class:`FindingRow` per finding, an :class:`InvolvementRow` for the IVC level);
:func:`render_markdown` (``findings.md``), :func:`render_html` (the Case overlay widget) and
:func:`render_terminal` (the ``overlay`` command) format the same rows with the same words, so
the three never drift apart.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from ..annotations.overlay import FindingResult, OverlayResult

#: Patient axes in the order the tables list them.
AXES: tuple[tuple[str, str], ...] = (
    ("lr", "left-right"),
    ("ap", "antero-posterior"),
    ("cc", "cranio-caudal"),
)

#: Key of the overview entry (every finding) for :func:`render_html`.
ALL_FINDINGS = "__all__"

#: How a rule's status reads in the findings report and the widget.
STATUS_WORDS: dict[str, str] = {
    "satisfied": "satisfied",
    "violated": "not satisfied",
    "not_checked": "not checked",
}

#: Clipping steps that changed an extent by more than this are listed in the widget (mm).
CLIP_SHOWN_MM = 0.5


def cm(v: float | None, signed: bool = False) -> str:
    """Millimetres as centimetres with 2 decimals (``-`` for None).

    >>> cm(105.0), cm(-3.0, signed=True), cm(None)
    ('10.50', '-0.30', '-')
    """
    if v is None:
        return "-"
    return f"{v / 10.0:+.2f}" if signed else f"{v / 10.0:.2f}"


@dataclass(frozen=True)
class AxisRow:
    """One patient axis of a finding: reported, measured, difference (mm), within a voxel."""

    axis: str
    axis_name: str
    reported_mm: float | None
    measured_mm: float | None
    difference_mm: float | None
    within_one_voxel: bool | None


@dataclass(frozen=True)
class FindingRow:
    """What the tables say about one drawn finding."""

    id: str
    name: str
    kind: str
    label_value: int | None
    colour: str | None
    description: str
    method: str
    assumption: str
    axes: tuple[AxisRow, ...]
    volume_ml: float
    n_voxels: int
    size_text: str
    order_free_text: str
    axes_assumed_text: str
    z_span_text: str
    clipping: tuple[str, ...]
    clipping_shown: tuple[str, ...]
    rules: tuple[tuple[str, str, str, str], ...]
    warnings: tuple[str, ...]
    carries_level: bool
    occupancy_text: str = ""


@dataclass(frozen=True)
class InvolvementRow:
    """The IVC level: one headline and its detail lines (empty when not computed)."""

    headline: str
    details: tuple[str, ...]
    computed: bool


@dataclass(frozen=True)
class FindingsRows:
    """Everything the findings tables show."""

    title: str
    case_id: str
    source: str
    source_note: str
    grid_text: str
    anatomy_text: str
    involvement: InvolvementRow
    findings: tuple[FindingRow, ...]
    not_drawn: tuple[tuple[str, str], ...]
    landmarks: tuple[tuple[str, float, float, float, str], ...]
    centreline_text: str
    warnings: tuple[str, ...]


def _size_text(r: FindingResult) -> str:
    ext = r.extents_mm
    if ext is None:
        return "not drawn on this CT"
    return " x ".join(f"{ext[a] / 10.0:.1f}" for a, _ in AXES) + (
        f" cm (lr x ap x cc), {r.volume_ml:.0f} mL"
    )


def _order_free_text(r: FindingResult) -> str:
    rep = r.reported_extents_mm
    if rep is None or r.extents_mm is None:
        return ""
    srt = sorted(r.extents_mm.values(), reverse=True)[: len(rep)]
    return (
        "In any order (sorted): reported "
        + " x ".join(cm(v) for v in r.finding.reported_extents_sorted_mm())
        + " cm, measured "
        + " x ".join(cm(v) for v in srt)
        + " cm."
    )


def _clip_text(r: FindingResult) -> tuple[str, ...]:
    out = []
    for c in r.clipping:
        n = (
            "the part outside is not drawn"
            if c.voxels_removed is None
            else f"{c.voxels_removed} voxels"
        )
        ml = "" if c.volume_removed_ml is None else f", {c.volume_removed_ml:.1f} mL"
        ch = c.extent_changes_mm()
        changes = ", ".join(f"{a} {v / 10.0:+.2f} cm" for a, v in ch.items() if abs(v) > 1e-6)
        tail = f"; extents changed: {changes}" if changes else ""
        out.append(f"{c.reason}: {c.description} ({n}{ml}){tail}")
    return tuple(out)


def _occupancy_text(r: FindingResult) -> str:
    if r.n_voxels == 0:
        return ""
    if r.occupancy is None:
        return "Occupancy by structure: unknown (the anatomy is not a label map)."
    return (
        "Occupancy by structure: "
        + ", ".join(f"{o.structure} {o.share:.1%} ({o.voxels} voxels)" for o in r.occupancy)
        + "."
    )


def finding_row(result: OverlayResult, r: FindingResult) -> FindingRow:
    """The row of one finding of ``result``."""
    f = r.finding
    rep = r.reported_extents_mm
    diff = r.differences_mm() or {}
    one = r.within_one_voxel() or {}
    axes = tuple(
        AxisRow(
            a,
            name,
            None if rep is None else rep.get(a),
            None if r.extents_mm is None else r.extents_mm.get(a),
            diff.get(a),
            one.get(a),
        )
        for a, name in AXES
    )
    assumed = ""
    if rep is not None and r.extents_mm is not None and f.extents_assumed():
        notes = " ".join(m.note for m in f.measurements if m.assumed or m.sorted_triple)
        assumed = (
            "The axis assignment of the reported figures is an assumption of the case file."
            + (f" {notes}" if notes else "")
        )
    elif rep is None:
        assumed = "The case file gives no figures for this finding."
    z = r.z_span_lps
    return FindingRow(
        id=r.id,
        name=f.name,
        kind=str(f.kind),
        label_value=r.label_value,
        colour=f.colour,
        description=f.description,
        method=r.fit.method,
        assumption=f.relations.note or "",
        axes=axes,
        volume_ml=r.volume_ml,
        n_voxels=r.n_voxels,
        size_text=_size_text(r),
        order_free_text=_order_free_text(r),
        axes_assumed_text=assumed,
        z_span_text=""
        if z is None
        else f"Drawn from z = {z[0]:.1f} to {z[1]:.1f} mm (LPS, voxel centres).",
        clipping=_clip_text(r),
        clipping_shown=tuple(
            f"{c.reason}: {c.description}" for c in r.clipping_changed_extents(CLIP_SHOWN_MM)
        ),
        rules=tuple(
            (str(c.rule), c.structure, STATUS_WORDS.get(str(c.status), str(c.status)), c.detail)
            for c in r.rules
        ),
        warnings=tuple(r.warnings),
        carries_level=result.involvement is not None and result.involvement_finding == r.id,
        occupancy_text=_occupancy_text(r),
    )


def involvement_row(result: OverlayResult) -> InvolvementRow:
    """The IVC level computed, what the case file expects, and how the level was read."""
    lv = result.involvement
    exp = result.expected_involvement
    if lv is None:
        reason = result.involvement_missing or "no finding inside the IVC"
        return InvolvementRow(f"IVC involvement: not computed ({reason}).", (), False)
    bound = " or higher" if lv.lower_bound else ""
    head = f"IVC involvement: Mayo {lv.mayo_level}{bound}, segment {lv.ivc_segment}"
    if exp is not None:
        ok = result.involvement_matches() or {}
        mark = "matches" if ok and all(ok.values()) else "differs"
        assumed = ", assumed" if result.expected_involvement_assumed else ""
        head += (
            f" (case file{assumed}: Mayo {exp.mayo_level or '-'}, segment "
            f"{exp.ivc_segment or '-'}; {mark})"
        )
    details = (
        f"Tumour from z = {lv.bottom_z_mm:.1f} to {lv.top_z_mm:.1f} mm, its top "
        f"{lv.top_above_renal_mm:.1f} mm above the renal-vein confluence.",
        f"Strict reading of the Mayo wording: {lv.mayo_level_strict}.",
        *lv.notes,
    )
    return InvolvementRow(head + ".", tuple(details), True)


def findings_rows(result: OverlayResult) -> FindingsRows:
    """All the rows of ``result``."""
    c = result.case
    lm = result.landmarks
    prov = lm.provenance
    landmarks = tuple(
        (p.name, *p.position_lps, "truncated (a bound)" if p.truncated else "")
        for p in result.points
        if p.finding_id is None
    )
    centreline = ""
    if lm.centreline_lps is not None and lm.centreline_radius_mm is not None:
        centreline = (
            f"IVC centreline: {len(lm.centreline_lps)} points from z = "
            f"{lm.centreline_lps[0, 2]:.1f} to {lm.centreline_lps[-1, 2]:.1f} mm, radius "
            f"{lm.centreline_radius_mm.min():.1f}-{lm.centreline_radius_mm.max():.1f} mm."
        )
    return FindingsRows(
        title=c.case.title,
        case_id=c.case.id,
        source=c.source_text,
        source_note=c.case.source_note,
        grid_text=(
            f"CT grid: {' x '.join(str(n) for n in result.labels.shape)} voxels (slice, row, "
            f"col), spacing {', '.join(f'{s:.3g}' for s in result.labels.spacing)} mm."
        ),
        anatomy_text=f"Anatomy: {prov.source}"
        + (f" ({prov.description})" if prov.description else "")
        + ".",
        involvement=involvement_row(result),
        findings=tuple(finding_row(result, r) for r in result.findings),
        not_drawn=tuple((f.name, f.description) for f in c.findings if not f.spatial),
        landmarks=landmarks,
        centreline_text=centreline,
        warnings=tuple(list(result.warnings) + list(prov.warnings)),
    )


# ------------------------------------------------------------------------------ Markdown


def _md_finding(f: FindingRow) -> list[str]:
    out = [f"## {f.name}", ""]
    out.append(f"- id `{f.id}`, kind {f.kind}, label value {f.label_value}, colour `{f.colour}`")
    out.append(f"- {f.description}")
    out.append(f"- placed by: {f.method}")
    if f.assumption:
        out.append(f"- assumption: {f.assumption}")
    out.append("")
    out.append("| axis | reported (cm) | measured (cm) | difference (cm) | within one voxel |")
    out.append("|---|---|---|---|---|")
    for a in f.axes:
        ok = "-" if a.within_one_voxel is None else ("yes" if a.within_one_voxel else "no")
        out.append(
            f"| {a.axis_name} | {cm(a.reported_mm)} | {cm(a.measured_mm)} | "
            f"{cm(a.difference_mm, True)} | {ok} |"
        )
    out.append("")
    out.append(f"Volume: {f.volume_ml:.1f} mL ({f.n_voxels} voxels).")
    out += [t for t in (f.order_free_text, f.axes_assumed_text, f.z_span_text) if t]
    out.append("")
    if f.occupancy_text:
        out += [f.occupancy_text, ""]
    if f.clipping:
        out += ["Clipping:", ""] + [f"- {c}" for c in f.clipping] + [""]
    if f.rules:
        out.append("| rule | structure | holds | detail |")
        out.append("|---|---|---|---|")
        out += [f"| {r} | {s} | {st} | {d} |" for r, s, st, d in f.rules]
        out.append("")
    if f.warnings:
        out += ["Warnings:", ""] + [f"- {w}" for w in f.warnings] + [""]
    return out


def render_markdown(result: OverlayResult) -> str:
    """The findings as Markdown (``findings.md``)."""
    rows = findings_rows(result)
    out = [
        f"# {rows.title}",
        "",
        f"Findings of case `{rows.case_id}` placed on this CT by ivcviewer. Source: {rows.source}",
        "",
        rows.source_note,
        "",
        f"{rows.grid_text} {rows.anatomy_text}",
        "",
    ]
    if rows.involvement.computed or result.involvement_missing:
        out += ["## IVC involvement", "", f"- {rows.involvement.headline}"]
        out += [f"- {d}" for d in rows.involvement.details] + [""]
    for f in rows.findings:
        out += _md_finding(f)
    if rows.not_drawn:
        out += ["## Not drawn", ""] + [f"- {n}: {d}" for n, d in rows.not_drawn] + [""]
    out += ["## Landmarks (LPS mm)", "", "| landmark | x | y | z | note |", "|---|---|---|---|---|"]
    out += [f"| {n} | {x:.1f} | {y:.1f} | {z:.1f} | {t} |" for n, x, y, z, t in rows.landmarks]
    if rows.centreline_text:
        out += ["", rows.centreline_text]
    if rows.warnings:
        out += ["", "## Warnings", ""] + [f"- {w}" for w in rows.warnings]
    out.append("")
    return "\n".join(out)


# ------------------------------------------------------------------------------ HTML


def _e(text: object) -> str:
    return html.escape(str(text))


def _html_list(title: str, items: tuple[str, ...] | list[str]) -> list[str]:
    if not items:
        return []
    return [f"<p>{_e(title)}</p><ul>"] + [f"<li>{_e(i)}</li>" for i in items] + ["</ul>"]


def _html_involvement(inv: InvolvementRow) -> list[str]:
    if not inv.computed:
        return [f"<p>{_e(inv.headline)}</p>"]
    return (
        [f"<p><b>{_e(inv.headline)}</b></p>", "<ul>"]
        + [f"<li>{_e(d)}</li>" for d in inv.details]
        + ["</ul>"]
    )


def _html_figures(f: FindingRow) -> list[str]:
    rows = [
        "<table border='1' cellspacing='0' cellpadding='3'>",
        "<tr><th>axis</th><th>reported (cm)</th><th>measured (cm)</th>"
        "<th>difference (cm)</th><th>within one voxel</th></tr>",
    ]
    for a in f.axes:
        ok = "-" if a.within_one_voxel is None else ("yes" if a.within_one_voxel else "<b>no</b>")
        rows.append(
            f"<tr><td>{a.axis_name}</td><td align='right'>{cm(a.reported_mm)}</td>"
            f"<td align='right'>{cm(a.measured_mm)}</td>"
            f"<td align='right'>{cm(a.difference_mm, True)}</td>"
            f"<td align='center'>{ok}</td></tr>"
        )
    rows.append("</table>")
    extra = [f"Volume: {f.volume_ml:.1f} mL ({f.n_voxels} voxels)."]
    extra += [
        t for t in (f.order_free_text, f.axes_assumed_text, f.z_span_text, f.occupancy_text) if t
    ]
    return rows + ["<p>" + "<br>".join(_e(t) for t in extra) + "</p>"]


def _html_overview(rows: FindingsRows) -> str:
    parts = [f"<h3>{_e(rows.title)}</h3>", f"<p>{_e(rows.source)}</p>"]
    parts.append(f"<p><i>{_e(rows.source_note)}</i></p>")
    parts += _html_involvement(rows.involvement)
    parts += _html_list("Drawn:", [f"{f.name}: {f.size_text}" for f in rows.findings])
    parts.append(f"<p>{_e(rows.anatomy_text)}</p>")
    parts += _html_list("Warnings:", rows.warnings)
    return "\n".join(parts)


def _html_finding(rows: FindingsRows, f: FindingRow) -> str:
    parts = [f"<h3>{_e(f.name)}</h3>", f"<p>{_e(f.description)}</p>"]
    parts += _html_figures(f)
    if f.carries_level:
        parts += _html_involvement(rows.involvement)
    parts.append(f"<p>Placed by: {_e(f.method)}.</p>")
    if f.assumption:
        parts.append(f"<p>Assumption: {_e(f.assumption)}</p>")
    parts += _html_list("Rules:", [f"{r} {s}: {st} ({d})" for r, s, st, d in f.rules])
    parts += _html_list("Clipping that changed its extents:", f.clipping_shown)
    parts += _html_list("Warnings:", f.warnings)
    return "\n".join(parts)


def render_html(result: OverlayResult, key: str = ALL_FINDINGS) -> str:
    """The overview (``key`` :data:`ALL_FINDINGS`) or one finding's details, as HTML."""
    rows = findings_rows(result)
    if key == ALL_FINDINGS:
        return _html_overview(rows)
    for f in rows.findings:
        if f.id == key:
            return _html_finding(rows, f)
    case = result.case
    for p in result.points:
        if p.finding_id == key:
            x, y, z = p.position_lps
            return (
                f"<h3>{_e(p.name)}</h3><p>{_e(p.description)}</p>"
                f"<p>At the landmark {_e(case.landmark_spec(p.landmark).name)}: "
                f"x {x:.1f}, y {y:.1f}, z {z:.1f} mm (LPS).</p>"
            )
    other = case.finding(key)
    return (
        f"<h3>{_e(other.name)}</h3><p>{_e(other.description)}</p>"
        "<p>Not a place on this CT: listed, not drawn.</p>"
    )


# ------------------------------------------------------------------------------ terminal


def render_terminal(result: OverlayResult, wrote: list[str] | None = None) -> str:
    """The ``overlay`` command's summary: one line per finding, the IVC level, the files."""
    rows = findings_rows(result)
    lines = []
    for f in rows.findings:
        lines.append(f"{f.id}: {f.size_text}")
        lines += [f"  {t}" for t in (f.occupancy_text,) if t]
    lines.append(rows.involvement.headline)
    if wrote:
        lines.append(f"wrote {', '.join(wrote)}")
    return "\n".join(lines) + "\n"
