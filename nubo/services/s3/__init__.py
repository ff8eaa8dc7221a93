from nubo.services.s3.api import S3Provider

__all__ = ["S3Provider"]
