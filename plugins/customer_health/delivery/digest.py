"""One digest a day per CSM and channel (Slack, e-mail) listing the tasks the playbooks made for them that day.

Why a digest: a CSM gets one message a morning, not one per task. Tasks
without a CSM (the fallback queue) go to a configured queue channel and
address, one digest per queue.

Exactly once, as far as a send can be: per recipient and channel, one
transaction inserts the ``meta.digests_sent`` row (a concurrent run waits on
it, then finds it and sends nothing), writes the ``in_digest`` history rows,
sends, and commits. A failed send rolls everything back, so the next run
sends it; a rerun after a commit sends nothing. The remaining at-least-once
window is between a successful send and the commit (a crash or lost database
connection there): the next run sends that digest again. E-mails carry a
stable Message-ID per recipient, channel and day, so mail systems that
de-duplicate on it show one.

"That day" is the playbook day (``marts.csm_tasks.day``) and only tasks still
open; a task made for a day whose digest already went out is in the CRM but
in no digest.

Settings (``DigestSettings.from_env``): Airflow connections ``csm_slack``
(Slack incoming webhook), ``csm_smtp`` (SMTP, ``from_email`` in its extra),
and for the queue ``CSM_DIGEST_QUEUE_SLACK_CONN_ID`` (default: the CSM
webhook) and ``CSM_DIGEST_QUEUE_EMAIL`` (unset: queue tasks get no e-mail).
"""
from __future__ import annotations

import hashlib
import html
import json
import logging
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import psycopg

from customer_health.delivery.common import Channel, channels, deliver_each, register_channel, require_idle
from customer_health.paths import read_sql
from customer_health.warehouse.sqlfiles import fetch_one_sql_file, fetch_sql_file

log = logging.getLogger(__name__)

QUEUE_PREFIX = "queue:"
PRIORITY_ORDER = ("high", "medium", "low")


@dataclass(frozen=True)
class DigestSettings:
    slack_conn_id: str = "csm_slack"
    smtp_conn_id: str = "csm_smtp"
    queue_slack_conn_id: str | None = None  # None: the CSM webhook
    queue_email: str | None = None  # None: queue tasks get no e-mail digest
    from_email: str | None = None  # None: the SMTP connection's from_email extra

    @classmethod
    def from_env(cls) -> DigestSettings:
        env = os.environ
        return cls(
            slack_conn_id=env.get("CSM_DIGEST_SLACK_CONN_ID", cls.slack_conn_id),
            smtp_conn_id=env.get("CSM_DIGEST_SMTP_CONN_ID", cls.smtp_conn_id),
            queue_slack_conn_id=env.get("CSM_DIGEST_QUEUE_SLACK_CONN_ID") or None,
            queue_email=env.get("CSM_DIGEST_QUEUE_EMAIL") or None,
            from_email=env.get("CSM_DIGEST_FROM_EMAIL") or None,
        )


@dataclass(frozen=True)
class DigestTask:
    task_id: int
    play: str
    account: str
    title: str
    priority: str
    due_date: date
    reason: str


@dataclass(frozen=True)
class Digest:
    recipient: str  # the CSM's e-mail, or 'queue:<name>'
    day: date
    channel: str
    tasks: list[DigestTask]

    @property
    def queue(self) -> str | None:
        return self.recipient.removeprefix(QUEUE_PREFIX) if self.recipient.startswith(QUEUE_PREFIX) else None

    @property
    def audience(self) -> str:
        return f"queue {self.queue}" if self.queue else self.recipient


@dataclass(frozen=True)
class DigestChannel(Channel):
    """A channel that gets one digest per recipient and day; ``implementation(digest, settings)`` sends it."""

    conn_id: Callable[[DigestSettings], str] = lambda settings: ""
    """The Airflow connection the channel sends through; without it the channel is off."""
    reaches_queue: Callable[[DigestSettings], bool] = lambda settings: True
    """Whether queue tasks (no CSM) have somewhere to go on this channel."""


def digest_channel(name: str, *, conn_id: Callable[[DigestSettings], str],
                   reaches_queue: Callable[[DigestSettings], bool] = lambda settings: True):
    """Register the decorated ``send(digest, settings)`` as the digest channel ``name``."""
    def register(send: Callable[[Digest, DigestSettings], None]):
        register_channel(DigestChannel(name, send, conn_id=conn_id, reaches_queue=reaches_queue))
        return send

    return register


