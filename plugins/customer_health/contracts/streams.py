"""The canonical streams every source lands in.

A stream is a shape (``staging.<name>``) that any kind of source can feed: the
product database, a CRM API or a CSV export all produce the same columns. The
staging table itself is created by a migration and its casts and row checks
live in ``include/sql/staging/<name>.sql``; this registry says what the loader
needs to know to merge a batch: column order, key, whether a row may change
later, and whether its account must be known to the CRM.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stream:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    # Immutable streams (events, survey answers) never change after the fact:
    # the same key arriving with other content is quarantined, not applied.
    immutable: bool = False
    # Rows must name an account the CRM knows (staging.crm_accounts).
    requires_known_account: bool = True
    # staging.<name> states the row contract as constraints (NOT NULL, CHECK;
    # migration V007), so a large batch of database-typed values may be COPYed
    # straight into it (the loader's bulk path): any break of the contract still
    # raises there and the batch goes through the value-by-value checks instead.
    bulk_load: bool = False

    def __post_init__(self):
        if self.bulk_load and not self.immutable:
            raise ValueError(f"stream {self.name}: the bulk path only inserts, so it needs an immutable stream")

    @property
    def staging_table(self) -> str:
        return f"staging.{self.name}"

    @property
    def raw_table(self) -> str:
        return f"raw.{self.name}"


STREAMS: dict[str, Stream] = {
    s.name: s
    for s in (
        Stream(
            "usage_events",
            ("event_id", "account_id", "user_id", "event_name", "occurred_at", "duration_seconds"),
            key=("event_id",),
            immutable=True,
            bulk_load=True,
        ),
        Stream("users", ("user_id", "account_id", "created_at", "deactivated_at", "role"), key=("user_id",)),
        Stream("licences", ("account_id", "seats"), key=("account_id",)),
        Stream(
            "crm_accounts",
            (
                "account_id", "name", "parent_account_id", "csm_owner_id", "employees",
                "industry", "region", "lifecycle_stage", "created_at",
            ),
            key=("account_id",),
            requires_known_account=False,
        ),
        Stream("crm_owners", ("owner_id", "email", "name"), key=("owner_id",), requires_known_account=False),
        Stream(
            "crm_contracts",
            ("contract_id", "account_id", "start_date", "end_date", "arr", "status"),
            key=("contract_id",),
        ),
        Stream(
            "crm_expansions",
            ("expansion_id", "account_id", "kind", "closed_at", "arr_delta"),
            key=("expansion_id",),
        ),
        Stream(
            "crm_sentiment",
            ("entry_id", "account_id", "csm_owner_id", "sentiment", "note", "recorded_at"),
            key=("entry_id",),
        ),
        Stream(
            "survey_responses",
            ("response_id", "account_id", "respondent", "survey", "question_id", "answer", "submitted_at"),
            key=("response_id", "question_id"),
            immutable=True,
            bulk_load=True,
        ),
    )
}

# The columns a spool file carries before the canonical ones: constants of the batch,
# kept in the file so the loader can COPY it as it is (see customer_health.sources.base.Spool).
SPOOL_META_COLUMNS = ("_source", "_batch_id")


def get_stream(name: str) -> Stream:
    try:
        return STREAMS[name]
    except KeyError:
        raise KeyError(f"unknown stream {name!r}; known streams: {', '.join(sorted(STREAMS))}") from None
