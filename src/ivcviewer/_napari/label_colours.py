"""Label tables as the layers need them: a name and an RGBA colour per label value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..io.labels import default_color


def rgba(color: Any) -> tuple[float, float, float, float]:
    """An RGBA tuple (0-1) from RGB(A) in 0-1 or 0-255, or a ``#rrggbb`` string."""
    if isinstance(color, str):
        h = color.lstrip("#")
        if len(h) not in (6, 8):
            raise ValueError(f"Label colour {color!r} must be '#rrggbb' or '#rrggbbaa'.")
        vals = [int(h[i : i + 2], 16) / 255 for i in range(0, len(h), 2)]
    else:
        vals = [float(v) for v in color]
        if len(vals) not in (3, 4):
            raise ValueError(f"Label colour {color!r} must have 3 or 4 components.")
        if max(vals) > 1.0:
            vals = [v / 255 for v in vals]
    if len(vals) == 3:
        vals.append(1.0)
    return (vals[0], vals[1], vals[2], vals[3])


def normalise_label_table(
    table: Mapping[int, Any], colors: Mapping[int, Any] | None = None
) -> dict[int, tuple[str, tuple[float, float, float, float]]]:
    """``{value: (name, rgba)}`` from the label tables the loaders produce.

    Parameters
    ----------
    table
        ``value -> name``, ``value -> {"name": ..., "color": ...}`` or ``value -> object`` with
        a ``name`` attribute and optionally ``color`` / ``rgba`` / ``rgb``. Value 0 (background)
        is ignored.
    colors
        Colours that override the table's (RGB or RGBA, 0-1 or 0-255, or ``#rrggbb``).

    Returns
    -------
    dict
        Sorted by value; values without a colour get
        :func:`ivcviewer.io.labels.default_color` (the colours the label files get).

    Examples
    --------
    >>> t = normalise_label_table({1: "liver", 2: {"name": "IVC", "color": (0, 0, 255)}})
    >>> t[2]
    ('IVC', (0.0, 0.0, 1.0, 1.0))
    >>> t[1][0]
    'liver'
    """
    out: dict[int, tuple[str, tuple[float, float, float, float]]] = {}
    for value in sorted(int(v) for v in table):
        if value == 0:
            continue
        entry = table[value]
        color: Any = None
        if isinstance(entry, str):
            name = entry
        elif isinstance(entry, Mapping):
            name = str(entry.get("name", value))
            color = entry.get("color", entry.get("rgba", entry.get("rgb")))
        else:
            name = str(getattr(entry, "name", value))
            for attr in ("color", "rgba", "rgb"):
                if getattr(entry, attr, None) is not None:
                    color = getattr(entry, attr)
                    break
        if colors is not None and value in colors:
            color = colors[value]
        out[value] = (name, rgba(color) if color is not None else default_color(value))
    return out
