from nubo.services.iam.api import IamProvider

__all__ = ["IamProvider"]
