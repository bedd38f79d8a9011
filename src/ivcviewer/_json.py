"""JSON text as ivcviewer writes it: indented, with lists of numbers kept on one line."""

from __future__ import annotations

import json
from typing import Any


def dumps(data: Any, indent: int = 2, _level: int = 0) -> str:
    """JSON text indented like ``json.dumps(indent=2)``, with lists of numbers on one line.

    >>> print(dumps({"shape": [3, 4], "m": [[1, 0], [0, 1]]}))
    {
      "shape": [3, 4],
      "m": [
        [1, 0],
        [0, 1]
      ]
    }
    """
    pad = " " * (indent * (_level + 1))
    end = " " * (indent * _level)
    if isinstance(data, dict) and data:
        items = [
            f"{pad}{json.dumps(str(k))}: {dumps(v, indent, _level + 1)}" for k, v in data.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    if isinstance(data, list) and data and any(isinstance(v, (dict, list)) for v in data):
        items = [pad + dumps(v, indent, _level + 1) for v in data]
        return "[\n" + ",\n".join(items) + "\n" + end + "]"
    if isinstance(data, list):
        return "[" + ", ".join(json.dumps(v) for v in data) + "]"
    return json.dumps(data)
