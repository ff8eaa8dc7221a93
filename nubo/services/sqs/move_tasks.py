"""Message move tasks: redrive a dead-letter queue's messages to their sources or another queue.

A task is a durable record; the provider's background loop calls ``run`` to move the next
messages, at the requested rate measured on nubo's clock (so tests can fast-forward it).
"""

from __future__ import annotations

import base64
import json
import uuid

from nubo.core.clock import Clock
from nubo.core.errors import ServiceError
from nubo.services.sqs import schema
from nubo.services.sqs.messages import Messages
from nubo.services.sqs.models import Queues, parse_queue_arn
from nubo.services.sqs.validation import invalid_parameter, invalid_value
from nubo.store import Store

RUNNING, COMPLETED, CANCELLED, FAILED = "RUNNING", "COMPLETED", "CANCELLED", "FAILED"
MAX_RATE = 500
DEFAULT_BATCH = 500  # messages per step when no rate is given ("system optimized")
MAX_LISTED = 10


def _task_handle(task_id: str, source_arn: str) -> str:
    return base64.b64encode(json.dumps({"taskId": task_id, "sourceArn": source_arn}).encode()
                            ).decode()


class MoveTasks:
    def __init__(self, store: Store, clock: Clock, queues: Queues, messages: Messages) -> None:
        self.clock = clock
        self.queues = queues
        self.messages = messages
        self.table = store.table(schema.MOVE_TASKS)

    def _existing_queue(self, parameter: str, arn: str):
        if parse_queue_arn(arn) is None:
            raise invalid_parameter(f"You must use this format to specify the {parameter}: "
                                    "arn:<partition>:<service>:<region>:<account-id>:<resource-id>")
        queue = self.queues.find_by_arn(arn)
        if queue is None:
            raise ServiceError("ResourceNotFoundException", "The resource that you specified for "
                                                            f"the {parameter} parameter doesn't exist.")
        return queue

    def start(self, source_arn: str, destination_arn: str | None, rate: int | None) -> str:
        source = self._existing_queue("SourceArn", source_arn)
        if not self.queues.has_dead_letter_sources(source):
            raise invalid_parameter("Source queue must be configured as a Dead Letter Queue.")
        if destination_arn is not None:
            self._existing_queue("DestinationArn", destination_arn)
        if rate is not None and not 1 <= rate <= MAX_RATE:
            raise invalid_value("MaxNumberOfMessagesPerSecond", rate,
                                f"Must be between 1 and {MAX_RATE}.")
        if any(task["source_arn"] == source_arn for task in self._running()):
            raise invalid_parameter("There is already a task running. Only one active task is "
                                    "allowed for a source queue arn at a given time.")
        task_id = str(uuid.uuid4())
        now = self.clock.now()
        self.table.put({
            "task_id": task_id, "source_arn": source_arn, "started": now, "status": RUNNING,
            "destination_arn": destination_arn, "rate": rate, "moved": 0,
            "to_move": self.messages.counts(source)["ApproximateNumberOfMessages"],
            "failure": None, "handle": _task_handle(task_id, source_arn),
        })
        return _task_handle(task_id, source_arn)

    def _running(self) -> list[dict]:
        return self.table.find("by_status", eq=(RUNNING,))

    def list(self, source_arn: str, max_results: int | None) -> list[dict]:
        self._existing_queue("SourceArn", source_arn)
        if max_results is not None and not 1 <= max_results <= MAX_LISTED:
            raise invalid_value("MaxResults", max_results, f"Must be between 1 and {MAX_LISTED}.")
        tasks = self.table.find("by_source", eq=(source_arn,), reverse=True,
                                limit=max_results or 1)
        return [_entry(task) for task in tasks]

    def cancel(self, handle: str) -> int:
        try:
            decoded = json.loads(base64.b64decode(handle, validate=True))
            task = self.table.get((decoded["taskId"],))
        except (ValueError, KeyError, TypeError):
            raise invalid_parameter("Value for parameter TaskHandle is invalid.") from None
        if task is None:
            raise ServiceError("ResourceNotFoundException", "Task does not exist.")
        if task["status"] != RUNNING:
            raise invalid_parameter("Only active tasks can be cancelled.")
        self.table.update((task["task_id"],), {"status": CANCELLED})
        return task["moved"]

    def run(self) -> bool:
        """Advance every running task by the messages its rate allows now; True while any
        task is still running."""
        running = self._running()
        for task in running:
            self._step(task)
        return bool(running)

    def _step(self, task: dict) -> None:
        now = self.clock.now()
        source = self.queues.find_by_arn(task["source_arn"])
        if source is None:
            return self._finish(task, FAILED, "AWS.SimpleQueueService.NonExistentQueue")
        allowed = DEFAULT_BATCH if task["rate"] is None else \
            int(task["rate"] * (now - task["started"])) - task["moved"]
        allowed = min(allowed, task["to_move"] - task["moved"])
        batch = self.messages.visible(source, allowed, now) if allowed > 0 else []
        for message in batch:
            target_arn = task["destination_arn"] or message.get("dead_letter_source")
            target = self.queues.find_by_arn(target_arn) if target_arn else None
            if target is None:
                return self._finish(task, FAILED, "AWS.SimpleQueueService.NonExistentQueue")
            self.messages.transfer(message, source, target)
            task["moved"] += 1
        if task["moved"] >= task["to_move"] or (allowed > 0 and len(batch) < allowed):
            return self._finish(task, COMPLETED)
        self.table.put(task)

    def _finish(self, task: dict, status: str, failure: str | None = None) -> None:
        task.update(status=status, failure=failure)
        self.table.put(task)


def _entry(task: dict) -> dict:
    entry = {
        "Status": task["status"],
        "SourceArn": task["source_arn"],
        "DestinationArn": task["destination_arn"],
        "MaxNumberOfMessagesPerSecond": task["rate"],
        "ApproximateNumberOfMessagesMoved": task["moved"],
        "ApproximateNumberOfMessagesToMove": task["to_move"],
        "FailureReason": task["failure"],
        "StartedTimestamp": int(task["started"] * 1000),
        # Only a running task can be cancelled, so only it shows its handle.
        "TaskHandle": task["handle"] if task["status"] == RUNNING else None,
    }
    return {key: value for key, value in entry.items() if value is not None}
