"""The SQS tables. Every hot path reads and writes a handful of rows through these keys and
indexes, so its cost does not grow with the queue's depth or the number of queues."""

from nubo.store import TableSpec

# One row per queue. `id` names the queue's messages (a re-created queue starts empty);
# `dead_letter_arn` is the RedrivePolicy target, indexed for ListDeadLetterSourceQueues.
QUEUES = TableSpec(
    name="sqs_queues",
    key=("account", "region", "name"),
    columns={"account": "text", "region": "text", "name": "text", "id": "int",
             "dead_letter_arn": "text"},
    indexes={"by_dead_letter_arn": ("dead_letter_arn", "name"), "by_id": ("id",)},
)

# Names deleted in the last 60 seconds cannot be re-created (QueueDeletedRecently).
DELETED_QUEUES = TableSpec(
    name="sqs_deleted_queues",
    key=("account", "region", "name"),
    columns={"account": "text", "region": "text", "name": "text", "deleted": "real"},
    indexes={"by_deleted": ("deleted",)},
)

# Messages. `received` (0/1) splits never-received (maybe delayed) from received (maybe in
# flight) messages: receive reads the front of (queue, received, visible_at) up to now, the
# counts of delayed and in-flight messages are ranges after now. `enqueued` drives retention;
# `group_id` orders a FIFO message group.
MESSAGES = TableSpec(
    name="sqs_messages",
    key=("queue", "seq"),
    columns={"queue": "int", "seq": "int", "received": "int", "visible_at": "real",
             "enqueued": "real", "group_id": "text"},
    indexes={
        "by_visibility": ("queue", "received", "visible_at"),
        "by_age": ("queue", "enqueued"),
        "by_group": ("queue", "group_id", "seq"),
    },
)

# FIFO message groups that have messages. `ready_at`: when the group's head can be received
# (its delay is over and no message of the group is in flight).
GROUPS = TableSpec(
    name="sqs_groups",
    key=("queue", "group_id"),
    columns={"queue": "int", "group_id": "text", "ready_at": "real"},
    indexes={"by_ready": ("queue", "ready_at")},
)

# FIFO deduplication ids seen in the last 5 minutes (scoped per queue or per group).
DEDUPLICATION = TableSpec(
    name="sqs_deduplication",
    key=("queue", "dedup_key"),
    columns={"queue": "int", "dedup_key": "text", "expires": "real"},
    indexes={"by_expiry": ("expires",)},
)

# FIFO ReceiveRequestAttemptIds of the last 5 minutes and the messages they returned.
RECEIVE_ATTEMPTS = TableSpec(
    name="sqs_receive_attempts",
    key=("queue", "attempt_id"),
    columns={"queue": "int", "attempt_id": "text", "expires": "real"},
    indexes={"by_expiry": ("expires",)},
)

MOVE_TASKS = TableSpec(
    name="sqs_move_tasks",
    key=("task_id",),
    columns={"task_id": "text", "source_arn": "text", "started": "real", "status": "text"},
    indexes={"by_source": ("source_arn", "started"), "by_status": ("status", "started")},
)
