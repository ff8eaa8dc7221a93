from nubo.services.secretsmanager.api import SecretsmanagerProvider

__all__ = ["SecretsmanagerProvider"]