def digest_channels() -> list[DigestChannel]:
    return [channel for channel in channels() if isinstance(channel, DigestChannel)]


def send_digests(conn: psycopg.Connection, day: date, settings: DigestSettings = DigestSettings()) -> dict[str, int]:
    """Send every digest for ``day`` not sent yet; return how many went out per digest channel."""
    require_idle(conn)
    every = digest_channels()
    on = [c for c in every if _configured(c, settings)]
    with conn.transaction():
        pending = [(channel, r) for channel in on for r in _recipients(conn, day, channel, settings)]
    sent: Counter[str] = Counter()

    def deliver(item: tuple[DigestChannel, str]) -> bool:
        delivered = _deliver(conn, day, *item, settings)
        sent[item[0].name] += delivered
        return delivered

    deliver_each(pending, deliver, what="digest")
    return {channel.name: sent[channel.name] for channel in every}


def _configured(channel: DigestChannel, settings: DigestSettings) -> bool:
    """A team may use only one channel: one without an Airflow connection is off, and says so."""
    from airflow.sdk import BaseHook  # noqa: PLC0415 - Airflow only here

    conn_id = channel.conn_id(settings)
    try:
        BaseHook.get_connection(conn_id)
    except Exception:  # noqa: BLE001 - "not defined" has several exception types across Airflow versions
        log.warning("no Airflow connection %r: %s digests are off", conn_id, channel.name)
        return False
    return True


def _recipients(conn: psycopg.Connection, day: date, channel: DigestChannel, settings: DigestSettings) -> list[str]:
    recipients = [r["recipient"] for r in fetch_sql_file(
        conn, "delivery/digest_recipients.sql", {"day": day, "channel": channel.name, "queue_prefix": QUEUE_PREFIX})]
    if not channel.reaches_queue(settings):
        skipped = [r for r in recipients if r.startswith(QUEUE_PREFIX)]
        if skipped:
            log.warning("%s: nowhere to send queue digests (e.g. CSM_DIGEST_QUEUE_EMAIL unset): none for %s",
                        channel.name, skipped)
        recipients = [r for r in recipients if r not in skipped]
    return recipients


def _deliver(conn: psycopg.Connection, day: date, via: DigestChannel, recipient: str,
             settings: DigestSettings) -> bool:
    """Claim, record and send one digest in one transaction; a failed send rolls the claim back."""
    channel = via.name
    with conn.transaction():
        tasks = _tasks(conn, day, channel, recipient)
        if not tasks or not _claim(conn, day, channel, recipient, len(tasks)):
            return False  # nothing to send, or another run sent it
        conn.cursor().executemany(
            read_sql("delivery/digest_task_event.sql"),
            [{"task_id": t.task_id, "detail": json.dumps({"channel": channel, "recipient": recipient})} for t in tasks],
        )
        via.implementation(Digest(recipient, day, channel, tasks), settings)
    return True


def _tasks(conn: psycopg.Connection, day: date, channel: str, recipient: str) -> list[DigestTask]:
    rows = fetch_sql_file(conn, "delivery/digest_tasks.sql", {
        "day": day, "channel": channel, "recipient": recipient, "queue_prefix": QUEUE_PREFIX,
        "priorities": list(PRIORITY_ORDER)})
    return [DigestTask(row["task_id"], row["play"], row["account_name"], row["title"], row["priority"], row["due_date"],
                       row["reason"]) for row in rows]


def _claim(conn: psycopg.Connection, day: date, channel: str, recipient: str, tasks: int) -> bool:
    """Insert the digest's row; a concurrent run's insert waits for ours, then finds it."""
    return fetch_one_sql_file(conn, "delivery/digest_claim.sql", {
        "recipient": recipient, "day": day, "channel": channel, "tasks": tasks}) is not None


# --- rendering ---------------------------------------------------------------------------------------------------


