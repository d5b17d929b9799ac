"""A value built once per process on first use, safely from several threads."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Lazy[T]:
    """`get()` builds the value with `factory` the first time and returns the same one after.

    Models are loaded this way: nothing heavy happens at import, and the threads that analyse
    photos in parallel share one copy (the first caller loads it, the others wait for it).
    """

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._value: T | None = None

    def get(self) -> T:
        value = self._value
        if value is not None:
            return value
        with self._lock:
            if self._value is None:
                self._value = self._factory()
            return self._value

    @property
    def loaded(self) -> bool:
        return self._value is not None
