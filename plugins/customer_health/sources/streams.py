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
        ),
    )
}

# The spool column that carries each record's replication-key value (see Extractor.extract).
CURSOR_COLUMN = "_cursor"


def get_stream(name: str) -> Stream:
    try:
        return STREAMS[name]
    except KeyError:
        raise KeyError(f"unknown stream {name!r}; known streams: {', '.join(sorted(STREAMS))}") from None
