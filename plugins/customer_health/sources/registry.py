"""Which extractor class serves which ``kind`` in sources.yml.

Adding a kind of system: write ``sources/<kind>.py`` with an Extractor
subclass and add it to KINDS below. That is the whole change in code.
"""
from __future__ import annotations

from customer_health.sources.base import Extractor
from customer_health.sources.csv_export import CsvExportExtractor
from customer_health.sources.hubspot import HubSpotExtractor
from customer_health.sources.postgres import PostgresExtractor
from customer_health.sources.typeform import TypeformExtractor

KINDS: dict[str, type[Extractor]] = {
    cls.kind: cls for cls in (PostgresExtractor, HubSpotExtractor, TypeformExtractor, CsvExportExtractor)
}


def extractor_class(kind: str) -> type[Extractor]:
    try:
        return KINDS[kind]
    except KeyError:
        raise KeyError(f"unknown kind {kind!r}; allowed: {', '.join(sorted(KINDS))}") from None
