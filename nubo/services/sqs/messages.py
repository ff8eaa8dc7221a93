"""SQS messages: send, receive, delete, visibility, FIFO groups and deduplication, dead-letter
moves and retention.

Every operation touches a few rows through the indexes in schema.py:
- standard receive reads the front of (queue, received, visible_at) up to now;
- FIFO receive reads the groups that are ready (no message in flight, delay over) and the head
  messages of each group, so a locked group costs nothing however deep it is;
- receipt handles carry the queue id and message sequence, so a delete is one key lookup.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from typing import Callable, Iterable

from nubo.core.clock import Clock
from nubo.core.errors import ServiceError
from nubo.services.sqs import schema
from nubo.services.sqs.models import Queue, Queues
from nubo.services.sqs.validation import (
    MAX_DELAY_SECONDS, MAX_VISIBILITY_TIMEOUT, check_body, check_fifo_id,
    check_message_attributes, check_system_attributes, check_visibility_timeout,
    content_deduplication_id, invalid_parameter, invalid_value, md5_of_attributes, md5_of_body,
    message_size, missing_parameter)
from nubo.store import Store

DEDUPLICATION_INTERVAL = 300  # seconds a FIFO deduplication id is remembered
RECEIVE_ATTEMPT_INTERVAL = 300  # seconds a ReceiveRequestAttemptId can be retried
EXPIRY_BATCH = 500
SWEEP_BATCH = 200  # queues visited per background sweep
# Range bounds are [lo, hi): "visible at or before now" is "before now + a tick".
_TICK = 1e-6
_EPOCH_BITS = 40  # message seq = process epoch << 40 | messages sent by this process

SYSTEM_ATTRIBUTES = ("SenderId", "SentTimestamp", "ApproximateReceiveCount",
                     "ApproximateFirstReceiveTimestamp", "SequenceNumber",
                     "MessageDeduplicationId", "MessageGroupId", "AWSTraceHeader",
                     "DeadLetterQueueSourceArn")


def receipt_handle(message: dict) -> str:
    return base64.b64encode(
        f"{message['queue']}:{message['seq']}:{message['receipt']}".encode()).decode()


def _parse_receipt_handle(queue: Queue, handle: str) -> tuple[int, str]:
    """(message seq, receipt token); ReceiptHandleIsInvalid for anything we did not issue."""
    try:
        queue_id, seq, token = base64.b64decode(handle, validate=True).decode().split(":")
        if int(queue_id) == queue.id:
            return int(seq), token
    except (ValueError, binascii.Error, UnicodeDecodeError):
        pass
    raise ServiceError("ReceiptHandleIsInvalid",
                       f'The input receipt handle "{handle}" is not a valid receipt handle.')


class Messages:
    def __init__(self, store: Store, clock: Clock, queues: Queues,
                 notify: Callable[[int], None]) -> None:
        self.store = store
        self.clock = clock
        self.queues = queues
        self.notify = notify  # wakes long polls on a queue id
        self.table = store.table(schema.MESSAGES)
        self.groups = store.table(schema.GROUPS)
        # Messages stored per queue id: counted once per process, then kept by every insert
        # and delete, so GetQueueAttributes does not count a backlog and sends write no counter.
        self._stored: dict[int, int] = {}
        self.deduplication = store.table(schema.DEDUPLICATION)
        self.attempts = store.table(schema.RECEIVE_ATTEMPTS)
        self._sweep_cursor = 0  # queue id the next background sweep starts at
        # Message sequence numbers grow across restarts without a durable write per message:
        # each process start takes a new epoch, then counts in memory.
        self._next_seq = store.sequence("sqs_message_epoch") << _EPOCH_BITS

    # -- send -----------------------------------------------------------------------------

    def send(self, queue: Queue, body: str, delay_seconds: int | None = None,
             attributes: dict | None = None, system_attributes: dict | None = None,
             deduplication_id: str | None = None, group_id: str | None = None,
             sender_id: str = "") -> dict:
        """SendMessage's result; a FIFO duplicate answers with the original message's ids."""
        self._check_send(queue, body, delay_seconds, attributes, system_attributes,
                         deduplication_id, group_id)
        result = {"MD5OfMessageBody": md5_of_body(body),
                  "MD5OfMessageAttributes": md5_of_attributes(attributes),
                  "MD5OfMessageSystemAttributes": md5_of_attributes(system_attributes)}
        now = self.clock.now()
        if queue.fifo:
            deduplication_id = deduplication_id or content_deduplication_id(body)
            key = (f"{group_id}\n{deduplication_id}" if queue.deduplication_per_group
                   else deduplication_id)
            seen = self.deduplication.get((queue.id, key))
            if seen is not None and seen["expires"] > now:
                return _without_none(result | {"MessageId": seen["message_id"],
                                               "SequenceNumber": seen["sequence_number"]})
        seq = self._new_seq()
        delay = queue.number("DelaySeconds") if delay_seconds is None else delay_seconds
        message = {
            "queue": queue.id, "seq": seq, "received": 0, "visible_at": now + delay,
            "enqueued": now, "group_id": group_id,
            "id": str(uuid.uuid4()), "body": body, "attributes": attributes or None,
            "md5_body": result["MD5OfMessageBody"],
            "system": {name: value["StringValue"]
                       for name, value in (system_attributes or {}).items()},
            "sent": int(now * 1000), "sender": sender_id, "receive_count": 0,
            "first_receive": None, "receipt": None,
            "deduplication_id": deduplication_id,
            "sequence_number": _sequence_number(seq) if queue.fifo else None,
        }
        self._insert(queue, message)
        if queue.fifo:
            self.deduplication.put({"queue": queue.id, "dedup_key": key,
                                    "expires": now + DEDUPLICATION_INTERVAL,
                                    "message_id": message["id"],
                                    "sequence_number": message["sequence_number"]})
        return _without_none(result | {"MessageId": message["id"],
                                       "SequenceNumber": message["sequence_number"]})

    @staticmethod
    def _check_send(queue: Queue, body: str, delay_seconds: int | None, attributes: dict | None,
                    system_attributes: dict | None, deduplication_id: str | None,
                    group_id: str | None) -> None:
        check_body(body)
        if queue.fifo:
            if delay_seconds is not None:
                raise invalid_value("DelaySeconds", delay_seconds, "The request include "
                                    "parameter that is not valid for this queue type.")
            if group_id is None:
                raise missing_parameter("MessageGroupId")
            if deduplication_id is None and not queue.content_based_deduplication:
                raise invalid_parameter("The queue should either have ContentBasedDeduplication "
                                        "enabled or MessageDeduplicationId provided explicitly")
        elif deduplication_id is not None:
            raise invalid_value("MessageDeduplicationId", deduplication_id, "The request include "
                                "parameter that is not valid for this queue type.")
        check_fifo_id("MessageGroupId", group_id)
        check_fifo_id("MessageDeduplicationId", deduplication_id)
        if delay_seconds is not None and not 0 <= delay_seconds <= MAX_DELAY_SECONDS:
            raise invalid_value("DelaySeconds", delay_seconds, "DelaySeconds must be >= 0 and "
                                                               f"<= {MAX_DELAY_SECONDS}.")
        check_message_attributes(attributes)
        check_system_attributes(system_attributes)
        limit = queue.number("MaximumMessageSize")
        if message_size(body, attributes) > limit:
            raise invalid_parameter("One or more parameters are invalid. Reason: Message must be "
                                    f"shorter than {limit} bytes.")

    def _insert(self, queue: Queue, message: dict) -> None:
        self.table.put(message)
        self._count(queue.id, +1)
        if message["group_id"] is not None and queue.fifo and \
                self.groups.get((queue.id, message["group_id"])) is None:
            self.groups.put({"queue": queue.id, "group_id": message["group_id"],
                             "ready_at": message["visible_at"]})
        self.notify(queue.id)

    # -- receive --------------------------------------------------------------------------

    def receive(self, queue: Queue, max_messages: int, visibility_timeout: int | None,
                attempt_id: str | None, now: float) -> list[dict]:
        """Messages now in flight for the caller (each with a fresh `receipt`)."""
        self.expire(queue, now)
        timeout = queue.number("VisibilityTimeout") if visibility_timeout is None \
            else visibility_timeout
        if not queue.fifo:
            return self._receive_standard(queue, max_messages, timeout, now)
        if attempt_id is not None:
            replayed = self._replay_attempt(queue, attempt_id, timeout, now)
            if replayed is not None:
                return replayed
        received = self._receive_fifo(queue, max_messages, timeout, now)
        if attempt_id is not None and received:
            self.attempts.put({"queue": queue.id, "attempt_id": attempt_id,
                               "expires": now + RECEIVE_ATTEMPT_INTERVAL,
                               "messages": [[m["seq"], m["receipt"]] for m in received]})
        return received

    def visible(self, queue: Queue, limit: int, now: float) -> list[dict]:
        """Up to `limit` visible messages, redeliveries first, then by time they became
        visible."""
        found = self.table.find("by_visibility", eq=(queue.id, 1), hi=now + _TICK, limit=limit)
        if len(found) < limit:
            found += self.table.find("by_visibility", eq=(queue.id, 0), hi=now + _TICK,
                                     limit=limit - len(found))
        return found

    def _receive_standard(self, queue: Queue, max_messages: int, timeout: int,
                          now: float) -> list[dict]:
        received = []
        for message in self.visible(queue, max_messages, now):
            if not self._dead_lettered(queue, message):
                received.append(self._deliver(message, timeout, now))
        return received

    def _receive_fifo(self, queue: Queue, max_messages: int, timeout: int,
                      now: float) -> list[dict]:
        # As AWS: as many messages of one group as possible, oldest ready group first.
        received: list[dict] = []
        for group in self.groups.find("by_ready", eq=(queue.id,), hi=now + _TICK,
                                      limit=max_messages):
            self._receive_group(queue, group["group_id"], received, max_messages, timeout, now)
            self._refresh_group(queue.id, group["group_id"])
            if len(received) >= max_messages:
                break
        return received

    def _receive_group(self, queue: Queue, group_id: str, received: list[dict],
                       max_messages: int, timeout: int, now: float) -> None:
        """Take the group's messages in order into `received`; a message moved to the
        dead-letter queue makes room for the next one."""
        next_seq = None
        while len(received) < max_messages:
            head = self.table.find("by_group", eq=(queue.id, group_id), lo=next_seq,
                                   limit=max_messages - len(received))
            if not head:
                return
            for message in head:
                if message["visible_at"] > now + _TICK:
                    return  # still delayed: later messages of the group wait behind it
                next_seq = message["seq"] + 1
                if not self._dead_lettered(queue, message):
                    received.append(self._deliver(message, timeout, now))

    def _deliver(self, message: dict, timeout: int, now: float) -> dict:
        message["receive_count"] += 1
        if message["first_receive"] is None:
            message["first_receive"] = int(now * 1000)
        message.update(received=1, visible_at=now + timeout, received_at=now,
                       receipt=secrets.token_hex(12))
        self.table.put(message)
        return message

    def _replay_attempt(self, queue: Queue, attempt_id: str, timeout: int,
                        now: float) -> list[dict] | None:
        """A retried FIFO receive gets the same messages and handles while none of them was
        deleted or received again; their visibility timeout restarts."""
        attempt = self.attempts.get((queue.id, attempt_id))
        if attempt is None or attempt["expires"] <= now:
            return None
        messages = [self.table.get((queue.id, seq)) for seq, _ in attempt["messages"]]
        if any(m is None or m["receipt"] != token
               for m, (_, token) in zip(messages, attempt["messages"])):
            return None
        for message in messages:
            message.update(visible_at=now + timeout, received_at=now)
            self.table.put(message)
        for group_id in {m["group_id"] for m in messages}:
            self._refresh_group(queue.id, group_id)
        return messages

    def next_change(self, queue: Queue, now: float) -> float | None:
        """When a message of the queue may next become receivable (long polls sleep until
        then): the earliest delayed/in-flight message, or for FIFO the earliest locked group.
        ``now`` is the instant ``receive`` just used: a message becoming visible between two
        readings of the clock would otherwise be neither received nor waited for."""
        if queue.fifo:
            nexts = self.groups.find("by_ready", eq=(queue.id,), lo=now + _TICK, limit=1)
            return nexts[0]["ready_at"] if nexts else None
        times = [found[0]["visible_at"] for received in (0, 1)
                 if (found := self.table.find("by_visibility", eq=(queue.id, received),
                                              lo=now + _TICK, limit=1))]
        return min(times, default=None)

    # -- delete and visibility ------------------------------------------------------------

    def delete(self, queue: Queue, handle: str) -> None:
        seq, token = _parse_receipt_handle(queue, handle)
        message = self.table.get((queue.id, seq))
        if message is None:
            return  # deleted already: AWS answers success
        # A standard queue accepts an older handle; a FIFO handle expires with its visibility.
        if queue.fifo and (message["receipt"] != token or
                           message["visible_at"] <= self.clock.now()):
            raise invalid_value("ReceiptHandle", handle, "The receipt handle has expired.")
        self._remove(queue, message)

    def change_visibility(self, queue: Queue, handle: str, timeout: int) -> None:
        seq, token = _parse_receipt_handle(queue, handle)
        check_visibility_timeout(timeout)
        message = self.table.get((queue.id, seq))
        if message is None or message["receipt"] != token:
            raise invalid_value("ReceiptHandle", handle, "Message does not exist or is not "
                                                         "available for visibility timeout change.")
        now = self.clock.now()
        if message["visible_at"] <= now:
            raise ServiceError("MessageNotInflight", "The specified message isn't in flight.")
        if now + timeout - message["received_at"] > MAX_VISIBILITY_TIMEOUT:
            raise invalid_value("VisibilityTimeout", timeout, "Total VisibilityTimeout for the "
                                f"message is beyond the limit [{MAX_VISIBILITY_TIMEOUT} seconds]")
        message["visible_at"] = now + timeout
        self.table.put(message)
        if queue.fifo:
            self._refresh_group(queue.id, message["group_id"])
        self.notify(queue.id)

    def _remove(self, queue: Queue, message: dict) -> None:
        self.table.delete((queue.id, message["seq"]))
        self._count(queue.id, -1)
        if queue.fifo:
            self._refresh_group(queue.id, message["group_id"])

    # -- FIFO groups ----------------------------------------------------------------------

    def _refresh_group(self, queue_id: int, group_id: str) -> None:
        """Recompute when the group can next be received. Only a group's first messages can
        have been received (a group is locked while one is in flight and at most 10 are
        received at once), so its first 10 messages decide."""
        head = self.table.find("by_group", eq=(queue_id, group_id), limit=10)
        if not head:
            self.groups.delete((queue_id, group_id))
            return
        in_flight = [m["visible_at"] for m in head if m["received"]]
        self.groups.put({"queue": queue_id, "group_id": group_id,
                         "ready_at": max(in_flight + [head[0]["visible_at"]])})

    # -- dead letters and moves -----------------------------------------------------------

    def _dead_lettered(self, queue: Queue, message: dict) -> bool:
        """Moves the message to the dead-letter queue if this receive would exceed
        maxReceiveCount."""
        policy = queue.redrive_policy
        if policy is None or message["receive_count"] < policy["maxReceiveCount"]:
            return False
        target = self.queues.find_by_arn(policy["deadLetterTargetArn"])
        if target is None:
            return False
        self.transfer(message, queue, target, dead_letter_source=queue.arn)
        return True

    def transfer(self, message: dict, source: Queue, target: Queue,
                 dead_letter_source: str | None = None) -> None:
        """Move a message to another queue: into a dead-letter queue (keeping its receive count
        and, for standard queues, its retention clock) or back out of one by a move task."""
        self._remove(source, message)
        now = self.clock.now()
        seq = self._new_seq()
        moved = dict(message, queue=target.id, seq=seq, received=0, visible_at=now,
                     receipt=None, dead_letter_source=dead_letter_source,
                     sequence_number=_sequence_number(seq) if target.fifo else None)
        if target.fifo:
            moved["enqueued"] = now
        if dead_letter_source is None:
            moved.update(receive_count=0, first_receive=None)
        self._insert(target, moved)

    # -- counts, retention, purge ---------------------------------------------------------

    def _count(self, queue_id: int, delta: int) -> None:
        if queue_id in self._stored:
            self._stored[queue_id] += delta

    def _stored_messages(self, queue_id: int) -> int:
        if queue_id not in self._stored:
            self._stored[queue_id] = self.table.count(eq=(queue_id,))
        return self._stored[queue_id]

    def counts(self, queue: Queue) -> dict[str, int]:
        now = self.clock.now()
        self.expire(queue, now)
        stored = self._stored_messages(queue.id)
        delayed = self.table.count("by_visibility", eq=(queue.id, 0), lo=now + _TICK)
        in_flight = self.table.count("by_visibility", eq=(queue.id, 1), lo=now + _TICK)
        return {"ApproximateNumberOfMessages": max(stored - delayed - in_flight, 0),
                "ApproximateNumberOfMessagesNotVisible": in_flight,
                "ApproximateNumberOfMessagesDelayed": delayed}

    def expire(self, queue: Queue, now: float) -> None:
        """Delete the messages older than the queue's retention period."""
        cutoff = now - queue.number("MessageRetentionPeriod")
        if not queue.fifo:
            expired = self.table.delete_where("by_age", eq=(queue.id,), hi=cutoff)
            if expired:
                self._count(queue.id, -expired)
            return
        groups: set[str] = set()
        while batch := self.table.find("by_age", eq=(queue.id,), hi=cutoff, limit=EXPIRY_BATCH):
            for message in batch:
                self.table.delete((queue.id, message["seq"]))
                groups.add(message["group_id"])
            self._count(queue.id, -len(batch))
        for group_id in groups:
            self._refresh_group(queue.id, group_id)

    def purge(self, queue: Queue) -> None:
        self.queues.mark_purged(queue)
        self._delete_messages(queue)

    def _delete_messages(self, queue: Queue) -> None:
        self.table.delete_where(eq=(queue.id,))
        self.groups.delete_where(eq=(queue.id,))
        self._stored[queue.id] = 0

    def delete_queue(self, queue: Queue) -> None:
        self._delete_messages(queue)
        self.deduplication.delete_where(eq=(queue.id,))
        self.attempts.delete_where(eq=(queue.id,))
        self.queues.delete(queue)
        self.notify(queue.id)  # long polls on it end

    def _new_seq(self) -> int:
        self._next_seq += 1
        return self._next_seq

    def reset(self) -> None:
        self._sweep_cursor = 0
        self._stored.clear()

    def sweep(self) -> None:
        """Background housekeeping: retention for the next slice of queues (every queue is
        visited over successive calls), expired deduplication and receive attempt ids."""
        now = self.clock.now()
        queues = self.queues.after(self._sweep_cursor, SWEEP_BATCH)
        self._sweep_cursor = queues[-1].id + 1 if len(queues) == SWEEP_BATCH else 0
        for queue in queues:
            self.expire(queue, now)
        self.deduplication.delete_where("by_expiry", hi=now)
        self.attempts.delete_where("by_expiry", hi=now)


