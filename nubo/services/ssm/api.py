"""AWS Systems Manager handlers: Parameter Store (json protocol). Other Systems Manager
operations have no handler yet and answer 501. SecureString values are encrypted through KMS
in-process (``runtime.services.call``)."""

from __future__ import annotations

import asyncio
import base64
import binascii
from itertools import islice

from nubo.core.context import RequestContext
from nubo.core.errors import ServiceError
from nubo.core.runtime import Runtime
from nubo.services.base import ServiceProvider, handler, sweep_forever
from nubo.services.ssm.filters import BY_PATH_KEYS, compile_filters
from nubo.services.ssm.models import Parameters, split_selector
from nubo.services.ssm.public import PUBLIC_PREFIX
from nubo.services.ssm.validation import check_path


SWEEP_INTERVAL = 1.0
DEFAULT_BY_PATH_RESULTS = 10
DEFAULT_DESCRIBE_RESULTS = 10  # DescribeParameters answers 10 per page unless asked
DEFAULT_HISTORY_RESULTS = 50


def _token_of(name: str | None) -> str | None:
    return None if name is None else base64.urlsafe_b64encode(name.encode()).decode()


def _name_of(token: str | None) -> str | None:
    if token is None:
        return None
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ServiceError("InvalidNextToken", "The specified token isn't valid.") from None


def _page(records, size: int) -> tuple[list[dict], str | None]:
    """The first ``size`` records and the token for the rest (the last name returned)."""
    chosen = list(islice(records, size + 1))
    more = len(chosen) > size
    chosen = chosen[:size]
    return chosen, _token_of(chosen[-1]["name"]) if more else None


def _require_parameter_type(resource_type: str) -> None:
    if resource_type != "Parameter":
        raise ServiceError("NotImplemented", f"Tags on SSM {resource_type} resources are not "
                           "implemented by nubo yet.", 501, sender_fault=False)


