"""Text documents (case files, landmarks, label tables) read and parsed within :class:`Limits`.

A document named by a user may be anything: a folder, a FIFO, ``/dev/zero``, a file of
gigabytes, JSON nested ten thousand levels deep, or a YAML "billion laughs" whose few kilobytes
of aliases stand for gigabytes of data. The readers here refuse each of those before the work
starts, with one line naming the file, the rule and the fix:

- :func:`read_text` opens only a regular file (never waiting on a FIFO or a device), checks its
  size first and reads at most :attr:`Limits.max_text_bytes` (a file may grow meanwhile);
- :func:`parse_json` checks the nesting depth before ``json.loads`` and refuses duplicate keys;
- :func:`parse_yaml` composes with :class:`DocumentLoader`, a ``SafeLoader`` (no tag ever runs
  code) that refuses duplicate and unhashable keys and counts, while composing, the aliases,
  the nesting and the size the document would have with its aliases written out;
- :func:`quote` shows a piece of an input in a message, cut short, without ever building the
  text of a huge value.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ._files import file_kind
from .errors import IvcviewerError, ResourceLimitError
from .limits import Limits

#: Deepest level :func:`quote` descends into a value.
_QUOTE_LEVELS = 16

#: Integers longer than this many bits are described, not written out.
_QUOTE_INT_BITS = 1024


def quote(value: Any, limits: Limits | None = None) -> str:
    """``repr(value)`` when short; else its start, cut to ``limits.max_quoted_chars``, and its size.

    Only as much of the value is turned into text as the message shows, so quoting a list of a
    million items or a text of megabytes costs no more than quoting a short one.

    >>> quote(["cm"])
    "['cm']"
    >>> quote("x" * 5000, Limits(max_quoted_chars=12))
    "'xxxxxxxxxx... (a text of 5,000 characters)"
    >>> quote(list(range(10**6)), Limits(max_quoted_chars=12))
    '[0, 1, 2, 3... (a list of 1,000,000 items)'
    """
    lim = limits if limits is not None else Limits()
    most = lim.max_quoted_chars
    pieces: list[str] = []
    size = 0
    for piece in _repr_pieces(value, most, 0):
        pieces.append(piece)
        size += len(piece)
        if size > most:
            break
    else:
        return "".join(pieces)
    return f"{''.join(pieces)[: max(most - 1, 1)]}... ({_size_of(value)})"


def _size_of(value: Any) -> str:
    """How big a value is, in words (for a quote cut short)."""
    if isinstance(value, str):
        return f"a text of {len(value):,} characters"
    if isinstance(value, (bytes, bytearray)):
        return f"{len(value):,} bytes"
    if isinstance(value, dict):
        return f"a mapping of {len(value):,} key{'s' if len(value) != 1 else ''}"
    if isinstance(value, (list, tuple, set, frozenset)):
        return f"a list of {len(value):,} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"an integer of {value.bit_length():,} bits"
    return f"a {type(value).__name__}"


def _repr_pieces(value: Any, most: int, level: int) -> Iterator[str]:
    """The text of ``repr(value)`` in pieces, so that a caller may stop early.

    Strings and bytes longer than ``most`` give only their start (no closing quote).
    """
    if level > _QUOTE_LEVELS:
        yield "..."
    elif isinstance(value, (str, bytes, bytearray)):
        yield repr(value) if len(value) <= most else repr(value[: most + 2])[:-1]
    elif isinstance(value, int) and not isinstance(value, bool):
        yield repr(value) if value.bit_length() <= _QUOTE_INT_BITS else f"<{_size_of(value)}>"
    elif isinstance(value, dict):
        yield "{"
        for i, (k, v) in enumerate(value.items()):
            yield ", " if i else ""
            yield from _repr_pieces(k, most, level + 1)
            yield ": "
            yield from _repr_pieces(v, most, level + 1)
        yield "}"
    elif type(value) in (list, tuple, set, frozenset):
        yield from _sequence_pieces(value, most, level)
    else:
        yield repr(value)


def _sequence_pieces(value: Any, most: int, level: int) -> Iterator[str]:
    """The pieces of the repr of a list, tuple, set or frozenset."""
    if isinstance(value, (set, frozenset)) and not value:
        yield f"{type(value).__name__}()"
        return
    opening, closing = "{", "}"
    if isinstance(value, list):
        opening, closing = "[", "]"
    elif isinstance(value, tuple):
        opening, closing = "(", ")"
    elif isinstance(value, frozenset):
        opening, closing = "frozenset({", "})"
    yield opening
    for i, item in enumerate(value):
        yield ", " if i else ""
        yield from _repr_pieces(item, most, level + 1)
    if isinstance(value, tuple) and len(value) == 1:
        yield ","
    yield closing


def cut(text: str, limits: Limits | None = None) -> str:
    """``text`` cut to twice ``limits.max_quoted_chars`` (a library's message about an input).

    >>> cut("abc")
    'abc'
    """
    most = 2 * (limits if limits is not None else Limits()).max_quoted_chars
    return text if len(text) <= most else f"{text[: most - 3]}..."


# -- reading ---------------------------------------------------------------------------------


def _not_regular(
    path: Path, what: str, mode: int, error: type[IvcviewerError], fix: str
) -> IvcviewerError:
    kind = file_kind(mode)
    return error(f"{path}: {what} must be a regular file, but this is {kind}. Fix: {fix}")


def read_text(
    path: Path,
    what: str,
    error: type[IvcviewerError],
    fix: str,
    limits: Limits | None = None,
) -> str:
    """The UTF-8 text of the regular file ``path``, at most ``limits.max_text_bytes`` long.

    The file is opened without waiting (a FIFO or a device named here is refused, never read)
    and read to at most one byte past the limit, so a file that grows while it is read, or one
    that never ends, costs no more than a file of the limit. Line ends are translated as
    ``Path.read_text`` does.

    Parameters
    ----------
    path
        The file.
    what
        What the file should be, for messages (``"case file"``).
    error
        The domain error raised for a missing, unreadable, non-regular or non-UTF-8 file.
    fix
        What to do when the file is missing or is not a regular file.
    limits
        The limits (:class:`Limits` defaults when None).

    Raises
    ------
    IvcviewerError
        ``error``: the file is missing, is not a regular file, cannot be read or is not UTF-8.
    ResourceLimitError
        The file is larger than ``limits.max_text_bytes``.
    """
    lim = limits if limits is not None else Limits()
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError as err:
        raise error(f"{path}: {what} not found. Fix: {fix}") from err
    except OSError as err:
        raise error(
            f"{path}: {what} cannot be read ({err.strerror}). Fix: check the path and its "
            "permissions."
        ) from err
    if not stat.S_ISREG(mode):
        raise _not_regular(path, what, mode, error, fix)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):  # it may have changed since the first look
                raise _not_regular(path, what, st.st_mode, error, fix)
            _check_size(path, what, st.st_size, lim)
            data = f.read(lim.max_text_bytes + 1)
    except OSError as err:
        raise error(
            f"{path}: {what} cannot be read ({err.strerror}). Fix: check the path and its "
            "permissions."
        ) from err
    _check_size(path, what, len(data), lim)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise error(
            f"{path}: {what} is not UTF-8 text (byte {err.start}: {err.reason}). Fix: save it "
            "as UTF-8 text."
        ) from err
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _check_size(path: Path, what: str, size: int, limits: Limits) -> None:
    """Refuse a text document over ``limits.max_text_bytes`` (``size``: its size, or what was
    read of it, at most one byte past the limit)."""
    if size > limits.max_text_bytes:
        said = "larger than" if size == limits.max_text_bytes + 1 else f"{size:,} bytes, more than"
        raise ResourceLimitError(
            f"{path}: {what} is {said} the {limits.max_text_bytes:,} bytes a text document may "
            f"have. Fix: give the right file (a {what} is a few kilobytes)."
        )


# -- JSON ------------------------------------------------------------------------------------

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_OPENING = np.frombuffer(b"[{", dtype=np.uint8)


def json_nesting(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON ``text`` (brackets in strings ignored).

    Linear in the text, no recursion: safe on any input. For text that is not valid JSON it is
    the depth the parser would reach before failing, or more.

    >>> json_nesting('{"a": [[1, 2], "]]]"], "b": {}}')
    3
    """
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    if not brackets:
        return 0
    codes = np.frombuffer(brackets.encode("ascii"), dtype=np.uint8)
    steps = np.where(np.isin(codes, _OPENING), 1, -1)
    return max(int(np.cumsum(steps).max()), 0)


class _DuplicateKeyError(ValueError):
    """A key that appears twice in one JSON object."""


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key)
        out[key] = value
    return out


