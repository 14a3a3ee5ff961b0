"""What every delivery step shares: the channel registry, one item per transaction, failures that do not hold back the rest.

Channels: a play routes its tasks to channels by name (``channels:`` in
playbooks.yml); each name is a :class:`Channel` registered by the module that
delivers it (``crm`` in crm.py; ``slack`` and ``email`` in digest.py, as
digest channels). Every module of ``delivery/`` is looked at when the names are
first needed, so a new digest channel is one module with one decorated send
function (see ``digest.digest_channel``) plus its name in playbooks.yml.

Each task pushed and each digest sent is its own transaction, so a failure
rolls back only that item. The step carries on with the others and fails at
the end naming what failed: Airflow's retry then redoes only those, because
everything that went through is recorded.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from psycopg.pq import TransactionStatus

from customer_health.registry import DELIVERY_CHANNELS

log = logging.getLogger(__name__)
Item = TypeVar("Item")


@dataclass(frozen=True)
class Channel:
    """A name plays can route tasks to, and what delivers them there."""

    name: str
    implementation: Callable[..., Any]


def register_channel(channel: Channel) -> Channel:
    return DELIVERY_CHANNELS.register(channel.name, channel)


def channels() -> list[Channel]:
    """Every registered channel, in registration order."""
    return [channel for _, channel in DELIVERY_CHANNELS.items()]


class DeliveryFailed(RuntimeError):
    """Some items could not be delivered; the others were, and are recorded (``delivered`` of them)."""

    def __init__(self, message: str, delivered: int = 0):
        super().__init__(message)
        self.delivered = delivered


def require_idle(conn: psycopg.Connection) -> None:
    """Each item must be a real transaction, not a savepoint inside the caller's."""
    if conn.info.transaction_status != TransactionStatus.IDLE:
        raise ValueError("delivery needs a connection with no transaction open (use autocommit=True)")


def deliver_each(items: Iterable[Item], deliver: Callable[[Item], int], *, what: str) -> int:
    """Call ``deliver`` for every item; return how many it delivered, or raise naming the ones that failed.

    ``deliver`` answers how many it delivered: a bool for one item, a count
    for a batch. A batch that itself raises :class:`DeliveryFailed` (some of
    its members went through) adds those to the count.
    """
    delivered, failures = 0, []
    for item in items:
        try:
            delivered += int(deliver(item))
        except DeliveryFailed as exc:
            delivered += exc.delivered
            log.error("%s: %s partly failed: %s", what, item, exc)
            failures.append(f"{item}: {exc}")
        except Exception as exc:  # noqa: BLE001 - one bad item must not hold back the others
            log.exception("%s: %s failed", what, item)
            failures.append(f"{item}: {exc}")
    if failures:
        raise DeliveryFailed(
            f"{what}: {len(failures)} failed, {delivered} delivered (a retry redoes only the failed ones): "
            + "; ".join(failures[:5])
            + (" ..." if len(failures) > 5 else ""),
            delivered,
        )
    return delivered