class SsmProvider(ServiceProvider):
    service_name = "ssm"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.parameters = Parameters(
            runtime.store, runtime.clock, runtime.services.call,
            lambda ctx: runtime.authorizer.caller(ctx.access_key_id,
                                                  ctx.account_id).principal.arn)
        self._sweep_due = asyncio.Event()
        runtime.clock.subscribe(self._sweep_due.set)

    # -- authorization hooks: the parameter a request names ----------------------------------

    def resource_names(self, ctx: RequestContext, operation: str,
                       params: dict) -> dict[str, str | list[str]]:
        if isinstance(params.get("Names"), list):  # GetParameters, DeleteParameters: each one
            return {"ParameterNameWithoutLeadingSlash": [
                split_selector(n)[0].lstrip("/") for n in params["Names"] if isinstance(n, str)]}
        name = params.get("Name") or params.get("Path")
        if params.get("ResourceType") == "Parameter":
            name = params.get("ResourceId")
        if not isinstance(name, str):
            return {}
        return {"ParameterNameWithoutLeadingSlash": split_selector(name)[0].lstrip("/")}

    def condition_context(self, ctx: RequestContext, operation: str,
                          params: dict) -> dict[str, object]:
        keys: dict[str, object] = {}
        for member, key in (("Overwrite", "ssm:overwrite"), ("Recursive", "ssm:recursive")):
            if params.get(member) is not None:
                keys[key] = str(params[member]).lower()
        if params.get("Policies"):
            keys["ssm:policies"] = params["Policies"]
        return keys

    @handler("PutParameter")
    def put_parameter(self, ctx: RequestContext, Name: str, Value: str,
                      Description: str | None = None, Type: str | None = None,
                      KeyId: str | None = None, Overwrite: bool = False,
                      AllowedPattern: str | None = None, Tags: list | None = None,
                      Tier: str | None = None, Policies: str | None = None,
                      DataType: str | None = None) -> dict:
        answer = self.parameters.put(ctx, Name, Value, Type, KeyId, Overwrite, Description,
                                     AllowedPattern, Tags or [], Tier, Policies, DataType)
        if Policies:
            self._sweep_due.set()
        return answer

    @handler("GetParameter")
    def get_parameter(self, ctx: RequestContext, Name: str,
                      WithDecryption: bool = False) -> dict:
        return {"Parameter": self.parameters.get(ctx, Name, WithDecryption)}

    @handler("GetParameters")
    def get_parameters(self, ctx: RequestContext, Names: list,
                       WithDecryption: bool = False) -> dict:
        found, invalid = [], []
        for name in Names:
            try:
                found.append(self.parameters.get(ctx, name, WithDecryption))
            except ServiceError as error:
                if error.code not in ("ParameterNotFound", "ParameterVersionNotFound"):
                    raise
                invalid.append(name)
        return {"Parameters": found, "InvalidParameters": invalid}

    @handler("GetParametersByPath")
    def get_parameters_by_path(self, ctx: RequestContext, Path: str, Recursive: bool = False,
                               ParameterFilters: list | None = None,
                               WithDecryption: bool = False, MaxResults: int | None = None,
                               NextToken: str | None = None) -> dict:
        path = check_path(Path)
        matches, _ = compile_filters(ParameterFilters, allowed_keys=BY_PATH_KEYS)
        size = MaxResults or DEFAULT_BY_PATH_RESULTS
        if (path + "/").startswith(PUBLIC_PREFIX):
            public = self.parameters.public_under(ctx, path, Recursive)
            after = _name_of(NextToken)
            public = [p for p in public if after is None or p["Name"] > after]
            chosen = public[:size]
            answer = {"Parameters": chosen}
            if len(public) > size:
                answer["NextToken"] = _token_of(chosen[-1]["Name"])
            return answer
        records = (r for r in self.parameters.scan(ctx, path, Recursive, _name_of(NextToken))
                   if matches(r))
        chosen, token = _page(records, size)
        answer = {"Parameters": [self.parameters.render_current(ctx, r, WithDecryption)
                                 for r in chosen]}
        if token:
            answer["NextToken"] = token
        return answer

    @handler("DescribeParameters")
    def describe_parameters(self, ctx: RequestContext, Filters: list | None = None,
                            ParameterFilters: list | None = None,
                            MaxResults: int | None = None, NextToken: str | None = None,
                            Shared: bool = False) -> dict:
        matches, path = compile_filters(ParameterFilters, Filters)
        if path is not None:
            path = (check_path(path[0]), path[1])
        records = (r for r in self.parameters.scan(ctx, path and path[0],
                                                   bool(path and path[1]),
                                                   _name_of(NextToken))
                   if matches(r))
        chosen, token = _page(records, MaxResults or DEFAULT_DESCRIBE_RESULTS)
        answer = {"Parameters": [self.parameters.metadata(ctx, r) for r in chosen]}
        if token:
            answer["NextToken"] = token
        return answer

    @handler("GetParameterHistory")
    def get_parameter_history(self, ctx: RequestContext, Name: str,
                              WithDecryption: bool = False, MaxResults: int | None = None,
                              NextToken: str | None = None) -> dict:
        history = self.parameters.history(ctx, Name, WithDecryption)
        start = int(_name_of(NextToken) or 0) if NextToken else 0
        end = start + (MaxResults or DEFAULT_HISTORY_RESULTS)
        answer = {"Parameters": history[start:end]}
        if end < len(history):
            answer["NextToken"] = _token_of(str(end))
        return answer

    @handler("DeleteParameter")
    def delete_parameter(self, ctx: RequestContext, Name: str) -> dict:
        self.parameters.delete(ctx, Name)
        return {}

    @handler("DeleteParameters")
    def delete_parameters(self, ctx: RequestContext, Names: list) -> dict:
        deleted, invalid = [], []
        for name in Names:
            try:
                self.parameters.delete(ctx, name)
                deleted.append(name)
            except ServiceError:
                invalid.append(name)
        return {"DeletedParameters": deleted, "InvalidParameters": invalid}

    @handler("LabelParameterVersion")
    def label_parameter_version(self, ctx: RequestContext, Name: str, Labels: list,
                                ParameterVersion: int | None = None) -> dict:
        name, _ = split_selector(Name)
        version, invalid = self.parameters.label(ctx, name, ParameterVersion, Labels)
        return {"InvalidLabels": invalid, "ParameterVersion": version}

    @handler("UnlabelParameterVersion")
    def unlabel_parameter_version(self, ctx: RequestContext, Name: str, ParameterVersion: int,
                                  Labels: list) -> dict:
        removed, invalid = self.parameters.unlabel(ctx, Name, ParameterVersion, Labels)
        return {"RemovedLabels": removed, "InvalidLabels": invalid}

    # -- tags -----------------------------------------------------------------------------

    @handler("AddTagsToResource")
    def add_tags_to_resource(self, ctx: RequestContext, ResourceType: str, ResourceId: str,
                             Tags: list) -> dict:
        _require_parameter_type(ResourceType)
        tags = dict(self.parameters.tags(ctx, ResourceId))
        tags.update({t["Key"]: t["Value"] for t in Tags})
        self.parameters.set_tags(ctx, ResourceId, tags)
        return {}

    @handler("RemoveTagsFromResource")
    def remove_tags_from_resource(self, ctx: RequestContext, ResourceType: str,
                                  ResourceId: str, TagKeys: list) -> dict:
        _require_parameter_type(ResourceType)
        tags = self.parameters.tags(ctx, ResourceId)
        self.parameters.set_tags(ctx, ResourceId,
                                 {k: v for k, v in tags.items() if k not in TagKeys})
        return {}

    @handler("ListTagsForResource")
    def list_tags_for_resource(self, ctx: RequestContext, ResourceType: str,
                               ResourceId: str) -> dict:
        _require_parameter_type(ResourceType)
        tags = self.parameters.tags(ctx, ResourceId)
        return {"TagList": [{"Key": k, "Value": v} for k, v in tags.items()]}

    # -- lifecycle ------------------------------------------------------------------------

    async def background(self) -> None:
        """Deletes parameters whose Expiration policy time has passed."""
        await sweep_forever("ssm", self.runtime.store, self.parameters.sweep, self._sweep_due,
                            SWEEP_INTERVAL)
