"""The contract every kind of source system implements.

A kind is one small subclass of :class:`Extractor`: it declares its ``kind``
name and options (pydantic models, validated from ``sources.yml``) and yields
the records of one stream changed after a cursor, each with its own cursor
value (:meth:`Extractor.records`). The base loops over them, keeps the
largest cursor and writes the :class:`Spool`; the vendor's client does the
HTTP paging and retries; batching, quarantine, idempotent merging and storing
the cursor are the loader's job. Defining the subclass registers the kind
(``customer_health.sources.registry``), so a new kind is one module.
"""
from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from customer_health.contracts.spool import spool_columns, spool_text
from customer_health.contracts.streams import Stream
from customer_health.sources.registry import KINDS

log = logging.getLogger(__name__)

# One value larger than this is a broken export (a runaway quote, a pasted
# file), not data: its record is quarantined with the value cut to a preview.
MAX_VALUE_CHARS = 65_536
PREVIEW_CHARS = 200
# Bytes a file's encoding could not decode, as errors="surrogateescape" leaves them in the text.
UNDECODED = re.compile("[\udc80-\udcff]")
_UNSTORABLE = re.compile("[\x00\udc80-\udcff]")


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class ConnectionDetails:
    """What an Airflow connection holds, without Airflow types (secrets never logged)."""

    conn_id: str
    uri: str = ""
    host: str = ""
    login: str = ""
    password: str = ""
    extra: dict | None = None

    def __repr__(self) -> str:
        return f"ConnectionDetails(conn_id={self.conn_id!r}, host={self.host!r})"


