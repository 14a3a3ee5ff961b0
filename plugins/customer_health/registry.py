"""Named extension points: source kinds, play conditions, delivery channels.

Each extension point is a :class:`Registry`: an implementation registers itself
under the name the YAML uses, and config validation asks the registry which
names exist, so adding one is one module (or one function) plus YAML, and an
unknown name is reported with the names that are allowed.

Why discovery by module name: the config layer must be able to list every
name without importing the layers above it, and a new module must count
without a line added to some list. A registry therefore names the packages or
modules that hold its implementations and imports them on first use; anything
registered from elsewhere (a test, a company's own module imported first)
counts too. This module imports nothing of the product.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownName(KeyError):
    """A name no implementation registered; the message lists the allowed ones."""

    def __str__(self) -> str:
        return str(self.args[0])


class Registry(Generic[T]):
    def __init__(self, what: str, *, discover: tuple[str, ...]):
        self.what = what
        self._discover = discover
        self._items: dict[str, T] = {}
        self._discovered = False

    def register(self, name: str, item: T) -> T:
        """Add ``item`` under ``name``; a second registration of one name is a mistake unless it is the same item."""
        known = self._items.get(name)
        if known is not None and known is not item and _origin(known) != _origin(item):
            raise ValueError(f"{self.what} {name!r} is registered twice: {_origin(known)} and {_origin(item)}")
        self._items[name] = item
        return item

    def unregister(self, name: str) -> None:
        self._items.pop(name, None)

    @contextmanager
    def registered(self, name: str, item: T) -> Iterator[T]:
        """``item`` registered for the ``with`` block only (tests, worked examples)."""
        self.register(name, item)
        try:
            yield item
        finally:
            self.unregister(name)

    def get(self, name: str) -> T:
        self._load()
        try:
            return self._items[name]
        except KeyError:
            raise UnknownName(f"unknown {self.what} {name!r}; allowed: {', '.join(sorted(self._items))}") from None

    def names(self) -> list[str]:
        """Every registered name, in registration order (built-ins first, as their modules define them)."""
        self._load()
        return list(self._items)

    def items(self) -> list[tuple[str, T]]:
        self._load()
        return list(self._items.items())

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._items

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def _load(self) -> None:
        if self._discovered:
            return
        self._discovered = True  # first, so a module that looks names up while it is imported does not recurse
        try:
            for name in self._discover:
                module = importlib.import_module(name)
                for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
                    if not info.name.startswith("_"):
                        importlib.import_module(f"{name}.{info.name}")
        except BaseException:
            self._discovered = False
            raise


def _origin(item: object) -> str:
    """Where an implementation was defined: the same module run twice (a re-import) registers the same origin."""
    item = getattr(item, "implementation", item)
    return f"{getattr(item, '__module__', '?')}.{getattr(item, '__qualname__', type(item).__qualname__)}"


PLAY_CONDITIONS: Registry = Registry("play condition", discover=("customer_health.playbooks.conditions",))
"""Name in a play's ``when:`` -> ``playbooks.conditions.PlayCondition``."""

DELIVERY_CHANNELS: Registry = Registry("delivery channel", discover=("customer_health.delivery",))
"""Name in a play's ``channels:`` -> ``delivery.common.Channel``."""
