"""Reading a case file: safe YAML without duplicate keys, validated into a :class:`CaseFile`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from ...errors import CaseFileError
from ..library import default_case_path
from .document import CaseFile
from .problems import case_file_error

#: Validates the YAML data of a case file (context ``{"path": ...}``) into a CaseFile.
_CASE_FILE = TypeAdapter(CaseFile)


class UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses duplicate keys (PyYAML keeps the last silently)."""


def _construct_mapping(loader: UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        try:
            seen = key in out
        except TypeError as err:  # a list or mapping used as a key
            raise yaml.constructor.ConstructorError(
                None, None, f"found unhashable key {key!r}", key_node.start_mark
            ) from err
        if seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (line {key_node.start_mark.line + 1})",
                key_node.start_mark,
            )
        out[key] = loader.construct_object(value_node)
    return out


UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def read_yaml(path: Path) -> Any:
    """The YAML data of the case file ``path`` (safe types only, no duplicate keys).

    Raises
    ------
    CaseFileError
        The file is missing, is not UTF-8 text or is not valid YAML.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise CaseFileError(
            f"{path}: case file not found. Fix: give the path of a case file, for example "
            f"{default_case_path()}."
        ) from err
    except (OSError, UnicodeDecodeError) as err:
        raise CaseFileError(f"{path}: cannot be read as UTF-8 text ({err}).") from err
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise CaseFileError(
            f"{path}: is not valid YAML{where}: {problem}. Fix: correct the syntax there."
        ) from err


def load_case(path: str | Path) -> CaseFile:
    """Read and validate a case file.

    Parameters
    ----------
    path
        A YAML case file.

    Returns
    -------
    CaseFile
        The validated content.

    Raises
    ------
    CaseFileError
        The file is missing, is not YAML, or breaks the schema; the message names the file,
        the field path, the rule, the value and the fix.
    """
    p = Path(path)
    doc = read_yaml(p)
    try:
        return _CASE_FILE.validate_python(doc, context={"path": p})
    except ValidationError as err:
        raise case_file_error(p, err) from err
