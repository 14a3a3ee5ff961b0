"""The canonical streams every source lands in: the one definition of each stream's shape.

A stream is a shape (``staging.<name>``) that any kind of source can feed: the
product database, a CRM API or a CSV export all produce the same columns. Its
definition here (columns with their staging types, key, whether a row may
change later, whether its account must be known to the CRM) is the fact the
rest is checked against or derived from: migration V002 creates ``raw.<name>``
and ``staging.<name>`` to match it (tests/integration/test_stream_schema.py
compares them with the migrated warehouse), ``include/sql/staging/<name>.sql``
casts and checks a batch into it, and the stream table of
``docs/data-contracts.md`` is generated from it (``make docs``).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    """Postgres type of the column in ``staging.<stream>`` (``raw.<stream>`` keeps every value as text)."""
    note: str = ""
    """What a reader of docs/data-contracts.md must know beyond the type: allowed values, when it may be null."""


@dataclass(frozen=True)
class Stream:
    name: str
    schema: tuple[Column, ...]
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
    # Versions are kept in history.<name> (SCD type 2, valid_from / valid_to per
    # load) so that a past day reads what was known that day, not today's row.
    history: bool = False
    # A complete extraction (a full snapshot, not an incremental page) lists
    # every live row: a key it lacks was deleted at the source, leaves staging
    # and its history version closes as deleted.
    snapshot: bool = False
    description: str = ""
    # The column that says when the record happened (an event's occurred_at):
    # a value beyond now + the future tolerance is quarantined, not counted.
    event_time: str | None = None

    def __post_init__(self):
        if self.bulk_load and not self.immutable:
            raise ValueError(f"stream {self.name}: the bulk path only inserts, so it needs an immutable stream")
        if (self.history or self.snapshot) and self.immutable:
            raise ValueError(f"stream {self.name}: an immutable stream has one version per key: no history, no snapshot")
        if self.snapshot and not self.history:
            raise ValueError(f"stream {self.name}: a snapshot stream records its deletions in history, so it needs history=True")
        unknown = set(self.key) - set(self.columns)
        if self.event_time is not None:
            unknown |= {self.event_time} - set(self.columns)
        if unknown:
            raise ValueError(f"stream {self.name}: key or event_time columns {sorted(unknown)} are not columns of the stream")

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names in their canonical order: the order of the spool file and of the staging table."""
        return tuple(c.name for c in self.schema)

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
            (
                Column("event_id", "text"),
                Column("account_id", "text"),
                Column("user_id", "text"),
                Column("event_name", "text", "login marks a session"),
                Column("occurred_at", "timestamptz"),
                Column("duration_seconds", "numeric", "null when the product does not record it"),
            ),
            key=("event_id",),
            immutable=True,
            bulk_load=True,
            event_time="occurred_at",
        ),
        Stream(
            "users",
            (
                Column("user_id", "text"),
                Column("account_id", "text"),
                Column("created_at", "timestamptz"),
                Column("deactivated_at", "timestamptz", "null while active"),
                Column("role", "text"),
            ),
            key=("user_id",),
            history=True,
            snapshot=True,
            description="issued seats",
        ),
        Stream(
            "licences",
            (Column("account_id", "text"), Column("seats", "integer")),
            key=("account_id",),
            history=True,
            snapshot=True,
            description="licensed seats",
        ),
        Stream(
            "crm_accounts",
            (
                Column("account_id", "text"),
                Column("name", "text"),
                Column("parent_account_id", "text", "null for top level"),
                Column("csm_owner_id", "text", "null"),
                Column("employees", "integer", "null"),
                Column("industry", "text"),
                Column("region", "text"),
                Column("lifecycle_stage", "text"),
                Column("created_at", "timestamptz"),
            ),
            key=("account_id",),
            requires_known_account=False,
            history=True,
            snapshot=True,
        ),
        Stream(
            "crm_owners",
            (Column("owner_id", "text"), Column("email", "text"), Column("name", "text")),
            key=("owner_id",),
            requires_known_account=False,
            description="CSMs",
        ),
        Stream(
            "crm_contracts",
            (
                Column("contract_id", "text"),
                Column("account_id", "text"),
                Column("start_date", "date"),
                Column("end_date", "date", "= renewal date"),
                Column("arr", "numeric"),
                Column("status", "text", "active, renewed, churned, expanded"),
            ),
            key=("contract_id",),
            history=True,
            snapshot=True,
        ),
        Stream(
            "crm_expansions",
            (
                Column("expansion_id", "text"),
                Column("account_id", "text"),
                Column("kind", "text", "upsell, cross_sell"),
                Column("closed_at", "date"),
                Column("arr_delta", "numeric"),
            ),
            key=("expansion_id",),
            description="upsell / cross-sell history",
        ),
        Stream(
            "crm_sentiment",
            (
                Column("entry_id", "text"),
                Column("account_id", "text"),
                Column("csm_owner_id", "text"),
                Column("sentiment", "integer", "1 red .. 3 green"),
                Column("note", "text"),
                Column("recorded_at", "timestamptz"),
            ),
            key=("entry_id",),
            description="CSM judgement, kept as its own signal",
            event_time="recorded_at",
        ),
        Stream(
            "churn_events",
            (
                Column("account_id", "text"),
                Column("churned_at", "date", "last day of service"),
                Column("reason", "text"),
            ),
            key=("account_id", "churned_at"),
            description="churns as the team records them (any kind: a CSV, a CRM object); joins contract ends in marts.account_outcomes",
        ),
        Stream(
            "survey_responses",
            (
                Column("response_id", "text"),
                Column("account_id", "text"),
                Column("respondent", "text"),
                Column("survey", "text", "nps, csat, cmi"),
                Column("question_id", "text"),
                Column("answer", "numeric"),
                Column("submitted_at", "timestamptz"),
            ),
            key=("response_id", "question_id"),
            immutable=True,
            bulk_load=True,
            description="long format: one row per response and question; nps 0-10, csat 1-5, cmi 1-5",
            event_time="submitted_at",
        ),
    )
}
