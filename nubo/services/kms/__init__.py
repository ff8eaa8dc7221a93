from nubo.services.kms.api import KmsProvider

__all__ = ["KmsProvider"]
