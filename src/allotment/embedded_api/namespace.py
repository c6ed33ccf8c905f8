"""The base of the embedded API's namespaces: each call is one use case in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from allotment.storage.store import Store

if TYPE_CHECKING:
    from allotment.embedded import Allotment

T = TypeVar("T")


class Namespace:
    def __init__(self, engine: Allotment) -> None:
        self._engine = engine

    def _read(self, operation: Callable[[Store, datetime, bool], T]) -> T:
        return self._engine._run(operation, write=False)

    def _write(self, operation: Callable[[Store, datetime, bool], T]) -> T:
        return self._engine._run(operation, write=True)
