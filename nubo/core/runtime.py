"""What every service shares: configuration, the store, the clock, the other services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nubo.config import Config
from nubo.core.clock import Clock
from nubo.store import Store

if TYPE_CHECKING:
    from nubo.gateway.authorization import Authorizer
    from nubo.services import ServiceRegistry


@dataclass
class Runtime:
    config: Config
    store: Store
    clock: Clock = field(default_factory=Clock)
    services: "ServiceRegistry | None" = None
    authorizer: "Authorizer | None" = None
