from nubo.services.sqs.api import SqsProvider

__all__ = ["SqsProvider"]
