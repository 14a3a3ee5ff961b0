"""Kind ``hubspot``: HubSpot CRM v3 objects (companies, deals, custom objects) and owners.

Records come from the search endpoint through
:class:`~customer_health.sources.hubspot_client.HubSpotClient` (paging, the
10,000-result restart and retries live there, shared with the task push and
the status sync), filtered on ``hs_lastmodifieddate >= cursor``. Owners (the
CSMs) come from ``GET /crm/v3/owners``. ``properties`` in sources.yml maps each
canonical column to a HubSpot property (``id`` is the record id), so a portal
with its own property names needs only YAML.

HubSpot leaves a property the portal no longer defines out of its answer
(renamed ``name`` -> ``company_name``). Mapping that absence to null would
overwrite good values, so a configured property missing from a record fails
the stream naming it, or, with ``on_missing_property: quarantine``, sends that
record to quarantine. Properties the stream does not map (HubSpot always adds
a few) are kept in ``raw.<stream>._extra``.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from customer_health.contracts.streams import Stream
from customer_health.sources.base import Extractor, Provenance, Record
from customer_health.sources.hubspot_client import MODIFIED, HubSpotClient


class HubSpotOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    page_size: int = Field(100, ge=1, le=200)
    max_attempts: int = Field(8, ge=1, le=20)


class HubSpotStream(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    object: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    """companies, deals, a custom object (p_<name> or 2-<id>), or owners."""
    properties: dict[str, str | list[str]]
    """canonical column -> HubSpot property; a list joins several with spaces (owner names);
    ``=text`` is a constant (e.g. ``survey: =cmi`` for CSM maturity assessments kept in the CRM)."""
    equals: dict[str, str | list[str]] = Field(default_factory=dict)
    """Only records whose property equals the value (or one of a list), e.g. {deal_kind: contract}."""
    mode: Literal["incremental", "full"] = "incremental"
    on_missing_property: Literal["fail", "quarantine"] = "fail"
    """A configured property absent from HubSpot's answer (renamed or deleted in the portal): fail the
    stream naming it, or quarantine the records that lack it. Never null out the staging value."""


class SchemaDriftError(RuntimeError):
    """The source stopped sending a configured field: loading on would null out good values."""


class HubSpotExtractor(Extractor):
    kind = "hubspot"
    SourceOptions = HubSpotOptions
    StreamOptions = HubSpotStream

    def is_complete(self, stream: Stream, options: HubSpotStream, cursor: str | None) -> bool:
        # Owners are listed whole; a search without a modified-since filter returns every live
        # (not archived) record. An incremental search carries only what changed.
        return options.object == "owners" or options.mode == "full" or cursor is None

    @classmethod
    def check_stream_options(cls, stream: Stream, options: HubSpotStream) -> list[tuple[str, str]]:
        """The keys of ``properties`` are the stream's canonical columns (contracts/streams.py): each
        column mapped once, none unknown. The values are the portal's own property names, which only
        the portal knows; a missing one is caught when a load finds it absent from the answer."""
        problems = []
        for column in options.properties:
            if column not in stream.columns:
                near = difflib.get_close_matches(column, stream.columns, n=1)
                problems.append((f"properties.{column}", f"{column!r} is not a column of {stream.name}"
                                 + (f" (did you mean {near[0]!r}?)" if near else "")
                                 + f"; allowed: {', '.join(stream.columns)}"))
        missing = [c for c in stream.columns if c not in options.properties]
        if missing:
            problems.append(("properties", f"lacks column(s) {', '.join(missing)} of {stream.name}: map each to a "
                             "HubSpot property (id for the record id, =text for a constant)"))
        return problems

    def records(self, stream: Stream, options: HubSpotStream, cursor: str | None) -> Iterator[Record]:
        missing = [c for c in stream.columns if c not in options.properties]
        if missing:
            raise ValueError(f"{self.source_name}.{stream.name}: properties lacks {missing}")
        client = HubSpotClient.from_connection(
            self.connection, page_size=self.options.page_size, max_attempts=self.options.max_attempts
        )
        if options.object == "owners":
            for owner in client.list_all("/crm/v3/owners"):
                # Owners are no portal object with properties: nothing to drift, only the origin to keep.
                yield self._map(owner, owner, options), None, Provenance(origin=f"HubSpot owner {owner.get('id')}")
            return
        filters = [
            {"propertyName": k, "operator": "IN", "values": v}
            if isinstance(v, list)
            else {"propertyName": k, "operator": "EQ", "value": v}
            for k, v in options.equals.items()
        ]
        wanted = {p for v in options.properties.values() for p in ([v] if isinstance(v, str) else v)}
        found = client.search_modified(
            options.object,
            filters=filters,
            properties=sorted(p for p in wanted if p != "id" and not p.startswith("=")),
            since=None if options.mode == "full" else cursor,
        )
        for record in found:
            props = record.get("properties") or {}
            yield self._map(record, props, options), props.get(MODIFIED), self._provenance(stream, record, props, options)

    def _provenance(self, stream: Stream, record: dict, fields: dict, options: HubSpotStream) -> Provenance:
        """Where the record is, the fields the stream does not map, and a configured property that did not come."""
        mapped = {p for v in options.properties.values() for p in ([v] if isinstance(v, str) else v)}
        missing = sorted(p for p in mapped if p != "id" and not p.startswith("=") and p not in fields)
        origin = f"HubSpot {options.object} {record.get('id')}"
        reject = None
        if missing:
            columns = {p: c for c, v in options.properties.items() for p in ([v] if isinstance(v, str) else v)}
            named = ", ".join(f"{p!r} (column {columns[p]})" for p in missing)
            if options.on_missing_property == "fail":
                raise SchemaDriftError(
                    f"{self.source_name}.{stream.name}: HubSpot sent {origin} without the configured propert"
                    f"{'y' if len(missing) == 1 else 'ies'} {named}: renamed or deleted in the portal? It sent: "
                    f"{', '.join(sorted(fields)) or 'nothing'}. Loading on would null out the stored values; fix "
                    f"sources.{self.source_name}.streams.{stream.name}.properties, or set on_missing_property: quarantine")
            reject = f"missing property: HubSpot sent no {named}"
        extra = {k: v for k, v in fields.items() if k not in mapped and k != "id"}
        return Provenance(origin=origin, extra=extra or None, reject=reject)

    @staticmethod
    def _map(record: dict, fields: dict, options: HubSpotStream) -> dict:
        row = {}
        for column, source in options.properties.items():
            if isinstance(source, list):
                parts = [str(fields.get(s) or "").strip() for s in source]
                row[column] = " ".join(p for p in parts if p) or None
            elif source.startswith("="):
                row[column] = source[1:]
            else:
                row[column] = record.get("id") if source == "id" else fields.get(source)
        return row