@dataclass(frozen=True)
class SourceFile:
    """An export file a batch read: identified by name and content, recorded with the batch."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Provenance:
    """What an extractor knows about a record besides its values (see ``contracts.spool``)."""

    origin: str | None = None
    """Where the record is in its source: ``file.csv:14``, ``HubSpot companies 1234``."""
    extra: dict | None = None
    """Fields the source sent that the stream does not map: kept in raw, never dropped silently."""
    reject: str | None = None
    """Why the record cannot be passed on as it is (a ragged row, bytes not in the file's encoding)."""


def storable(value: str) -> str:
    """A value Postgres text and jsonb can hold and a person can read: NUL bytes and
    undecodable bytes written as escapes, an oversized value cut to a preview."""
    if len(value) > MAX_VALUE_CHARS:
        value = f"{value[:PREVIEW_CHARS]}... [cut: {len(value):,} characters]"
    value = value.replace("\x00", "\\x00")
    if UNDECODED.search(value):
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return value


def value_problem(column: str, value: str) -> str | None:
    """Why a value cannot be stored as it is, or None."""
    if "\x00" in value:
        return f"NUL byte in {column}: at character {value.index(chr(0)) + 1} (Postgres text cannot hold it)"
    if UNDECODED.search(value):
        return f"undecodable bytes in {column}: not valid in the source's encoding"
    if len(value) > MAX_VALUE_CHARS:
        return f"oversized {column}: {len(value):,} characters, the limit is {MAX_VALUE_CHARS:,}"
    return None


def looked_back(cursor: str | None, lookback: timedelta) -> str | None:
    """The cursor to extract from: ``lookback`` before the stored one, in the same style
    (a trailing ``Z`` kept or not), so late records stamped just before it are read."""
    if cursor is None or not lookback:
        return cursor
    when = _as_time(cursor)
    if when is None:
        raise ValueError(f"cursor {cursor!r} is not an ISO 8601 time, so lookback cannot apply")
    # Seconds only when the cursor has no fraction: APIs such as Typeform's ``since`` take seconds.
    text = (when - lookback).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f" if "." in cursor else "%Y-%m-%dT%H:%M:%S")
    return text + "Z" if cursor.endswith("Z") else text


def _as_time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Spool:
    """Writer of one batch's spool file (the format is ``contracts.spool``), plus what the loader needs to know about it.

    The loader numbers the lines as it lands them.
    Python extractors call :meth:`write`, which also keeps the largest cursor
    value and turns a record Postgres could not take (a NUL byte, an oversized
    value) into one the loader quarantines with its reason and origin instead
    of failing the batch. A database extractor may instead stream COPY output
    straight into :attr:`path` (see :attr:`header`; it sets :attr:`annotated`
    to False) and set :attr:`rows`, :attr:`cursor` and :attr:`source_types` itself.
    """

    def __init__(self, path: Path, source: str, batch_id: int, stream: Stream, *,
                 cursor_limit: datetime | None = None):
        self.path = path
        self.source = source
        self.batch_id = batch_id
        self.stream = stream
        self._columns = stream.columns  # computed once: write() runs per record
        self.rows = 0
        self.cursor: str | None = None
        """Largest cursor value of the batch (text order): where the next run starts."""
        self.cursor_limit = cursor_limit
        """A time cursor beyond this (now + the stream's future tolerance) never moves the cursor."""
        self.future_cursors = 0
        self.source_types: dict[str, str] | None = None
        """Column -> type the values came out of, when a database typed them (None: text from files and APIs)."""
        self.complete = False
        """The batch is the whole stream as the source has it now (see :meth:`Extractor.is_complete`)."""
        self.observed_at = None
        """When the source was in the state the batch holds, if not now (a dated snapshot); None: the load's time."""
        self.annotated = True
        """Whether the file carries the per-record annotation columns (Python writers do, COPY output does not)."""
        self.known_files: dict[str, set[str]] = {}
        """File name -> SHA-256s of contents already loaded (``meta.source_files``), for file kinds."""
        self.files: list[SourceFile] = []
        """Export files this batch read; the loader records them with the batch."""
        self.notes: list[str] = []
        """What an operator should read about this batch (files skipped, none new); the loader reports them."""
        self._file = None
        self._writer = None

    @property
    def header(self) -> list[str]:
        return spool_columns(self.stream, annotated=self.annotated)

    def write(self, row: dict, cursor: str | None = None, provenance: Provenance | None = None) -> None:
        """One record in canonical column names; values become text, None stays null."""
        if self._writer is None:
            self._file = open(self.path, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed in close()
            self._writer = csv.writer(self._file)
            self._writer.writerow(self.header)
        provenance = provenance or Provenance()
        values = [spool_text(row.get(c)) for c in self._columns]
        # The extractor's own reason (a ragged row) says enough; the values are made storable either way.
        # Otherwise one scan of the whole record first: almost every record has nothing to report.
        if provenance.reject:
            problems = [provenance.reject]
        else:
            joined = "".join(v for v in values if v)
            suspect = len(joined) > MAX_VALUE_CHARS or _UNSTORABLE.search(joined) is not None
            problems = [p for c, v in zip(self._columns, values, strict=True)
                        if v is not None and (p := value_problem(c, v))] if suspect else []
        if problems:
            values = [None if v is None else storable(v) for v in values]
        extra = None
        if provenance.extra:
            extra = storable(json.dumps(provenance.extra, ensure_ascii=False, default=str))
        self.rows += 1
        self.advance_cursor(spool_text(cursor))
        origin = storable(provenance.origin) if provenance.origin else None
        annotations = [origin, extra, "; ".join(problems) if problems else None] if self.annotated else []
        self._writer.writerow([self.source, self.batch_id, *values, *annotations])

    def advance_cursor(self, value: str | None) -> None:
        """Keep the largest cursor value seen (text order, as the loader stores it); empty means none.

        A time beyond :attr:`cursor_limit` does not count: one record stamped in
        the future must not make every later run skip the present.
        """
        if not value or (self.cursor is not None and value <= self.cursor):
            return  # cannot move the cursor: no need to read it as a time
        if self.cursor_limit is not None and (when := _as_time(value)) is not None and when > self.cursor_limit:
            self.future_cursors += 1
            return
        self.cursor = value

    def close(self) -> None:
        if self.future_cursors:
            self.notes.append(f"{self.future_cursors} record(s) carry a cursor time beyond "
                              f"{self.cursor_limit:%Y-%m-%d %H:%M} UTC (the future tolerance): the cursor ignores them")
        if self._file is None and not self.path.exists():
            # An empty batch is still a batch: header only.
            with open(self.path, "w", newline="", encoding="utf-8") as f:
                csv.writer(f).writerow(self.header)
        if self._file is not None:
            self._file.close()
            self._file = None


Record = tuple[dict, "str | None"] | tuple[dict, "str | None", Provenance]
"""One record in canonical column names, its cursor value (None: the stream has no cursor),
and optionally its :class:`Provenance`."""


class Extractor:
    """One kind of source system. Subclass, set ``kind`` and the option models, implement :meth:`records`."""

    kind: ClassVar[str]
    needs_connection: ClassVar[bool] = True
    cursor_is_time: ClassVar[bool] = True
    """Whether the cursor is an ISO 8601 time (lookback and the future tolerance apply), not a file name."""
    SourceOptions: ClassVar[type[BaseModel]] = NoOptions
    StreamOptions: ClassVar[type[BaseModel]] = NoOptions

    @classmethod
    def check_stream_options(cls, stream: Stream, options: BaseModel) -> list[tuple[str, str]]:
        """(key path under the stream, problem) for options that are well-formed but wrong for this stream,
        e.g. a mapping that names a column the stream does not have. Runs at validation; none by default."""
        return []

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__:  # a concrete kind, not a shared intermediate base
            KINDS.register(cls.kind, cls)

    def __init__(self, source_name: str, options: BaseModel, connection: ConnectionDetails | None):
        self.source_name = source_name
        self.options = options
        self.connection = connection

    def records(self, stream: Stream, options: BaseModel, cursor: str | None) -> Iterable[Record]:
        """Yield every record of ``stream`` changed after ``cursor`` (None: everything), with its cursor value.

        The cursor value is text that sorts like the source's change order
        (ISO-8601 UTC timestamps, zero-padded numbers, file names); the largest
        one becomes the next run's ``cursor``.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement records() or extract()")

    def is_complete(self, stream: Stream, options: BaseModel, cursor: str | None) -> bool:
        """Whether an extraction from ``cursor`` returns every live row of the stream, so that a key it lacks was
        deleted at the source. Only then may a snapshot stream's load delete (``Stream.snapshot``). False unless a
        kind knows better: an incremental page or a folder of exports says nothing about rows it does not carry."""
        return False

    def extract(self, stream: Stream, options: BaseModel, cursor: str | None, spool: Spool) -> None:
        """Write the records of :meth:`records` to ``spool``, which keeps the largest cursor.

        A kind that can stream a whole batch faster than record by record (a
        database's ``COPY``) overrides this instead and fills the spool itself.
        """
        for record in self.records(stream, options, cursor):
            spool.write(*record)