def parse_json(
    text: str, path: Path, what: str, error: type[IvcviewerError], limits: Limits | None = None
) -> Any:
    """The data of the JSON document ``text`` read from ``path``.

    Raises
    ------
    IvcviewerError
        ``error``: the text is not valid JSON, or an object holds a key twice.
    ResourceLimitError
        The document nests deeper than ``limits.max_nesting``.
    """
    lim = limits if limits is not None else Limits()
    depth = json_nesting(text)
    if depth > lim.max_nesting:
        raise ResourceLimitError(
            f"{path}: {what} nests arrays and objects {depth:,} levels deep, more than the "
            f"{lim.max_nesting} a document may have. Fix: give the right file (a {what} nests a "
            "few levels)."
        )
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs)
    except json.JSONDecodeError as err:
        raise error(
            f"{path}: {what} is not valid JSON at line {err.lineno}, column {err.colno}: "
            f"{err.msg}. Fix: correct the syntax there."
        ) from err
    except _DuplicateKeyError as err:
        raise error(
            f"{path}: {what} holds the key {quote(err.args[0], lim)} twice in one object. "
            "Fix: keep one of them."
        ) from err
    except (ValueError, RecursionError) as err:  # a number of over 4300 digits
        raise error(
            f"{path}: {what} holds a value that cannot be read ({_value_problem(err, lim)}). "
            "Fix: correct the value (numbers have at most a few digits)."
        ) from err


