"""The spool: the CSV file of one batch, written by a source and COPYed as it is by the warehouse loader.

Both sides depend on this format and on nothing of each other: a header row,
then the columns :data:`SPOOL_META_COLUMNS` and the stream's canonical columns
in that order (:func:`spool_columns`), Python's default ``csv`` dialect; a
spool a Python extractor writes adds :data:`SPOOL_ANNOTATION_COLUMNS` after
them (a database's ``COPY`` output carries none). A
value is written as text (:func:`spool_text`); None becomes an empty unquoted
field, which ``COPY ... (FORMAT csv)`` reads as NULL. :class:`SpooledBatch` is
what the loader needs to know besides the file.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Protocol

from customer_health.contracts.streams import Stream

# Constants of the batch, kept in the file so the loader can COPY it as it is.
SPOOL_META_COLUMNS = ("_source", "_batch_id")
# Per record, from extractors that see records one by one (files, APIs):
# where it is in its source (``accounts_2026.csv:14``, ``HubSpot companies 1234``),
# the fields the stream does not map (JSON text, kept in raw), and why the
# record could not be passed on as it was (then its values are made storable
# and the loader quarantines it with this reason).
SPOOL_ANNOTATION_COLUMNS = ("_origin", "_extra", "_reject")


def spool_columns(stream: Stream, *, annotated: bool = True) -> list[str]:
    """The header of a spool file of ``stream``."""
    return [*SPOOL_META_COLUMNS, *stream.columns, *(SPOOL_ANNOTATION_COLUMNS if annotated else ())]


def spool_text(value) -> str | None:
    """A value as the spool file carries it: text, and None stays None (an empty unquoted field: NULL)."""
    if value is None:
        return None
    return str(value)


class SpooledBatch(Protocol):
    """A written spool file as the loader takes it (``sources.base.Spool`` is the writer)."""

    path: Path
    source: str
    batch_id: int
    stream: Stream
    rows: int
    cursor: str | None
    """Largest cursor value of the batch (text order): where the next run starts."""
    source_types: dict[str, str] | None
    """Column -> type the values came out of, when a database typed them (None: text from files and APIs)."""

    complete: bool
    """The extraction read the whole stream (not an incremental page): absent keys were deleted at the source."""
    observed_at: datetime | None
    """When the source held what the batch holds, for a dated snapshot; None: the time of the load."""

    @property
    def header(self) -> list[str]: ...
