"""Kind ``csv``: export files any CRM or survey tool can produce.

Each stream reads the files in ``folder`` that match its ``glob``, in name
order. A file is known by its name and content (size and SHA-256, recorded
with the batch that loaded it in ``meta.source_files``): a file already loaded
is not read again, one re-exported with new content is read again (keys make
that idempotent), and a file whose name sorts before the newest one is still
read. A file is only read once it is complete: its size must stay the same for
``settle_seconds``, and with ``ready_suffix`` a marker file (``<name>.done``)
must exist too. When files match but none is new, the batch says so.

The header row must hold the stream's canonical column names; other columns
are kept in ``raw.<stream>._extra`` and named in the log. An empty cell is
null. A record is never reshaped silently: a row with more or fewer fields than
the header, or with bytes the ``encoding`` option cannot decode, is
quarantined with the file and line it came from, and the rest loads.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from customer_health.contracts.streams import Stream
from customer_health.paths import REPO_ROOT
from customer_health.sources.base import UNDECODED, Extractor, Provenance, Record, SourceFile, Spool

log = logging.getLogger(__name__)

# Python's csv module refuses fields over 128 KiB with an error that stops the
# file; the spool writer quarantines oversized values itself (base.MAX_VALUE_CHARS).
csv.field_size_limit(2**31 - 1)


class CsvOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    folder: str
    """Folder of the exports; ${VARS} expand, a relative path is taken from the repo root."""
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    settle_seconds: float = Field(1.0, ge=0, le=600)
    """A new file's size must stay the same this long before it is read (a file still being written waits)."""
    ready_suffix: str | None = None
    """If set, a file is read only once ``<file name><suffix>`` exists (e.g. ``.done``), as exporters write it last."""

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, delimiter: str) -> str:
        if len(delimiter) != 1:
            raise ValueError(f"the delimiter must be one character (got {delimiter!r}); e.g. ',', ';' or '\\t'")
        return delimiter

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, encoding: str) -> str:
        """An encoding Python can decode with (codecs.lookup), so a typo fails validation, not the first file."""
        try:
            info = codecs.lookup(encoding)
        except LookupError:
            raise ValueError(f"unknown encoding {encoding!r}; allowed: a Python codec name, e.g. utf-8, utf-8-sig "
                             "(UTF-8 with or without a byte-order mark), cp932 / shift_jis, cp1252, latin-1") from None
        # base64, zlib and the like are codecs too, but bytes-to-bytes: open() refuses them, and so do we.
        if not info._is_text_encoding:  # noqa: SLF001 - the flag codecs itself sets for exactly this
            raise ValueError(f"{encoding!r} is not a text encoding; allowed: e.g. utf-8, utf-8-sig, cp932, latin-1")
        return encoding

    def resolved_folder(self) -> Path:
        folder = Path(os.path.expandvars(self.folder))
        return folder if folder.is_absolute() else REPO_ROOT / folder


