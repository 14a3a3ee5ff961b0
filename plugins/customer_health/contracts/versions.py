"""Config versions: the content hash that tags every result with the exact config that made it.

Pure so that any layer computes the same version from the same bytes: the
config loader from the files it reads, and anyone from a copy kept elsewhere
(``meta.scorecard_versions.source_yaml`` keeps the text of each version).
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable


def content_version(files: Iterable[tuple[str, bytes]]) -> str:
    """Version of config files given as (file name, content) in a stable order: 12 hex digits of SHA-256."""
    digest = hashlib.sha256()
    for name, content in files:
        digest.update(name.encode())
        digest.update(content)
    return digest.hexdigest()[:12]


def scoring_version(scorecards: str, kpis: str) -> str:
    """The version stamped on scores: both files that decide a score (scorecards.yml, kpis.yml), by their versions."""
    return hashlib.sha256(f"kpis={kpis}\nscorecards={scorecards}".encode()).hexdigest()[:12]
