from nubo.services.ssm.api import SsmProvider

__all__ = ["SsmProvider"]
