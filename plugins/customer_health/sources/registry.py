"""Which extractor class serves which ``kind`` in sources.yml.

A kind registers itself: defining a subclass of
:class:`~customer_health.sources.base.Extractor` with a ``kind`` adds it here,
and every module of this package is imported on first lookup. Adding a kind of
system is therefore one module, ``sources/<kind>.py``, plus its entry in
sources.yml; nothing else in the code changes.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from customer_health.registry import Registry, UnknownName

if TYPE_CHECKING:
    from customer_health.sources.base import Extractor

KINDS: Registry[type[Extractor]] = Registry("kind", discover=("customer_health.sources",))


def extractor_class(kind: str) -> type[Extractor]:
    """The extractor of ``kind``; an unknown kind raises :class:`UnknownName` (a KeyError) naming the allowed ones."""
    return KINDS.get(kind)


__all__ = ["KINDS", "UnknownName", "extractor_class"]
