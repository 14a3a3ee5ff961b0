"""A stranger's data: a consumer music-subscription app, written without looking at the shipped config.

The demo generator (``demo/world.py``) grew up next to ``include/config`` and fits it. This one is the
product a new team brings: one listener per account, no CSM, no employee counts in the CRM export, a
monthly subscription (one contract per 30-day period), and its own event names. The shipped
``kpis.yml`` counts none of them (``login``, ``message_sent`` ...), so the trial shows what the product
says to such a team and whether its fitting finds what is there.

``signal=True``: a listener about to cancel opens the app as often as ever (active days, distinct
features and sessions do not move) but plays fewer and fewer tracks over the 60 days before the
subscription ends: only KPIs counting ``track_played`` see it, once ``kpis.yml`` says those are the
core actions. ``signal=False``: cancellations are drawn independently of all usage, while usage grows
with the calendar (the app improves, everyone listens more each month) and new sign-ups start low:
scores and KPIs drift upwards, which a design judging churners on other days than the rest would
take for signal.

Writes CSV exports in canonical column names, as the README's CSV source kind reads them:
``accounts_<day>.csv`` (crm_accounts), ``subscriptions_<day>.csv`` (crm_contracts) and one
``events_<month>.csv`` per month (usage_events). Deterministic for a seed.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np

EVENTS = ("app_opened", "track_played", "track_liked", "playlist_created", "artist_followed")
PERIOD_DAYS = 30
PRICE_PER_YEAR = 119.88
DECLINE_DAYS = 60  # how long before cancelling a listener starts playing less


@dataclass
class Written:
    folder: Path
    accounts: int
    churned: int
    events: int
    first_day: date
    last_day: date


def generate(folder: Path, *, listeners: int = 600, days: int = 215, last_day: date = date(2026, 6, 30),
             monthly_churn: float = 0.035, signal: bool = True, seed: int = 7) -> Written:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    first_day = last_day - timedelta(days=days - 1)
    ids = [f"lst-{i:05d}" for i in range(listeners)]
    # 70 % were listeners before the data starts (up to two years), the rest sign up during it.
    before = rng.random(listeners) < 0.7
    signup_offset = np.where(before, -rng.integers(30, 730, listeners), rng.integers(0, days - 40, listeners))
    signup = [first_day + timedelta(days=int(o)) for o in signup_offset]
    # A subscription ends at the end of a 30-day period; each period end is a chance to cancel.
    churn_on: list[date | None] = []
    for start in signup:
        end, cancelled = start + timedelta(days=PERIOD_DAYS), None
        while end <= last_day:
            if end >= first_day and rng.random() < monthly_churn:
                cancelled = end
                break
            end += timedelta(days=PERIOD_DAYS)
        churn_on.append(cancelled)

    _write(folder / f"accounts_{last_day:%Y%m%d}.csv",
           ["account_id", "name", "parent_account_id", "csm_owner_id", "employees", "industry", "region",
            "lifecycle_stage", "created_at"],
           ([a, f"Listener {a[4:]}", "", "", "", "", str(rng.choice(["JP", "US", "DE", "BR"])), "subscriber",
             s.isoformat()] for a, s in zip(ids, signup)))
    contracts = []
    for a, start, cancelled in zip(ids, signup, churn_on):
        period = start
        while period <= last_day and (cancelled is None or period < cancelled):
            end = period + timedelta(days=PERIOD_DAYS)
            if end >= first_day - timedelta(days=PERIOD_DAYS):
                status = "active" if end > last_day else "renewed"
                contracts.append([f"sub-{a}-{period:%Y%m%d}", a, period.isoformat(), end.isoformat(),
                                  f"{PRICE_PER_YEAR:.2f}", "churned" if end == cancelled else status])
            period = end
    _write(folder / f"subscriptions_{last_day:%Y%m%d}.csv",
           ["contract_id", "account_id", "start_date", "end_date", "arr", "status"], contracts)

    # Listening habits: how often one opens the app, how many tracks a visit plays.
    open_rate = rng.beta(2, 3, listeners)
    plays_per_visit = rng.gamma(5.0, 0.8, listeners)
    events, month_rows, month = 0, [], None
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        if month is not None and day.month != month.month:
            events += _write_events(folder, month, month_rows)
            month_rows = []
        month = day
        calendar = 1.0 if signal else 0.5 + 1.0 * offset / days  # without signal: usage grows with the calendar
        for i, a in enumerate(ids):
            start, cancelled = signup[i], churn_on[i]
            if day < start or (cancelled is not None and day >= cancelled):
                continue
            onboarding = 1.0 if signal else min(1.0, 0.3 + (day - start).days / 45)
            if rng.random() >= open_rate[i] * min(1.0, calendar * onboarding):
                continue
            decline = 1.0
            if signal and cancelled is not None:
                left = (cancelled - day).days
                decline = 0.05 + 0.95 * min(1.0, left / DECLINE_DAYS)
            rate = plays_per_visit[i] * calendar * onboarding
            counts = {
                "app_opened": 1 + rng.poisson(0.4),
                "track_played": rng.poisson(rate * decline),
                "track_liked": rng.poisson(0.3 * rate * decline),
                "playlist_created": rng.poisson(0.03),
                "artist_followed": rng.poisson(0.02),
            }
            seconds = rng.integers(0, 86_400 - 3_600)
            for name in EVENTS:
                for n in range(counts[name]):
                    at = datetime.combine(day, datetime.min.time(), timezone.utc) + timedelta(seconds=int(seconds) + 60 * n)
                    duration = int(rng.integers(120, 900)) if name == "app_opened" else (
                        int(rng.integers(90, 300)) if name == "track_played" else "")
                    month_rows.append([f"ev-{a}-{offset}-{name}-{n}", a, a, name, at.isoformat(), duration])
    events += _write_events(folder, month, month_rows)
    return Written(folder, listeners, sum(c is not None for c in churn_on), events, first_day, last_day)


def _write_events(folder: Path, month: date, rows: list[list]) -> int:
    _write(folder / f"events_{month:%Y%m}.csv",
           ["event_id", "account_id", "user_id", "event_name", "occurred_at", "duration_seconds"], rows)
    return len(rows)


def _write(path: Path, header: list[str], rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


# The source entry a team appends to include/config/sources.yml for these exports (README "Adding a source").
SOURCE_ENTRY = """\
  listening_app:
    kind: csv
    description: The music app's nightly exports - listeners, subscriptions, events
    owner: growth-data
    schedule: "0 1 * * *"
    options:
      folder: {folder}
    streams:
      crm_accounts: {{glob: "accounts_*.csv", min_rows: 1}}
      crm_contracts: {{glob: "subscriptions_*.csv"}}
      usage_events: {{glob: "events_*.csv"}}
"""

# kpis.yml as the team maps it to its own events (README "Another product's events").
KPIS_YML = """\
# The music app: opening the app is the session; playing, liking and building playlists are the value.
login_event: app_opened
core_actions:
  - track_played
  - track_liked
  - playlist_created
milestones:
  - playlist_created
  - artist_followed
"""