def groups(digest: Digest) -> list[tuple[str, list[DigestTask]]]:
    """Tasks by priority, highest first (they arrive sorted by priority, due date)."""
    return [(p, [t for t in digest.tasks if t.priority == p]) for p in PRIORITY_ORDER
            if any(t.priority == p for t in digest.tasks)]


def _count(digest: Digest) -> str:
    n = len(digest.tasks)
    return f"{n} new task{'s' if n != 1 else ''}"


def slack_text(digest: Digest) -> str:
    """Slack mrkdwn; only &, < and > need escaping there."""
    def esc(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    lines = [f"*{_count(digest)} for {esc(digest.audience)} on {digest.day:%Y-%m-%d}*"]
    for priority, tasks in groups(digest):
        lines.append(f"\n*{priority.capitalize()} priority*")
        lines += [f"• *{esc(t.title)}* — {esc(t.account)} · `{t.play}` · due {t.due_date:%Y-%m-%d}\n"
                  f"      _{esc(t.reason)}_" for t in tasks]
    return "\n".join(lines)


def email_subject(digest: Digest) -> str:
    subject = f"[Customer health] {digest.day:%Y-%m-%d}: {_count(digest)} — {digest.tasks[0].title}"
    return subject if len(subject) <= 120 else subject[:119] + "…"


def email_html(digest: Digest) -> str:
    esc = html.escape
    parts = [f"<h2>{esc(_count(digest))} for {esc(digest.audience)} on {digest.day:%Y-%m-%d}</h2>"]
    for priority, tasks in groups(digest):
        rows = "".join(
            f"<tr><td><b>{esc(t.title)}</b><br><small>{esc(t.reason)}</small></td><td>{esc(t.account)}</td>"
            f"<td>{esc(t.play)}</td><td>{t.due_date:%Y-%m-%d}</td></tr>"
            for t in tasks
        )
        parts.append(f"<h3>{priority.capitalize()} priority</h3>"
                     '<table cellpadding="6" style="border-collapse:collapse">'
                     f"<tr><th align=left>Task and reason</th><th align=left>Account</th><th align=left>Play</th>"
                     f"<th align=left>Due</th></tr>{rows}</table>")
    parts.append("<p><small>The tasks are also in the CRM, with the who, what, when, where, why and how.</small></p>")
    return '<html><body style="font-family:sans-serif">' + "".join(parts) + "</body></html>"


def message_id(digest: Digest) -> str:
    """The same for every send of one digest, so a resend can be recognised as the same message."""
    key = hashlib.sha256(f"{digest.recipient}|{digest.day}|{digest.channel}".encode()).hexdigest()[:24]
    return f"<digest.{digest.day:%Y%m%d}.{key}@customer-health>"


# --- channels ----------------------------------------------------------------------------------------------------


@digest_channel("slack", conn_id=lambda settings: settings.slack_conn_id)
def _send_slack(digest: Digest, settings: DigestSettings) -> None:
    from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook  # noqa: PLC0415 - Airflow only here
    from slack_sdk.http_retry.builtin_handlers import (  # noqa: PLC0415
        ConnectionErrorRetryHandler,
        RateLimitErrorRetryHandler,
    )

    conn_id = (settings.queue_slack_conn_id or settings.slack_conn_id) if digest.queue else settings.slack_conn_id
    retries = [ConnectionErrorRetryHandler(), RateLimitErrorRetryHandler(max_retry_count=3)]  # 429: Retry-After
    hook = SlackWebhookHook(slack_webhook_conn_id=conn_id, retry_handlers=retries)
    hook.send(text=slack_text(digest), unfurl_links=False, unfurl_media=False)


@digest_channel("email", conn_id=lambda settings: settings.smtp_conn_id,
                reaches_queue=lambda settings: bool(settings.queue_email))
def _send_email(digest: Digest, settings: DigestSettings) -> None:
    from airflow.providers.smtp.hooks.smtp import SmtpHook  # noqa: PLC0415 - Airflow only here

    with SmtpHook(smtp_conn_id=settings.smtp_conn_id) as smtp:
        smtp.send_email_smtp(
            to=settings.queue_email if digest.queue else digest.recipient,
            subject=email_subject(digest),
            html_content=email_html(digest),
            from_email=settings.from_email,
            custom_headers={"Message-ID": message_id(digest)},
        )