def _sequence_number(seq: int) -> str:
    # AWS's are 20+ digit, ever increasing numbers.
    return str(10**19 + seq)


def _without_none(result: dict) -> dict:
    return {key: value for key, value in result.items() if value is not None}


def render(queue: Queue, message: dict, system_names: Iterable[str],
           attribute_names: Iterable[str]) -> dict:
    """A received message in the API's Message shape, with the requested attributes."""
    result = {"MessageId": message["id"], "ReceiptHandle": receipt_handle(message),
              "MD5OfBody": message["md5_body"], "Body": message["body"]}
    system = _system_attributes(queue, message)
    wanted = set(system_names)
    selected = system if "All" in wanted else {k: v for k, v in system.items() if k in wanted}
    if selected:
        result["Attributes"] = selected
    attributes = _select_attributes(message["attributes"] or {}, list(attribute_names))
    if attributes:
        result["MessageAttributes"] = attributes
        result["MD5OfMessageAttributes"] = md5_of_attributes(attributes)
    return result


def _system_attributes(queue: Queue, message: dict) -> dict[str, str]:
    values = {
        "SenderId": message["sender"],
        "SentTimestamp": str(message["sent"]),
        "ApproximateReceiveCount": str(message["receive_count"]),
        "ApproximateFirstReceiveTimestamp": str(message["first_receive"] or message["sent"]),
        "SequenceNumber": message["sequence_number"],
        "MessageDeduplicationId": message["deduplication_id"] if queue.fifo else None,
        "MessageGroupId": message["group_id"],
        "AWSTraceHeader": message["system"].get("AWSTraceHeader"),
        "DeadLetterQueueSourceArn": message.get("dead_letter_source"),
    }
    return {name: value for name, value in values.items() if value is not None}


def _select_attributes(attributes: dict[str, dict], names: list[str]) -> dict[str, dict]:
    """MessageAttributeNames: All, .*, exact names, or prefixes like bar.*"""
    if not attributes or not names:
        return {}
    if "All" in names or ".*" in names:
        return attributes
    prefixes = tuple(name[:-1] for name in names if name.endswith(".*"))
    return {name: value for name, value in attributes.items()
            if name in names or (prefixes and name.startswith(prefixes))}
