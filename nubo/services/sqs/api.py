"""Amazon SQS handlers: one per operation of the 2012-11-05 API, over the json and query
protocols alike (the protocol engine parses and serializes; these see Python values)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from nubo.core.context import RequestContext
from nubo.core.errors import ServiceError
from nubo.core.runtime import Runtime
from nubo.policy import ResourcePolicy
from nubo.services.base import ServiceProvider, handler
from nubo.services.sqs.messages import Messages, render
from nubo.services.sqs.models import (Queue, QueueRef, Queues, parse_queue_arn, parse_queue_url,
                                      queue_url)
from nubo.services.sqs.move_tasks import MoveTasks
from nubo.services.sqs.validation import (MAX_BATCH_ENTRIES, MAX_WAIT_TIME_SECONDS,
                                          check_batch_entry_ids, check_batch_size, check_range,
                                          check_visibility_timeout)

log = logging.getLogger("nubo.sqs")

IDLE_HOUSEKEEPING = 1.0  # seconds between background sweeps
BUSY_HOUSEKEEPING = 0.1  # while message move tasks run


class QueueWaiters:
    """Long polls waiting for a queue to change. A waiter sleeps until notified or its
    timeout (computed by the caller from the next visibility change): no polling loop."""

    def __init__(self) -> None:
        self._waiting: dict[int, set[asyncio.Future]] = {}

    def notify(self, queue_id: int) -> None:
        for future in self._waiting.pop(queue_id, ()):
            if not future.done():
                future.set_result(None)

    def notify_all(self) -> None:
        for queue_id in list(self._waiting):
            self.notify(queue_id)

    async def wait(self, queue_id: int, timeout: float) -> None:
        future = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(queue_id, set()).add(future)
        try:
            await asyncio.wait((future,), timeout=timeout)
        finally:
            waiting = self._waiting.get(queue_id)
            if waiting is not None:
                waiting.discard(future)


class SqsProvider(ServiceProvider):
    service_name = "sqs"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.waiters = QueueWaiters()
        self.queues = Queues(runtime.store, runtime.clock)
        self.messages = Messages(runtime.store, runtime.clock, self.queues, self.waiters.notify)
        self.move_tasks = MoveTasks(runtime.store, runtime.clock, self.queues, self.messages)
        self._housekeeping_due = asyncio.Event()
        runtime.clock.subscribe(self._clock_advanced)

    # -- helpers --------------------------------------------------------------------------

    def _queue(self, ctx: RequestContext, url: str) -> Queue:
        return self.queues.get(parse_queue_url(url, ctx.account_id, ctx.region), ctx.protocol)

    @staticmethod
    def _url(ctx: RequestContext, ref: QueueRef) -> str:
        return queue_url(ctx.scheme, ctx.host, ref)

    # -- authorization hooks -------------------------------------------------------------------

    def resource_names(self, ctx: RequestContext, operation: str, params: dict) -> dict[str, str]:
        url = params.get("QueueUrl")
        if url:
            ref = parse_queue_url(url, ctx.account_id, ctx.region)
            return {"QueueName": ref.name, "Account": ref.account}
        return {}

    def resource_policy(self, ctx: RequestContext, arn: str) -> ResourcePolicy | None:
        queue = self.queues.find_by_arn(arn)
        if queue is not None:
            return ResourcePolicy(queue.attributes.get("Policy") or None, queue.ref.account,
                                  tags=tuple(queue.record["tags"].items()))
        ref = parse_queue_arn(arn)  # a queue that does not exist still has its owner
        return ResourcePolicy(None, ref.account) if ref else None

    def _clock_advanced(self) -> None:
        # Time jumped: long polls re-check, retention and move tasks catch up.
        self.waiters.notify_all()
        self._housekeeping_due.set()

    # -- queues ---------------------------------------------------------------------------

    @handler("CreateQueue")
    def create_queue(self, ctx: RequestContext, QueueName: str,
                     Attributes: dict[str, str] | None = None,
                     tags: dict[str, str] | None = None) -> dict:
        queue = self.queues.create(QueueRef(ctx.account_id, ctx.region, QueueName), Attributes,
                                   tags, new_id=lambda: self.runtime.store.sequence("sqs_queue"))
        return {"QueueUrl": self._url(ctx, queue.ref)}

    @handler("GetQueueUrl")
    def get_queue_url(self, ctx: RequestContext, QueueName: str,
                      QueueOwnerAWSAccountId: str | None = None) -> dict:
        ref = QueueRef(QueueOwnerAWSAccountId or ctx.account_id, ctx.region, QueueName)
        return {"QueueUrl": self._url(ctx, self.queues.get(ref, ctx.protocol).ref)}

    @handler("ListQueues")
    def list_queues(self, ctx: RequestContext, QueueNamePrefix: str | None = None,
                    NextToken: str | None = None, MaxResults: int | None = None) -> dict:
        refs, token = self.queues.list(ctx.account_id, ctx.region, QueueNamePrefix, MaxResults,
                                       NextToken)
        return _compact({"QueueUrls": [self._url(ctx, ref) for ref in refs], "NextToken": token})

    @handler("DeleteQueue")
    def delete_queue(self, ctx: RequestContext, QueueUrl: str) -> dict:
        self.messages.delete_queue(self._queue(ctx, QueueUrl))
        return {}

    @handler("GetQueueAttributes")
    def get_queue_attributes(self, ctx: RequestContext, QueueUrl: str,
                             AttributeNames: list[str] | None = None) -> dict:
        queue = self._queue(ctx, QueueUrl)
        return _compact({"Attributes": self.queues.get_attributes(queue, AttributeNames,
                                                                  self.messages.counts)})

    @handler("SetQueueAttributes")
    def set_queue_attributes(self, ctx: RequestContext, QueueUrl: str,
                             Attributes: dict[str, str]) -> dict:
        self.queues.set_attributes(self._queue(ctx, QueueUrl), Attributes)
        return {}

    @handler("PurgeQueue")
    def purge_queue(self, ctx: RequestContext, QueueUrl: str) -> dict:
        self.messages.purge(self._queue(ctx, QueueUrl))
        return {}

    @handler("TagQueue")
    def tag_queue(self, ctx: RequestContext, QueueUrl: str, Tags: dict[str, str]) -> dict:
        self.queues.tag(self._queue(ctx, QueueUrl), Tags)
        return {}

    @handler("UntagQueue")
    def untag_queue(self, ctx: RequestContext, QueueUrl: str, TagKeys: list[str]) -> dict:
        self.queues.untag(self._queue(ctx, QueueUrl), TagKeys)
        return {}

    @handler("ListQueueTags")
    def list_queue_tags(self, ctx: RequestContext, QueueUrl: str) -> dict:
        return _compact({"Tags": self._queue(ctx, QueueUrl).record["tags"]})

    @handler("AddPermission")
    def add_permission(self, ctx: RequestContext, QueueUrl: str, Label: str,
                       AWSAccountIds: list[str], Actions: list[str]) -> dict:
        self.queues.add_permission(self._queue(ctx, QueueUrl), Label, AWSAccountIds, Actions,
                                   self.model.operation_names)
        return {}

    @handler("RemovePermission")
    def remove_permission(self, ctx: RequestContext, QueueUrl: str, Label: str) -> dict:
        self.queues.remove_permission(self._queue(ctx, QueueUrl), Label)
        return {}

    @handler("ListDeadLetterSourceQueues")
    def list_dead_letter_source_queues(self, ctx: RequestContext, QueueUrl: str,
                                       NextToken: str | None = None,
                                       MaxResults: int | None = None) -> dict:
        refs, token = self.queues.dead_letter_sources(self._queue(ctx, QueueUrl), MaxResults,
                                                      NextToken)
        return _compact({"queueUrls": [self._url(ctx, ref) for ref in refs],
                         "NextToken": token}, keep=("queueUrls",))

    # -- messages -------------------------------------------------------------------------

    @handler("SendMessage")
    def send_message(self, ctx: RequestContext, QueueUrl: str, MessageBody: str,
                     DelaySeconds: int | None = None, MessageAttributes: dict | None = None,
                     MessageSystemAttributes: dict | None = None,
                     MessageDeduplicationId: str | None = None,
                     MessageGroupId: str | None = None) -> dict:
        return self.messages.send(self._queue(ctx, QueueUrl), MessageBody, DelaySeconds,
                                  MessageAttributes, MessageSystemAttributes,
                                  MessageDeduplicationId, MessageGroupId, ctx.account_id)

    @handler("SendMessageBatch")
    def send_message_batch(self, ctx: RequestContext, QueueUrl: str, Entries: list[dict]) -> dict:
        queue = self._queue(ctx, QueueUrl)
        check_batch_entry_ids(Entries, "SendMessageBatch")
        check_batch_size(Entries)
        return _batch(Entries, lambda entry: self.messages.send(
            queue, entry.get("MessageBody"), entry.get("DelaySeconds"),
            entry.get("MessageAttributes"), entry.get("MessageSystemAttributes"),
            entry.get("MessageDeduplicationId"), entry.get("MessageGroupId"), ctx.account_id))

    @handler("ReceiveMessage")
    async def receive_message(self, ctx: RequestContext, QueueUrl: str,
                              AttributeNames: list[str] | None = None,
                              MessageSystemAttributeNames: list[str] | None = None,
                              MessageAttributeNames: list[str] | None = None,
                              MaxNumberOfMessages: int | None = None,
                              VisibilityTimeout: int | None = None,
                              WaitTimeSeconds: int | None = None,
                              ReceiveRequestAttemptId: str | None = None) -> dict:
        check_range("MaxNumberOfMessages", MaxNumberOfMessages, 1, MAX_BATCH_ENTRIES,
                    f"Must be between 1 and {MAX_BATCH_ENTRIES}, if provided.")
        check_range("WaitTimeSeconds", WaitTimeSeconds, 0, MAX_WAIT_TIME_SECONDS,
                    f"Must be >= 0 and <= {MAX_WAIT_TIME_SECONDS}, if provided.")
        check_visibility_timeout(VisibilityTimeout)
        system_names = [*(AttributeNames or ()), *(MessageSystemAttributeNames or ())]
        store, clock = self.runtime.store, self.runtime.clock
        deadline = None
        while True:
            # One transaction per attempt, none across the await.
            with store.transaction():
                queue = self._queue(ctx, QueueUrl)
                now = clock.now()
                received = self.messages.receive(queue, MaxNumberOfMessages or 1,
                                                 VisibilityTimeout, ReceiveRequestAttemptId, now)
                if received:
                    return {"Messages": [render(queue, message, system_names,
                                                MessageAttributeNames or ())
                                         for message in received]}
                next_change = self.messages.next_change(queue, now)
            now = clock.now()
            if deadline is None:
                wait = queue.number("ReceiveMessageWaitTimeSeconds") \
                    if WaitTimeSeconds is None else WaitTimeSeconds
                deadline = now + wait
            if now >= deadline:
                return {}
            timeout = deadline - now if next_change is None else \
                min(deadline, next_change) - now
            await self.waiters.wait(queue.id, timeout)

    @handler("DeleteMessage")
    def delete_message(self, ctx: RequestContext, QueueUrl: str, ReceiptHandle: str) -> dict:
        self.messages.delete(self._queue(ctx, QueueUrl), ReceiptHandle)
        return {}

    @handler("DeleteMessageBatch")
    def delete_message_batch(self, ctx: RequestContext, QueueUrl: str,
                             Entries: list[dict]) -> dict:
        queue = self._queue(ctx, QueueUrl)
        check_batch_entry_ids(Entries, "DeleteMessageBatch")
        return _batch(Entries, lambda entry: self.messages.delete(queue, entry["ReceiptHandle"]))

    @handler("ChangeMessageVisibility")
    def change_message_visibility(self, ctx: RequestContext, QueueUrl: str, ReceiptHandle: str,
                                  VisibilityTimeout: int) -> dict:
        self.messages.change_visibility(self._queue(ctx, QueueUrl), ReceiptHandle,
                                        VisibilityTimeout)
        return {}

    @handler("ChangeMessageVisibilityBatch")
    def change_message_visibility_batch(self, ctx: RequestContext, QueueUrl: str,
                                        Entries: list[dict]) -> dict:
        queue = self._queue(ctx, QueueUrl)
        check_batch_entry_ids(Entries, "ChangeMessageVisibilityBatch")
        return _batch(Entries, lambda entry: self.messages.change_visibility(
            queue, entry["ReceiptHandle"], entry.get("VisibilityTimeout") or 0))

    # -- message move tasks ---------------------------------------------------------------

    @handler("StartMessageMoveTask")
    def start_message_move_task(self, ctx: RequestContext, SourceArn: str,
                                DestinationArn: str | None = None,
                                MaxNumberOfMessagesPerSecond: int | None = None) -> dict:
        handle = self.move_tasks.start(SourceArn, DestinationArn, MaxNumberOfMessagesPerSecond)
        self._housekeeping_due.set()
        return {"TaskHandle": handle}

    @handler("ListMessageMoveTasks")
    def list_message_move_tasks(self, ctx: RequestContext, SourceArn: str,
                                MaxResults: int | None = None) -> dict:
        return {"Results": self.move_tasks.list(SourceArn, MaxResults)}

    @handler("CancelMessageMoveTask")
    def cancel_message_move_task(self, ctx: RequestContext, TaskHandle: str) -> dict:
        return {"ApproximateNumberOfMessagesMoved": self.move_tasks.cancel(TaskHandle)}

    # -- lifecycle ------------------------------------------------------------------------

    async def background(self) -> None:
        """Retention sweeps, expiry of deduplication ids and deleted names, move tasks."""
        while True:
            busy = False
            try:
                with self.runtime.store.transaction():
                    self.messages.sweep()
                    self.queues.forget_deleted_names()
                    busy = self.move_tasks.run()
            except Exception:  # keep housekeeping alive; the error is ours to fix
                log.exception("SQS housekeeping failed")
            try:
                await asyncio.wait_for(self._housekeeping_due.wait(),
                                       BUSY_HOUSEKEEPING if busy else IDLE_HOUSEKEEPING)
            except asyncio.TimeoutError:
                pass
            self._housekeeping_due.clear()

    def reset(self) -> None:
        self.queues.reset()
        self.messages.reset()


def _batch(entries: list[dict], action: Callable[[dict], dict | None]) -> dict:
    """Run a batch entry by entry: each succeeds or fails on its own."""
    successful, failed = [], []
    for entry in entries:
        try:
            successful.append({"Id": entry["Id"], **(action(entry) or {})})
        except ServiceError as error:
            failed.append({"Id": entry["Id"], "SenderFault": error.sender_fault is not False,
                           "Code": error.code, "Message": error.message})
    return {"Successful": successful, "Failed": failed}


def _compact(output: dict[str, Any], keep: tuple[str, ...] = ()) -> dict:
    """Leave out empty members, as AWS does (except those the shape requires)."""
    return {key: value for key, value in output.items() if value or key in keep}
