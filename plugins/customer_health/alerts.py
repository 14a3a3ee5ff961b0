"""Tell the operator when a task fails: Airflow's own Slack webhook and SMTP notifiers.

Every DAG's ``default_args`` carries ``on_failure_callback=alert_on_failure``.
Which channels are on is decided when a task fails, not when the DAG file is
parsed (parsing must not touch the metadata database):

- Slack, when the Airflow connection ``alerts_slack`` (a Slack incoming
  webhook) exists;
- e-mail, when the connection ``alerts_smtp`` exists and
  ``CUSTOMER_HEALTH_ALERT_EMAIL`` names the recipients (comma-separated).

The message names the DAG, the task, the run's date and the first line of the
cause, so the person on call knows where to look before opening the UI.
Neither channel configured: the failure is only in the Airflow UI, and the log
says that no alert channel is set up.
"""
from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

ALERTS_SLACK_CONN_ID = "alerts_slack"
ALERTS_SMTP_CONN_ID = "alerts_smtp"
ALERT_EMAIL_ENV = "CUSTOMER_HEALTH_ALERT_EMAIL"


def alert_text(context) -> str:
    ti = context.get("task_instance") or context.get("ti")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    day = context.get("ds") or str(context.get("logical_date") or context.get("run_id") or "?")
    exception = context.get("exception")
    cause = str(exception).strip().splitlines()[0] if exception and str(exception).strip() else type(exception).__name__
    try_number = getattr(ti, "try_number", None)
    attempt = f" (try {try_number})" if try_number else ""
    return f"customer-health: {dag_id}.{task_id} failed for {day}{attempt}: {cause}"


def _connection_exists(conn_id: str) -> bool:
    from airflow.sdk import BaseHook  # noqa: PLC0415 - only at failure time

    try:
        BaseHook.get_connection(conn_id)
        return True
    except Exception:  # noqa: BLE001 - "not defined" has several exception types across versions
        return False


def alert_on_failure(context) -> None:
    """The on-failure callback of every task: send the alert on each configured channel."""
    text = alert_text(context)
    sent = []
    if _connection_exists(ALERTS_SLACK_CONN_ID):
        from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier  # noqa: PLC0415

        _send("slack", SlackWebhookNotifier(slack_webhook_conn_id=ALERTS_SLACK_CONN_ID, text=text), context, sent)
    recipients = [r.strip() for r in os.environ.get(ALERT_EMAIL_ENV, "").split(",") if r.strip()]
    if recipients and _connection_exists(ALERTS_SMTP_CONN_ID):
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier  # noqa: PLC0415

        notifier = SmtpNotifier(to=recipients, smtp_conn_id=ALERTS_SMTP_CONN_ID, subject=text[:200],
                                html_content=f"<p>{text}</p><p>See the task log in the Airflow UI.</p>")
        _send("email", notifier, context, sent)
    if not sent:
        log.warning("no alert channel configured (connections %s / %s): %s",
                    ALERTS_SLACK_CONN_ID, ALERTS_SMTP_CONN_ID, text)


def _send(name: str, notifier, context, sent: list[str]) -> None:
    # An alert that cannot be delivered must not hide the task's own failure: log and go on.
    try:
        notifier.notify(context)
        sent.append(name)
    except Exception:  # noqa: BLE001
        log.exception("could not send the %s alert", name)
