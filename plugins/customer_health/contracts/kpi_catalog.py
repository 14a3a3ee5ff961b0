"""The one place that says which KPIs exist: numeric or text, which stream feeds each, label, description, unit.

Standard KPIs (computed by ``marts/account_daily_kpis.sql``) are listed in
code below; their labels, descriptions and units come from ``kpis.yml``.
Custom KPIs come from ``kpis.yml`` alone (``kpis:`` entries with a kind).
Scorecards and playbooks may only name KPIs of ``catalogue()`` (a typo is a
config error, not a NULL measure), and the data-quality gate uses the stream
to know which measures a stale feed affects.

The stream of a custom KPI: ``usage_events`` for the event kinds; for a ratio
or change, its operands' streams. When those differ (a per-seat ratio reads
usage and licences) the KPI is given ``usage_events`` if any operand reads it,
else the first operand's: the gate then carries the last good value when
usage goes stale, the feed that moves a usage ratio day to day; a stale CRM
feed under such a ratio is not gated (said in the evaluation's stream column).

``NUMERIC_KPIS`` / ``TEXT_KPIS`` / ``ALL_KPIS`` stay the standard KPIs (code
that needs a fixed set); ``numeric_kpis()`` / ``all_kpis()`` add the custom
ones of the kpis.yml in force.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

USAGE = "usage_events"

# KPI column -> the staging stream it is computed from (None: CRM attributes / derived from several)
NUMERIC_KPIS: dict[str, str | None] = {
    "employees": "crm_accounts",
    "tenure_days": "crm_accounts",
    "logins_7d": USAGE,
    "logins_30d": USAGE,
    "active_days_7d": USAGE,
    "active_days_30d": USAGE,
    "active_users_7d": USAGE,
    "active_users_30d": USAGE,
    "licensed_seats": "licences",
    "issued_seats": "users",
    "seat_utilisation": USAGE,
    "logins_per_seat_30d": USAGE,
    "features_used_30d": USAGE,
    "core_actions_30d": USAGE,
    "core_actions_per_active_user_30d": USAGE,
    "core_actions_per_employee_30d": USAGE,
    "session_minutes_30d": USAGE,
    "avg_session_minutes_30d": USAGE,
    "logins_change_30d_pct": USAGE,
    "active_users_change_30d_pct": USAGE,
    "days_since_last_login": USAGE,
    "milestones_reached": USAGE,
    "arr": "crm_contracts",
    "days_to_renewal": "crm_contracts",
    "expansions_12m": "crm_expansions",
    "nps_latest": "survey_responses",
    "csat_avg_90d": "survey_responses",
    "csm_sentiment_latest": "crm_sentiment",
}

TEXT_KPIS: dict[str, str] = {
    "industry": "crm_accounts",
    "region": "crm_accounts",
    "lifecycle_stage": "crm_accounts",
    "contract_status": "crm_contracts",
    "csm_owner_id": "crm_accounts",
    "parent_account_id": "crm_accounts",
}

ALL_KPIS = {**NUMERIC_KPIS, **TEXT_KPIS}

STANDARD_KPIS = ALL_KPIS


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
    from customer_health.config.kpis import kpis_path  # noqa: PLC0415 - config imports this module

    path = path or kpis_path()
    stamp = path.stat().st_mtime_ns if path.is_file() else None
    return _catalogue(path, stamp)


@lru_cache(maxsize=8)
def _catalogue(path: Path, stamp: int | None) -> dict[str, KpiInfo]:
    from customer_health.config.kpis import KpisFile, load_kpis, operands  # noqa: PLC0415

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
