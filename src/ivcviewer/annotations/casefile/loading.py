"""Reading a case file: safe YAML without duplicate keys, validated into a :class:`CaseFile`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..._text import DocumentLoader, parse_yaml, read_text
from ...errors import CaseFileError
from ...limits import Limits
from ..library import default_case_path
from .document import CaseFile
from .problems import case_file_error

#: Validates the YAML data of a case file (context ``{"path": ...}``) into a CaseFile.
_CASE_FILE = TypeAdapter(CaseFile)


#: The safe YAML loader of case files: no tag runs code, no key repeats, no alias bomb.
UniqueKeyLoader = DocumentLoader


def read_yaml(path: Path, limits: Limits | None = None) -> Any:
    """The YAML data of the case file ``path`` (safe types only, no duplicate keys).

    The file must be a regular file of at most ``limits.max_text_bytes``; the document may nest
    at most ``limits.max_nesting`` levels and hold at most ``limits.max_yaml_aliases`` aliases,
    and is refused while it is composed, before its data is built, when it breaks one.

    Raises
    ------
    CaseFileError
        The file is missing, is not a regular file, is not UTF-8 text or is not valid YAML.
    ResourceLimitError
        The file or its document is too large or too deep.
    """
    text = read_text(
        path,
        "case file",
        CaseFileError,
        f"give the path of a case file, for example {default_case_path()}.",
        limits,
    )
    return parse_yaml(text, path, "case file", CaseFileError, limits)


def validation_context(path: Path, doc: Any) -> dict[str, Any]:
    """The context a case file is validated in: its path, and the structure names it
    declares (``structures``, read before the findings that use them)."""
    declared = doc.get("structures") if isinstance(doc, dict) else None
    names = tuple(n for n in declared if isinstance(n, str)) if isinstance(declared, list) else ()
    return {"path": path, "structures": names}


def load_case(path: str | Path, limits: Limits | None = None) -> CaseFile:
    """Read and validate a case file.

    Parameters
    ----------
    path
        A YAML case file.
    limits
        The limits of the file's size, nesting and aliases (:class:`Limits` defaults when None).

    Returns
    -------
    CaseFile
        The validated content.

    Raises
    ------
    CaseFileError
        The file is missing, is not YAML, or breaks the schema; the message names the file,
        the field path, the rule, the value (cut short) and the fix.
    ResourceLimitError
        The file is not a size, or its document not a shape, a case file can have.
    """
    p = Path(path)
    doc = read_yaml(p, limits)
    try:
        return _CASE_FILE.validate_python(doc, context=validation_context(p, doc))
    except ValidationError as err:
        raise case_file_error(p, err, limits) from err
