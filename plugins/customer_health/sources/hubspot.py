"""Kind ``hubspot``: HubSpot CRM v3 objects (companies, deals, custom objects) and owners.

Records come from the documented search endpoint
(``POST /crm/v3/objects/{object}/search``), filtered on
``hs_lastmodifieddate >= cursor`` and sorted by it, paged with ``after``.
HubSpot caps one search at 10,000 results, so a long first load restarts the
search from the last modification time it saw. Owners (the CSMs) come from
``GET /crm/v3/owners``. ``properties`` in sources.yml maps each canonical
column to a HubSpot property (``id`` is the record id), so a portal with its
own property names needs only YAML.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from customer_health.contracts.streams import Stream
from customer_health.sources.base import Extractor, Spool
from customer_health.sources.http import ApiClient

SEARCH_RESULT_CAP = 10_000
MODIFIED = "hs_lastmodifieddate"


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


def _epoch_ms(iso: str) -> str:
    return str(int(datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(timezone.utc).timestamp() * 1000))


class HubSpotExtractor(Extractor):
    kind = "hubspot"
    SourceOptions = HubSpotOptions
    StreamOptions = HubSpotStream

    def _client(self) -> ApiClient:
        return ApiClient(
            self.connection.host or "https://api.hubapi.com",
            self.connection.password,
            vendor="HubSpot",
            conn_id=self.connection.conn_id,
            max_attempts=self.options.max_attempts,
        )

    def extract(self, stream: Stream, options: HubSpotStream, cursor: str | None, spool: Spool) -> None:
        missing = [c for c in stream.columns if c not in options.properties]
        if missing:
            raise ValueError(f"{self.source_name}.{stream.name}: properties lacks {missing}")
        client = self._client()
        if options.object == "owners":
            for record in self._owners(client):
                spool.write(self._map(record, record, options))
            return
        for record in self._search(client, options, None if options.mode == "full" else cursor):
            props = record.get("properties") or {}
            spool.write(self._map(record, props, options), cursor=props.get(MODIFIED))

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

    def _owners(self, client: ApiClient):
        after = None
        while True:
            params = {"limit": self.options.page_size, **({"after": after} if after else {})}
            page = client.request("GET", "/crm/v3/owners", params=params)
            yield from page.get("results", [])
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return

    def _search(self, client: ApiClient, options: HubSpotStream, cursor: str | None):
        wanted = sorted(
            {p for v in options.properties.values() for p in ([v] if isinstance(v, str) else v) if not p.startswith("=")}
            - {"id"}
        )
        since = cursor
        while True:
            filters = [
                {"propertyName": k, "operator": "IN", "values": v}
                if isinstance(v, list)
                else {"propertyName": k, "operator": "EQ", "value": v}
                for k, v in options.equals.items()
            ]
            if since:
                filters.append({"propertyName": MODIFIED, "operator": "GTE", "value": _epoch_ms(since)})
            body = {
                "filterGroups": [{"filters": filters}] if filters else [],
                "sorts": [{"propertyName": MODIFIED, "direction": "ASCENDING"}],
                "properties": [*wanted, MODIFIED],
                "limit": self.options.page_size,
            }
            seen, last_modified, after = 0, None, None
            while True:
                page = client.request(
                    "POST", f"/crm/v3/objects/{options.object}/search", json={**body, **({"after": after} if after else {})}
                )
                for record in page.get("results", []):
                    seen += 1
                    last_modified = (record.get("properties") or {}).get(MODIFIED) or last_modified
                    yield record
                after = ((page.get("paging") or {}).get("next") or {}).get("after")
                if not after:
                    return
                if seen + self.options.page_size > SEARCH_RESULT_CAP:
                    break  # restart from the last modification time seen; overlap is merged as unchanged
            if last_modified is None or last_modified == since:
                raise RuntimeError(
                    f"more than {SEARCH_RESULT_CAP} {options.object} share one hs_lastmodifieddate; cannot page past it"
                )
            since = last_modified
