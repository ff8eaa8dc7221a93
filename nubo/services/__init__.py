"""The services nubo implements, loaded on first use."""

from __future__ import annotations

import importlib
import threading

from nubo.core.runtime import Runtime
from nubo.services.base import ServiceProvider

# botocore service name -> package holding its provider (one folder per service, same shape).
IMPLEMENTED: dict[str, str] = {
    "sqs": "nubo.services.sqs",
    "sts": "nubo.services.sts",
}


class ServiceRegistry:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._providers: dict[str, ServiceProvider] = {}
        self._lock = threading.Lock()
        runtime.services = self

    def get(self, service: str) -> ServiceProvider | None:
        """The provider of ``service``, or None if nubo does not implement it."""
        provider = self._providers.get(service)
        if provider is not None or service not in IMPLEMENTED:
            return provider
        with self._lock:
            provider = self._providers.get(service)
            if provider is None:
                module = importlib.import_module(IMPLEMENTED[service])
                cls = next(v for k, v in vars(module).items()
                           if k.endswith("Provider") and isinstance(v, type)
                           and issubclass(v, ServiceProvider) and v is not ServiceProvider)
                provider = cls(self.runtime)
                self._providers[service] = provider
        return provider

    def loaded(self) -> list[ServiceProvider]:
        return list(self._providers.values())

    def states(self) -> dict[str, str]:
        """Health view: 'running' once loaded, 'available' before."""
        return {name: "running" if name in self._providers else "available"
                for name in sorted(IMPLEMENTED)}
