"""Case-file text: the commented template (:func:`case_template`) and a finding appended to a
file with its text and comments kept (:func:`append_finding`).

A finding is added as YAML text after the last entry of the file's ``findings`` list, so
everything the author wrote stays as it was; the new text is validated as a whole case file
before it replaces the old one (atomically: the file is the old one or the new one, never half
of either).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from ..._atomic import write_text
from ..._text import parse_yaml, read_text
from ...errors import CaseFileError
from ..casefile import CaseFile
from ..casefile.problems import case_file_error
from .region import DRAWN_COLOURS

#: The template's file inside this package.
TEMPLATE_FILE = "template.yaml"

#: Endings a case file may have.
CASE_SUFFIXES: tuple[str, ...] = (".yaml", ".yml")

_CASE_FILE = TypeAdapter(CaseFile)


def case_template() -> str:
    """The commented template of a case file (valid: ``ivcviewer case check`` accepts it)."""
    return resources.files(__package__).joinpath(TEMPLATE_FILE).read_text(encoding="utf-8")


def validate_case_text(text: str, path: Path) -> CaseFile:
    """The case file that ``text`` would be at ``path`` (:class:`CaseFileError` if invalid)."""
    doc = parse_yaml(text, path, "case file", CaseFileError)
    try:
        return _CASE_FILE.validate_python(doc, context={"path": path})
    except ValidationError as err:
        raise case_file_error(path, err) from err


class _CaseDumper(yaml.SafeDumper):
    """Writes lists of plain values on one line (``values: [4.0, 4.0, 4.5]``), as case files
    do, and indents lists under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.SequenceNode:
    flat = all(not isinstance(v, (dict, list)) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flat)


_CaseDumper.add_representer(list, _list)


def finding_yaml(finding: Mapping[str, Any], indent: int = 2) -> str:
    """One finding as a block-list item (``- id: ...``) indented by ``indent`` spaces."""
    body = yaml.dump(
        [dict(finding)], Dumper=_CaseDumper, sort_keys=False, allow_unicode=True, width=92
    )
    pad = " " * indent
    return "".join(pad + line if line.strip() else line for line in body.splitlines(True))


def _findings_end(text: str, path: Path) -> tuple[int, int]:
    """``(offset, indent)``: where a new finding's text goes (the start of the line after the
    last finding) and the column of the list's dashes."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    node = None
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if isinstance(key, yaml.ScalarNode) and key.value == "findings":
                node = value
    if not isinstance(node, yaml.SequenceNode) or node.flow_style or not node.value:
        raise CaseFileError(
            f"{path}: findings: must be a block list ('- id: ...' on its own lines) to add a "
            "finding to it. Fix: write the findings as a block list, or start a new case file "
            "with 'ivcviewer case new'."
        )
    first, last = node.value[0], node.value[-1]
    indent = max(first.start_mark.column - 2, 0)
    end = last.end_mark
    if end.index >= len(text):
        return len(text), indent
    return end.index - end.column, indent


def _free_label(case: CaseFile) -> int:
    used = set(case.label_values().values())
    free = [v for v in range(1, 256) if v not in used]
    if not free:
        raise CaseFileError(
            f"{case.path}: every label value 1-255 is taken. Fix: start a new case file."
        )
    return free[0]


def _completed(finding: Mapping[str, Any], case: CaseFile) -> dict[str, Any]:
    """``finding`` refused on an id or label value the case has, given a free label value and
    a colour the case does not use when it has none."""
    out = dict(finding)
    fid = str(out.get("id", ""))
    if any(f.id == fid for f in case.findings):
        raise CaseFileError(
            f"{case.path}: a finding with id {fid!r} is already in the case file. Fix: give "
            "the new finding another id, or remove the old one from the file."
        )
    taken = case.label_values()
    if "label_value" in out and out["label_value"] in taken.values():
        holder = next(k for k, v in taken.items() if v == out["label_value"])
        raise CaseFileError(
            f"{case.path}: label value {out['label_value']} of finding {fid!r} is already that "
            f"of {holder!r}. Fix: give another label value, or leave it out to take a free one."
        )
    if "label_value" not in out:
        out = _insert_after(out, "colour", "label_value", _free_label(case))
    used = {f.colour for f in case.findings if f.colour}
    if out.get("colour") in used:
        fresh = [c for c in DRAWN_COLOURS if c not in used]
        if fresh:
            out["colour"] = fresh[0]
    return out


def _insert_after(d: dict[str, Any], after: str, key: str, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        out[k] = v
        if k == after:
            out[key] = value
    out.setdefault(key, value)
    return out


def append_finding(
    case_path: str | Path, finding: Mapping[str, Any], *, out: str | Path | None = None
) -> Path:
    """Add a finding to a case file, keeping its text and comments; returns the file written.

    See :func:`add_finding` (which also returns the entry as written).
    """
    return add_finding(case_path, finding, out=out)[0]


def add_finding(
    case_path: str | Path, finding: Mapping[str, Any], *, out: str | Path | None = None
) -> tuple[Path, dict[str, Any]]:
    """Add a finding to a case file, keeping its text and comments.

    Parameters
    ----------
    case_path
        The case file to extend; when it does not exist the template is its start (the new
        finding then follows the template's example findings).
    finding
        The mapping of one ``findings[]`` entry (:func:`.finding_from_region`). Without a
        ``label_value`` the first free one is given; a colour another finding has is replaced
        by a free one of :data:`.DRAWN_COLOURS`.
    out
        Where to write the result (default: ``case_path`` itself).

    Returns
    -------
    tuple of Path and dict
        The file written and the entry as written (with its label value and colour).

    Raises
    ------
    CaseFileError
        The case file is invalid, already has the finding's id or label value, or the result
        would not be a valid case file; nothing is written then.
    """
    src = Path(case_path)
    target = Path(out) if out is not None else src
    if not target.name.lower().endswith(CASE_SUFFIXES):
        raise CaseFileError(
            f"{target}: a case file's name must end with .yaml or .yml. Fix: give such a name."
        )
    if src.exists():
        text = read_text(
            src, "case file", CaseFileError, "give the path of a case file (.yaml).", None
        )
    else:
        text = case_template()
    case = validate_case_text(text, src)
    entry = _completed(finding, case)
    offset, indent = _findings_end(text, src)
    head = text[:offset]
    if head and not head.endswith("\n"):
        head += "\n"
    new_text = head + "\n" + finding_yaml(entry, indent) + text[offset:]
    validate_case_text(new_text, target)
    if not target.parent.is_dir():
        raise CaseFileError(
            f"{target}: its folder does not exist. Fix: create {target.parent} or give another "
            "path."
        )
    return write_text(target, new_text), entry


__all__ = [
    "CASE_SUFFIXES",
    "add_finding",
    "append_finding",
    "case_template",
    "finding_yaml",
    "validate_case_text",
]
