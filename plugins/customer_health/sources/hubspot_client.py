"""The one HubSpot CRM v3 client: auth, search paging past the 10,000-result cap, HubSpot's time formats.

Three parts of the product read HubSpot: the ``hubspot`` source kind, the task
push and the status sync. All of them page the documented search endpoint
(``POST /crm/v3/objects/{object}/search``) the same way, so it is written once
here: sorted by ``hs_lastmodifieddate`` ascending, filtered on it ``GTE`` the
cursor, paged with ``after``. HubSpot refuses to page one search beyond
10,000 results, so when the next page would cross the cap the search starts
again from the last modification time seen; the overlap it re-reads is
harmless because every reader applies a record twice as once (the loader
merges it as unchanged, the status sync finds nothing to change). Retries
(429 with ``Retry-After``, 5xx, dropped connections) come from
:class:`~customer_health.sources.http.ApiClient`.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from customer_health.sources.base import ConnectionDetails
from customer_health.sources.http import ApiClient

HUBSPOT_API = "https://api.hubapi.com"
SEARCH_RESULT_CAP = 10_000
MODIFIED = "hs_lastmodifieddate"


def instant(value: str | datetime) -> datetime:
    """A HubSpot date as an aware UTC datetime: ISO 8601 (what the v3 API answers) or epoch milliseconds."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if value.isdigit():
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def epoch_ms(value: str | datetime) -> str:
    """What HubSpot search filters compare dates with: epoch milliseconds, as text."""
    return str(int(instant(value).timestamp() * 1000))


def next_after(page: dict) -> str | None:
    """The ``after`` token of the next page, or None on the last one."""
    return ((page.get("paging") or {}).get("next") or {}).get("after")


class HubSpotClient(ApiClient):
    """An :class:`ApiClient` for one HubSpot portal, plus the paging every HubSpot reader needs."""

    def __init__(self, base_url: str, token: str, *, conn_id: str, page_size: int = 100, **kwargs):
        super().__init__(base_url or HUBSPOT_API, token, vendor="HubSpot", conn_id=conn_id, **kwargs)
        self.page_size = page_size

    @classmethod
    def from_connection(cls, connection: ConnectionDetails, **kwargs) -> HubSpotClient:
        """The portal of an Airflow connection: the host (default: HubSpot's API) and the token in the password."""
        return cls(connection.host, connection.password, conn_id=connection.conn_id, **kwargs)

    @classmethod
    def from_conn_id(cls, conn_id: str, **kwargs) -> HubSpotClient:
        from customer_health.sources.connections import connection_details  # noqa: PLC0415 - Airflow only here

        return cls.from_connection(connection_details(conn_id), **kwargs)

    def search_path(self, object_type: str) -> str:
        return f"/crm/v3/objects/{object_type}/search"

    def search_modified(
        self, object_type: str, *, filters: list[dict], properties: list[str], since: str | datetime | None = None
    ) -> Iterator[dict]:
        """Every record matching ``filters`` modified at or after ``since`` (None: all), oldest change first.

        Restarts from the last modification time seen before the search cap; a
        restart that would not move forward (more than the cap share one
        modification time) fails rather than loop.
        """
        start = instant(since) if since else None
        while True:
            where = [*filters]
            if start is not None:
                where.append({"propertyName": MODIFIED, "operator": "GTE", "value": epoch_ms(start)})
            body = {
                "filterGroups": [{"filters": where}] if where else [],
                "sorts": [{"propertyName": MODIFIED, "direction": "ASCENDING"}],
                "properties": sorted({*properties, MODIFIED}),
                "limit": self.page_size,
            }
            seen, last, after = 0, None, None
            while True:
                page = self.request("POST", self.search_path(object_type), json={**body, **({"after": after} if after else {})})
                for record in page.get("results") or []:
                    seen += 1
                    modified = (record.get("properties") or {}).get(MODIFIED)
                    last = instant(modified) if modified else last
                    yield record
                after = next_after(page)
                if not after:
                    return
                if seen + self.page_size > SEARCH_RESULT_CAP:
                    break
            if last is None or last == start:
                raise RuntimeError(
                    f"more than {SEARCH_RESULT_CAP} HubSpot {object_type} share one {MODIFIED}; cannot page past it"
                )
            start = last

    def search_once(self, object_type: str, body: dict) -> dict:
        """One search request without retry: for a step retried as a whole (see :meth:`ApiClient.retrying`)."""
        return self.request_once("POST", self.search_path(object_type), json=body)

    def list_all(self, path: str, params: dict | None = None) -> Iterator[dict]:
        """Every result of a GET listing paged with ``after`` (e.g. ``/crm/v3/owners``)."""
        after = None
        while True:
            page = self.request("GET", path, params={**(params or {}), "limit": self.page_size,
                                                     **({"after": after} if after else {})})
            yield from page.get("results") or []
            after = next_after(page)
            if not after:
                return