def _value_problem(err: Exception, limits: Limits) -> str:
    """Python's words about a value it cannot build, without its advice to change a setting."""
    text = str(err)
    if "integer string conversion" in text:
        text = text.split(":")[0]
    return cut(text, limits)


# -- YAML ------------------------------------------------------------------------------------


class DocumentLimitError(yaml.YAMLError):
    """A YAML document breaks a limit; raised while composing, before the data is built.

    Attributes
    ----------
    rule
        The rule broken, worded to follow the file name.
    mark
        Where in the text (line and column), or None.
    """

    def __init__(self, rule: str, mark: Any = None) -> None:
        super().__init__(rule)
        self.rule = rule
        self.mark = mark


class DocumentLoader(yaml.SafeLoader):
    """A safe YAML loader within limits: no tag runs code, no key repeats, no alias bomb.

    While composing (before any Python object is built) it counts the alias references, the
    nesting of sequences and mappings (an alias counts as deep as what it names, where it is
    used) and the size of the text the document would have with every alias written out, and
    raises :class:`DocumentLimitError` past :attr:`Limits.max_yaml_aliases`,
    :attr:`Limits.max_nesting` or :attr:`Limits.max_text_bytes`. An alias inside the node it
    names (a loop) is refused too. Keys must be plain values and appear once per mapping.

    >>> yaml.load("a: &x [1, 2]\\nb: *x\\n", Loader=DocumentLoader)
    {'a': [1, 2], 'b': [1, 2]}
    """

    def __init__(self, stream: Any, limits: Limits | None = None) -> None:
        super().__init__(stream)
        self.limits = limits if limits is not None else Limits()
        self._text_size = len(stream) if isinstance(stream, (str, bytes)) else 0
        self._aliases = 0
        self._depth = 0
        self._added = 0  # characters the aliases add when written out
        self._height: dict[int, int] = {}  # node id -> levels of nesting it holds
        self._extra: dict[int, int] = {}  # node id -> characters its aliases add
        self._levels: list[int] = []  # per open collection: the most levels of a child

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Compose one node, counting its aliases, nesting and expanded size."""
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            target = self.anchors.get(event.anchor)
            if target is not None:
                self._count_alias(target, event)
            node = super().compose_node(parent, index)
            self._child_levels(self._height[id(node)])
            return node
        if not self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent):
            node = super().compose_node(parent, index)
            self._height[id(node)] = 0
            self._extra[id(node)] = 0
            self._child_levels(0)
            return node
        self._depth += 1
        if self._depth > self.limits.max_nesting:
            raise DocumentLimitError(
                f"nests lists and mappings more than {self.limits.max_nesting} levels deep",
                self.peek_event().start_mark,
            )
        added_before = self._added
        self._levels.append(0)
        node = super().compose_node(parent, index)
        height = 1 + self._levels.pop()
        self._depth -= 1
        self._height[id(node)] = height
        self._extra[id(node)] = self._added - added_before
        self._child_levels(height)
        return node

    def _child_levels(self, height: int) -> None:
        if self._levels:
            self._levels[-1] = max(self._levels[-1], height)

    def _count_alias(self, target: Any, event: Any) -> None:
        """Refuse the alias ``event`` naming ``target`` if it breaks a limit."""
        lim = self.limits
        self._aliases += 1
        if self._aliases > lim.max_yaml_aliases:
            raise DocumentLimitError(
                f"holds more than {lim.max_yaml_aliases:,} aliases ('*name')", event.start_mark
            )
        if id(target) not in self._height:
            raise DocumentLimitError(
                f"alias '*{cut(str(event.anchor), lim)}' lies inside the node it names (a loop)",
                event.start_mark,
            )
        if self._depth + self._height[id(target)] > lim.max_nesting:
            raise DocumentLimitError(
                f"alias '*{cut(str(event.anchor), lim)}' nests lists and mappings more than "
                f"{lim.max_nesting} levels deep",
                event.start_mark,
            )
        span = max(target.end_mark.index - target.start_mark.index, 1)
        written = event.end_mark.index - event.start_mark.index
        self._added += max(span + self._extra[id(target)] - written, 0)
        if self._text_size + self._added > lim.max_text_bytes:
            raise DocumentLimitError(
                f"expands, with its aliases written out, to more than {lim.max_text_bytes:,} "
                "characters (an alias bomb)",
                event.start_mark,
            )


def _construct_mapping(loader: DocumentLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    """A mapping whose keys are plain values, each once."""
    loader.flatten_mapping(node)
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            kind = "list" if isinstance(key_node, yaml.SequenceNode) else "mapping"
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"found unhashable key (a {kind}; keys must be plain values such as text)",
                key_node.start_mark,
            )
        key = loader.construct_object(key_node)
        try:
            seen = key in out
        except TypeError as err:  # a tagged scalar that builds an unhashable value
            raise yaml.constructor.ConstructorError(
                None, None, f"found unhashable key {quote(key, loader.limits)}", key_node.start_mark
            ) from err
        if seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {quote(key, loader.limits)} (line {key_node.start_mark.line + 1})",
                key_node.start_mark,
            )
        out[key] = loader.construct_object(value_node)
    return out


DocumentLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(
    text: str, path: Path, what: str, error: type[IvcviewerError], limits: Limits | None = None
) -> Any:
    """The data of the single YAML document ``text`` read from ``path`` (:class:`DocumentLoader`).

    Raises
    ------
    IvcviewerError
        ``error``: the text is not valid YAML (or uses a tag, a key or a value ivcviewer does
        not read).
    ResourceLimitError
        The document breaks a limit (aliases, nesting, expanded size).
    """
    lim = limits if limits is not None else Limits()
    loader = DocumentLoader(text, lim)
    try:
        return loader.get_single_data()
    except DocumentLimitError as err:
        raise ResourceLimitError(
            f"{path}: {what} {err.rule}{_where(err.mark)}. Fix: give the right file, or write "
            "the values out instead of nesting or repeating them through aliases."
        ) from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        problem = str(getattr(err, "problem", None) or str(err).splitlines()[0])
        raise error(
            f"{path}: is not valid YAML{_where(mark)}: {cut(problem, lim)}. Fix: "
            f"{_yaml_fix(problem, what)}."
        ) from err
    except ValueError as err:  # PyYAML builds an int of any length; Python refuses > 4300 digits
        raise error(
            f"{path}: {what} holds a value that cannot be read ({_value_problem(err, lim)}). "
            "Fix: correct the value (numbers have at most a few digits)."
        ) from err
    finally:
        loader.dispose()


def _yaml_fix(problem: str, what: str) -> str:
    """What to do about a YAML problem PyYAML found."""
    if problem.startswith("duplicate key"):
        return "keep one of the two keys"
    if problem.startswith("found unhashable key"):
        return "write the key as plain text"
    if "constructor for the tag" in problem:
        return f"remove the tag (a {what} holds plain values only)"
    return "correct the syntax there"


def _where(mark: Any) -> str:
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
