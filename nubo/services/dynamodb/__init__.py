from nubo.services.dynamodb.api import DynamodbProvider

__all__ = ["DynamodbProvider"]
