from nubo.services.sts.api import StsProvider

__all__ = ["StsProvider"]
