"""Every KPI a scorecard, play or report may name: the standard ones and those ``kpis.yml`` declares.

The standard KPIs and their streams are pure data (``contracts/kpi_catalog.py``);
the labels and the custom KPIs come from ``include/config/kpis.yml``, so the
catalogue that joins them lives in the config layer, re-read when the file changes.
Scorecards and playbooks may only name KPIs of ``catalogue()`` (a typo is a
config error, not a NULL measure).

The stream of a custom KPI: ``usage_events`` for the event kinds, the stream
it reads for ``tenure`` (since the first event: ``usage_events``), ``contract``,
``survey`` and ``crm``; for a ratio
or change, its operands' streams. When those differ (a per-seat ratio reads
usage and licences) the KPI is given ``usage_events`` if any operand reads it,
else the first operand's: the gate then carries the last good value when
usage goes stale, the feed that moves a usage ratio day to day; a stale CRM
feed under such a ratio is not gated (said in the evaluation's stream column).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from customer_health.config.kpis import KIND_STREAMS, KpisFile, kpis_path, load_kpis, operands
from customer_health.contracts.kpi_catalog import ALL_KPIS, NUMERIC_KPIS, USAGE


@dataclass(frozen=True)
class KpiInfo:
    name: str
    numeric: bool
    stream: str | None
    label: str
    description: str
    unit: str | None
    kind: str | None  # None: standard


def catalogue(path: Path | None = None) -> dict[str, KpiInfo]:
    """Every KPI of the mart: the standard ones (labelled by kpis.yml when it does) and the custom ones of kpis.yml."""
    path = path or kpis_path()
    stamp = path.stat().st_mtime_ns if path.is_file() else None
    return _catalogue(path, stamp)


@lru_cache(maxsize=8)
def _catalogue(path: Path, stamp: int | None) -> dict[str, KpiInfo]:
    config = load_kpis(path)[0] if stamp is not None else KpisFile()
    found: dict[str, KpiInfo] = {}
    for name, stream in ALL_KPIS.items():
        entry = config.kpis.get(name)
        found[name] = KpiInfo(name, name in NUMERIC_KPIS, stream, entry.label if entry else name.replace("_", " "),
                              entry.description if entry else "", entry.unit if entry else None, None)

    def stream_of(name: str) -> str | None:
        if name in found:
            return found[name].stream
        entry = config.kpis[name]
        if entry.tenure and entry.tenure.since == "first_event":
            return USAGE
        if entry.kind in KIND_STREAMS:
            return KIND_STREAMS[entry.kind]
        if not entry.ratio and not entry.change:
            return USAGE
        streams = [stream_of(o) for o in operands(entry)]
        return USAGE if USAGE in streams else streams[0]

    for name, entry in config.custom().items():
        found[name] = KpiInfo(name, True, stream_of(name), entry.label, entry.description, entry.unit, entry.kind)
    return found


def numeric_kpis() -> dict[str, str | None]:
    """Numeric KPI -> stream, standard and custom."""
    return {name: info.stream for name, info in catalogue().items() if info.numeric}


def all_kpis() -> dict[str, str | None]:
    """Every KPI -> stream, standard and custom."""
    return {name: info.stream for name, info in catalogue().items()}


def label(name: str) -> str:
    """What a CSM reads for a KPI (its kpis.yml label; the name when it has none)."""
    info = catalogue().get(name)
    return info.label if info else name
