"""Kind ``csv``: export files any CRM or survey tool can produce.

Each stream reads the files in ``folder`` that match its ``glob``, in name
order, skipping those already loaded: the file name is the cursor, so name
exports so that they sort by time (``accounts_20261122.csv``). The header row
must hold the stream's canonical column names (others are ignored); an empty
cell is null.
"""
from __future__ import annotations

import codecs
import csv
import os
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator

from customer_health.contracts.streams import Stream
from customer_health.paths import REPO_ROOT
from customer_health.sources.base import Extractor, Record


class CsvOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    folder: str
    """Folder of the exports; ${VARS} expand, a relative path is taken from the repo root."""
    delimiter: str = ","
    encoding: str = "utf-8-sig"

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


class CsvExportExtractor(Extractor):
    kind = "csv"
    needs_connection = False
    SourceOptions = CsvOptions
    StreamOptions = CsvStream

    def records(self, stream: Stream, options: CsvStream, cursor: str | None) -> Iterator[Record]:
        folder = self.options.resolved_folder()
        if not folder.is_dir():
            raise FileNotFoundError(f"{self.source_name}: export folder {folder} does not exist")
        for path in sorted(folder.glob(options.glob)):
            if cursor is not None and path.name <= cursor:
                continue
            with open(path, newline="", encoding=self.options.encoding) as f:
                reader = csv.DictReader(f, delimiter=self.options.delimiter)
                missing = [c for c in stream.columns if c not in (reader.fieldnames or [])]
                if missing:
                    raise CsvHeaderError(
                        f"{path}: header lacks column(s) {', '.join(missing)} of stream {stream.name}; "
                        f"expected: {', '.join(stream.columns)}"
                    )
                for record in reader:
                    yield {c: (record.get(c) or None) for c in stream.columns}, path.name
