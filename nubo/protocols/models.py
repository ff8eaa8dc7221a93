"""botocore service models with nubo's server-side patches, and per-protocol views of them.

A *view* exists because a service can speak a protocol its current model no longer describes:
SQS's model is JSON-only, but old SDKs still send query requests whose wire names (``Attribute.N``)
the JSON model lost. ``protocol_view`` returns the model to read and write a given protocol with:
the service model itself, or a copy with that protocol's patches (patches.PROTOCOL_VIEWS) applied.
Operations are looked up by name in the view, so the server only ever sees the main model.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Callable, Iterable, TypeVar

from botocore.loaders import Loader
from botocore.model import OperationModel, OperationNotFoundError, ServiceModel

from nubo.protocols import patches

_loader = Loader()
T = TypeVar("T")


@lru_cache(maxsize=None)
def load_service_model(name: str) -> ServiceModel:
    data = copy.deepcopy(_loader.load_service_model(name, "service-2"))
    patches.apply(name, data)
    model = ServiceModel(data, service_name=name)
    model._nubo_raw = data  # kept for building protocol views
    return model


@lru_cache(maxsize=None)
def _view(name: str, protocol: str) -> ServiceModel:
    base = load_service_model(name)
    data = copy.deepcopy(base._nubo_raw)
    patches.apply_view(name, protocol, data)
    return ServiceModel(data, service_name=name)


def protocol_view(service_model: ServiceModel, protocol: str) -> ServiceModel:
    if not patches.has_view(service_model.service_name, protocol):
        return service_model
    return _view(service_model.service_name, protocol)


def view_operation(operation: OperationModel, protocol: str) -> OperationModel:
    view = protocol_view(operation.service_model, protocol)
    return operation if view is operation.service_model else view.operation_model(operation.name)


def service_protocols(service_model: ServiceModel) -> list[str]:
    metadata = service_model.metadata
    return list(metadata.get("protocols") or [metadata["protocol"]])


def nubo_settings(service_model: ServiceModel) -> dict:
    """The ``nubo`` metadata block patches.py adds: wire conventions the model does not state."""
    return service_model.metadata.get("nubo", {})


def keeps_wire_value(shape) -> bool:
    """The ``nuboWireValue`` trait patches.py gives a shape whose values the service keeps in
    their wire form (documents.py writes them as they are)."""
    return bool(shape._shape_model.get("nuboWireValue"))


def plan_cache(owner: object, kind: str) -> dict:
    """A dict for compiled plans kept on ``owner`` (a model view or its shape resolver), so each
    shape is compiled once per model view."""
    caches = owner.__dict__.setdefault("_nubo_plans", {})
    return caches.setdefault(kind, {})


def structure_plan(shape, cache: dict, make: Callable[[list], T],
                   members: Callable[[], Iterable]) -> T:
    """A structure's compiled plan, built once per cache. ``make(entries)`` is cached before its
    member entries are compiled, so that a recursive shape's plan refers to itself."""
    found = cache.get(shape.name)
    if found is None:
        entries: list = []
        found = cache[shape.name] = make(entries)
        entries.extend(members())
    return found


def operation_plan(operation: OperationModel, kind: str, build: Callable[[], object]):
    """A plan compiled once per operation (its reader, writer, validator) and kept on it."""
    plans = operation.__dict__.get("_nubo_plans")
    if plans is None:
        plans = operation.__dict__["_nubo_plans"] = {}
    plan = plans.get(kind)
    if plan is None:
        plan = plans[kind] = build()
    return plan


def find_operation(view: ServiceModel, name: str) -> OperationModel | None:
    if not name:
        return None
    try:
        return view.operation_model(name)
    except OperationNotFoundError:
        return None
