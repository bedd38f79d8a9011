"""Plain callbacks through which a widget model tells its views that its state changed.

The models of :mod:`ivcviewer.widget_models` hold no reference to any view: a view subscribes
with :meth:`Listeners.connect` and redraws itself when called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Callback = Callable[..., Any]


class Listeners:
    """A list of callbacks, all called (in connection order) by :meth:`emit`.

    Examples
    --------
    >>> seen = []
    >>> changed = Listeners()
    >>> changed.connect(seen.append)
    >>> changed.emit("case")
    >>> seen
    ['case']
    >>> changed.disconnect(seen.append)
    >>> changed.emit("again")
    >>> seen
    ['case']
    """

    def __init__(self) -> None:
        self._callbacks: list[Callback] = []

    def connect(self, callback: Callback) -> None:
        """Call ``callback`` on every :meth:`emit` (once, however often it is connected)."""
        if callback not in self._callbacks:
            self._callbacks.append(callback)

    def disconnect(self, callback: Callback) -> None:
        """Stop calling ``callback`` (nothing happens when it was not connected)."""
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        """Call every connected callback with ``args``."""
        for callback in list(self._callbacks):
            callback(*args)

    def __len__(self) -> int:
        return len(self._callbacks)