class CsvStream(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    glob: str


class CsvHeaderError(ValueError):
    pass


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class CsvExportExtractor(Extractor):
    kind = "csv"
    needs_connection = False
    cursor_is_time = False
    SourceOptions = CsvOptions
    StreamOptions = CsvStream

    def extract(self, stream: Stream, options: CsvStream, cursor: str | None, spool: Spool) -> None:
        for path, identity in self._files_to_read(options, spool):
            for record in self._records_of(stream, path):
                spool.write(*record)
            spool.files.append(identity)

    def records(self, stream: Stream, options: CsvStream, cursor: str | None) -> Iterator[Record]:
        """Every record of every matching complete file (no memory of what was loaded: see :meth:`extract`)."""
        for path, _ in self._files_to_read(options, None):
            yield from self._records_of(stream, path)

    def _files_to_read(self, options: CsvStream, spool: Spool | None) -> list[tuple[Path, SourceFile]]:
        """The complete files whose content was not loaded yet, in name order; notes on the others go to the spool."""
        folder = self.options.resolved_folder()
        if not folder.is_dir():
            raise FileNotFoundError(f"{self.source_name}: export folder {folder} does not exist")
        suffix = self.options.ready_suffix
        matching = [p for p in sorted(folder.glob(options.glob)) if p.is_file() and not (suffix and p.name.endswith(suffix))]
        known = spool.known_files if spool is not None else {}
        notes = spool.notes if spool is not None else []
        waiting = [p for p in matching if suffix and not p.with_name(p.name + suffix).exists()]
        for p in waiting:
            notes.append(f"{p.name}: waiting for its marker {p.name + suffix} (the export may still be running)")
        ready = [p for p in matching if p not in waiting]
        sizes = {p: p.stat().st_size for p in ready}
        if ready and self.options.settle_seconds and not suffix:
            time.sleep(self.options.settle_seconds)
        chosen = []
        for p in ready:
            size = p.stat().st_size
            if size != sizes[p]:
                notes.append(f"{p.name}: still being written ({sizes[p]:,} then {size:,} bytes); read on a later run")
                continue
            identity = SourceFile(p.name, size, _sha256(p))
            if identity.sha256 in known.get(p.name, set()):
                continue
            if p.name in known:
                notes.append(f"{p.name}: re-exported with new content; read again (keys make it idempotent)")
            chosen.append((p, identity))
        if matching and not chosen and not waiting:
            notes.append(f"{len(matching)} file(s) match {options.glob!r} in {folder}, none is new (all loaded before)")
        elif not matching:
            notes.append(f"no file matches {options.glob!r} in {folder}")
        return chosen

    def _records_of(self, stream: Stream, path: Path) -> Iterator[Record]:
        """The records of one file, each with its origin (file:line) and whatever kept it from loading as it is."""
        encoding = self.options.encoding
        with open(path, "rb") as f:
            bom = f.read(3) == codecs.BOM_UTF8
        if bom and codecs.lookup(encoding).name != "utf-8-sig":
            raise CsvHeaderError(f"{path}: starts with a UTF-8 byte order mark, but sources.{self.source_name}.options."
                                 f"encoding is {encoding!r}, which would garble every non-ASCII value: set it to utf-8-sig")
        # surrogateescape: bytes the encoding cannot decode stay in the text as
        # markers, so one bad byte quarantines its row instead of stopping the file.
        with open(path, newline="", encoding=encoding, errors="surrogateescape") as f:
            reader = csv.reader(f, delimiter=self.options.delimiter)
            header = next(reader, None) or []
            missing = [c for c in stream.columns if c not in header]
            if missing:
                raise CsvHeaderError(
                    f"{path}: header lacks column(s) {', '.join(missing)} of stream {stream.name}; "
                    f"expected: {', '.join(stream.columns)} (check the file, or the delimiter {self.options.delimiter!r} "
                    f"and encoding {encoding!r} in sources.{self.source_name}.options)"
                )
            repeated = sorted({c for c in header if header.count(c) > 1 and c in stream.columns})
            if repeated:
                raise CsvHeaderError(f"{path}: header names column(s) {', '.join(repeated)} more than once")
            unknown = [c for c in header if c not in stream.columns]
            if unknown:
                log.info("%s: column(s) %s are not part of stream %s: kept in raw.%s._extra", path.name,
                         ", ".join(unknown), stream.name, stream.name)
            position = {c: header.index(c) for c in stream.columns}
            line = reader.line_num
            for fields in reader:
                start, line = line + 1, reader.line_num
                if not fields:
                    continue  # a blank line holds no record
                reject = None
                if len(fields) != len(header):
                    reject = (f"ragged row: {len(fields)} fields, the header has {len(header)} "
                              f"(an unquoted {self.options.delimiter!r} or a cut-off line?)")
                elif any(UNDECODED.search(value) for value in fields):
                    reject = (f"not valid {encoding}: bytes on {path.name} line {start} do not decode "
                              f"(set sources.{self.source_name}.options.encoding to the file's encoding)")
                row = {c: (fields[i] if i < len(fields) else None) or None for c, i in position.items()}
                extra = {c: fields[i] for i, c in enumerate(header) if c not in position and i < len(fields)}
                if len(fields) > len(header):
                    extra["_fields_beyond_the_header"] = fields[len(header):]
                yield row, path.name, Provenance(origin=f"{path.name}:{start}", extra=extra or None, reject=reject)
