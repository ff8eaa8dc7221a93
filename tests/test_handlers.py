"""Every handler against the botocore model it serves: a parameter a handler cannot do without
is one the model requires (botocore validates those), so a request leaving out an optional
member never reaches a handler that fails on it (a newer model may relax a requirement, as KMS
did for CreateGrant's GranteePrincipal)."""

from __future__ import annotations

import importlib
import inspect

import pytest

from nubo.protocols import load_service_model
from nubo.services import IMPLEMENTED
from nubo.services.base import ServiceProvider


def handlers(service: str):
    module = importlib.import_module(IMPLEMENTED[service])
    provider = next(v for k, v in vars(module).items()
                    if k.endswith("Provider") and isinstance(v, type)
                    and issubclass(v, ServiceProvider) and v is not ServiceProvider)
    for value in vars(provider).values():
        operation = getattr(value, "_nubo_operation", None)
        if operation is not None:
            yield operation, value


@pytest.mark.parametrize("service", sorted(IMPLEMENTED))
def test_handlers_require_only_what_the_model_requires(service):
    model = load_service_model(service)
    wrong = []
    for operation, fn in handlers(service):
        shape = model.operation_model(operation).input_shape
        members = set(shape.members) if shape else set()
        required = set(shape.required_members) if shape else set()
        for name, parameter in inspect.signature(fn).parameters.items():
            if name in ("self", "ctx") or parameter.kind is parameter.VAR_KEYWORD:
                continue
            if name not in members:
                wrong.append(f"{operation}: {name} is no member of the input")
            elif parameter.default is parameter.empty and name not in required:
                wrong.append(f"{operation}: {name} is optional in the model")
    assert not wrong, "\n".join(wrong)
