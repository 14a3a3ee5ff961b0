"""The standard KPIs: each column of ``marts.account_daily_kpis`` the tuned statement computes, and its stream.

Pure data (the bottom layer). Their labels, descriptions and units, and the
custom KPIs, come from ``kpis.yml``: ``config/kpi_catalog.py`` joins both into
the catalogue scorecards, plays and reports ask (``catalogue()``,
``numeric_kpis()``, ``all_kpis()``, ``label()``). The data-quality gate uses the
stream to know which measures a stale feed affects.
"""
from __future__ import annotations


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
