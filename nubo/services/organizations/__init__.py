from nubo.services.organizations.api import OrganizationsProvider

__all__ = ["OrganizationsProvider"]
