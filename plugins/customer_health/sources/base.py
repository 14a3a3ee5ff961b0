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
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from customer_health.contracts.spool import spool_columns, spool_text
from customer_health.contracts.streams import Stream
from customer_health.sources.registry import KINDS


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


class Spool:
    """Writer of one batch's spool file (the format is ``contracts.spool``), plus what the loader needs to know about it.

    The loader numbers the lines as it lands them.
    Python extractors call :meth:`write`, which also keeps the largest cursor
    value; a database extractor may instead stream COPY output straight into
    :attr:`path` (see :attr:`header`) and set :attr:`rows`, :attr:`cursor` and
    :attr:`source_types` itself.
    """

    def __init__(self, path: Path, source: str, batch_id: int, stream: Stream):
        self.path = path
        self.source = source
        self.batch_id = batch_id
        self.stream = stream
        self.rows = 0
        self.cursor: str | None = None
        """Largest cursor value of the batch (text order): where the next run starts."""
        self.source_types: dict[str, str] | None = None
        """Column -> type the values came out of, when a database typed them (None: text from files and APIs)."""
        self.complete = False
        """The batch is the whole stream as the source has it now (see :meth:`Extractor.is_complete`)."""
        self.observed_at = None
        """When the source was in the state the batch holds, if not now (a dated snapshot); None: the load's time."""
        self._file = None
        self._writer = None

    @property
    def header(self) -> list[str]:
        return spool_columns(self.stream)

    def write(self, row: dict, cursor: str | None = None) -> None:
        """One record in canonical column names; values become text, None stays null."""
        if self._writer is None:
            self._file = open(self.path, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed in close()
            self._writer = csv.writer(self._file)
            self._writer.writerow(self.header)
        self.rows += 1
        self.advance_cursor(spool_text(cursor))
        self._writer.writerow([self.source, self.batch_id, *(spool_text(row.get(c)) for c in self.stream.columns)])

    def advance_cursor(self, value: str | None) -> None:
        """Keep the largest cursor value seen (text order, as the loader stores it); empty means none."""
        if value and (self.cursor is None or value > self.cursor):
            self.cursor = value

    def close(self) -> None:
        if self._file is None and not self.path.exists():
            # An empty batch is still a batch: header only.
            with open(self.path, "w", newline="", encoding="utf-8") as f:
                csv.writer(f).writerow(self.header)
        if self._file is not None:
            self._file.close()
            self._file = None


Record = tuple[dict, "str | None"]
"""One record in canonical column names, and its cursor value (None: the stream has no cursor)."""


class Extractor:
    """One kind of source system. Subclass, set ``kind`` and the option models, implement :meth:`records`."""

    kind: ClassVar[str]
    needs_connection: ClassVar[bool] = True
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
        for row, row_cursor in self.records(stream, options, cursor):
            spool.write(row, cursor=row_cursor)
