"""Amazon DynamoDB and DynamoDB Streams on nubo's store.

Layout: api.py (DynamoDB handlers), streams_api.py (the dynamodbstreams handlers); models.py
(tables, key schemas, CreateTable/UpdateTable rules, DescribeTable), settings.py (PITR,
resource policies, Kinesis destinations), items.py (rows, index maintenance, TTL, counts),
requests.py (Get/Put/Update/DeleteItem requests), queries.py (Query/Scan), batches.py (batches
and transactions), statements.py + partiql.py (PartiQL), backups.py (backups and restores),
transfers.py (exports to and imports from S3, background jobs),
streams.py (stream records); values.py (attribute values, numbers, sizes, key encoding),
expressions.py (the expression parser), evaluation.py (conditions, projections, updates),
legacy.py (pre-expression parameters), reserved.py (reserved words); schema.py (store tables).
"""

from nubo.services.dynamodb.api import DynamodbProvider

__all__ = ["DynamodbProvider"]
