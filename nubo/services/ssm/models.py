"""Parameter Store: parameters and their versions, labels, SecureString values encrypted
through KMS in-process, hierarchies, tiers and limits, policies, tags, and the parameters
read from elsewhere (public parameters, Secrets Manager references)."""

from __future__ import annotations

import base64
import json
from functools import partial
from typing import Callable, Iterator

from nubo.core.clock import Clock
from nubo.core.context import RequestContext
from nubo.core.errors import ServiceError
from nubo.services.kms import envelope
from nubo.services.ssm import schema
from nubo.services.ssm.public import (PUBLIC_PREFIX, SECRETS_PREFIX, public_parameter,
                                      public_parameters_under)
from nubo.services.ssm.validation import (MAX_LABELS_PER_VERSION, MAX_PARAMETERS, MAX_TAGS,
                                          MAX_VERSIONS, check_name, check_value, choose_tier,
                                          label_is_valid, limit_exceeded, parent_of,
                                          parse_policies, validation_error)
from nubo.store import Store

DEFAULT_KMS_KEY = "alias/aws/ssm"
KMS_PLAINTEXT_LIMIT = 4096  # larger SecureStrings (advanced tier) use envelope encryption
_SCAN_BATCH = 100

ServiceCall = Callable[[RequestContext, str, str, dict], dict]


def not_found() -> ServiceError:
    # AWS answers an unknown parameter name without a message.
    return ServiceError("ParameterNotFound", "")


def split_selector(name: str) -> tuple[str, str | None]:
    """"/app/db:3" -> ("/app/db", "3"); names cannot contain ":", so a colon starts a
    selector (a version number or a label)."""
    base, colon, selector = name.partition(":")
    return base, (selector if colon else None)


class Parameters:
    def __init__(self, store: Store, clock: Clock, call: ServiceCall,
                 caller_arn: Callable[[RequestContext], str]) -> None:
        self.clock = clock
        self.call = call
        self.caller_arn = caller_arn  # the ARN of who sends a request (LastModifiedUser)
        self.parameters = store.table(schema.PARAMETERS)
        self.versions = store.table(schema.VERSIONS)

    @staticmethod
    def arn(ctx: RequestContext, name: str) -> str:
        return ctx.arn("ssm", "parameter" + (name if name.startswith("/") else "/" + name))

    def _get(self, ctx: RequestContext, name: str) -> dict:
        record = self.parameters.get((ctx.account_id, ctx.region, name))
        if record is None:
            raise not_found()
        return record

    # -- writing --------------------------------------------------------------------------

    def put(self, ctx: RequestContext, name: str, value: str, kind: str | None,
            key_id: str | None, overwrite: bool, description: str | None,
            allowed_pattern: str | None, tags: list[dict], tier: str | None,
            policies_text: str | None, data_type: str | None) -> dict:
        check_name(name)
        current = self.parameters.get((ctx.account_id, ctx.region, name))
        if current is not None and not overwrite:
            raise ServiceError("ParameterAlreadyExists", "The parameter already exists. To "
                               "overwrite this value, set the overwrite option in the request "
                               "to true.")
        if current is not None and tags:
            raise validation_error("Invalid request: tags and overwrite can't be used together. "
                                   "To create a parameter with tags, please remove overwrite "
                                   "flag. To update tags for an existing parameter, please use "
                                   "AddTagsToResource or RemoveTagsFromResource.")
        previous = current or {}
        kind = kind or previous.get("type")
        if kind is None:
            raise validation_error("A parameter type is required when you create a parameter.")
        if key_id is not None and kind != "SecureString":
            raise validation_error("KeyId is required for SecureString type parameter only.")
        allowed_pattern = previous.get("allowed_pattern") if allowed_pattern is None \
            else allowed_pattern
        data_type = data_type or previous.get("data_type") or "text"
        check_value(value, allowed_pattern, data_type)
        policies, expires = parse_policies(policies_text) if policies_text is not None \
            else (previous.get("policies", []), previous.get("expires"))
        chosen_tier = choose_tier(tier, previous.get("tier"), value, policies)
        if chosen_tier != previous.get("tier") and self.parameters.count(
                "by_tier", eq=(ctx.account_id, ctx.region, chosen_tier)) >= \
                MAX_PARAMETERS[chosen_tier]:
            raise limit_exceeded(chosen_tier)
        if len(tags) > MAX_TAGS:
            raise ServiceError("TooManyTagsError", "")
        version = previous.get("version", 0) + 1
        self._make_room(ctx, name, previous)
        now = self.clock.now()
        if kind == "SecureString":
            key_id = key_id or previous.get("key_id") or DEFAULT_KMS_KEY
            stored, envelope = self._encrypt(ctx, name, key_id, value)
        else:
            key_id, stored, envelope = None, value, False
        version_data = {"type": kind, "value": stored, "envelope": envelope, "key_id": key_id,
                        "description": previous.get("description") if description is None
                        else description, "allowed_pattern": allowed_pattern,
                        "data_type": data_type, "tier": chosen_tier, "policies": policies,
                        "modified": now, "user": self.caller_arn(ctx)}
        self.parameters.put({"account": ctx.account_id, "region": ctx.region, "name": name,
                             "parent": parent_of(name), "expires": expires, "version": version,
                             "labels": previous.get("labels", {}),
                             "tags": previous.get("tags") or {t["Key"]: t["Value"]
                                                              for t in tags},
                             **version_data})
        self.versions.put({"account": ctx.account_id, "region": ctx.region, "name": name,
                           "version": version, **version_data})
        return {"Version": version, "Tier": chosen_tier}

    def _make_room(self, ctx: RequestContext, name: str, current: dict) -> None:
        """A parameter keeps 100 versions: the oldest goes, unless a label holds it."""
        key = (ctx.account_id, ctx.region, name)
        if not current or self.versions.count(eq=key) < MAX_VERSIONS:
            return
        [oldest] = self.versions.find(eq=key, limit=1)
        if oldest["version"] in current["labels"].values():
            raise ServiceError(
                "ParameterMaxVersionLimitExceeded", f"You attempted to create a new version of "
                f"{name} by calling the PutParameter API with the overwrite flag. Version "
                f"{oldest['version']}, the oldest version, can't be deleted because it has a "
                "label associated with it. Move the label to another version of the "
                "parameter, and try again.")
        self.versions.delete(key + (oldest["version"],))

    def _encrypt(self, ctx: RequestContext, name: str, key_id: str,
                 value: str) -> tuple[bytes, bool]:
        """SecureString values are KMS ciphertexts bound to the parameter's ARN; values over
        KMS's 4 KB limit are sealed under a KMS data key (envelope encryption)."""
        context = {"PARAMETER_ARN": self.arn(ctx, name)}
        plaintext = value.encode()
        if len(plaintext) > KMS_PLAINTEXT_LIMIT:
            return envelope.seal(partial(self._kms, ctx), key_id, context, plaintext), True
        sealed = self._kms(ctx, "Encrypt", {"KeyId": key_id, "Plaintext": plaintext,
                                            "EncryptionContext": context})
        return sealed["CiphertextBlob"], False

    def _decrypt(self, ctx: RequestContext, name: str, data: dict) -> str:
        context = {"PARAMETER_ARN": self.arn(ctx, name)}
        if data["envelope"]:
            return envelope.open_sealed(partial(self._kms, ctx), context,
                                        data["value"]).decode()
        return self._kms(ctx, "Decrypt", {"CiphertextBlob": data["value"],
                                          "EncryptionContext": context})["Plaintext"].decode()

    def _kms(self, ctx: RequestContext, operation: str, params: dict) -> dict:
        try:
            return self.call(ctx, "kms", operation, params)
        except ServiceError as error:
            if error.code == "NotFoundException":
                raise ServiceError("InvalidKeyId", error.message) from None
            raise

    def delete(self, ctx: RequestContext, name: str) -> None:
        key = (ctx.account_id, ctx.region, name)
        if not self.parameters.delete(key):
            raise not_found()
        self.versions.delete_where(eq=key)

    def sweep(self) -> int:
        """Apply Expiration policies whose time has come."""
        due = self.parameters.find("by_expiry", hi=self.clock.now())
        for record in due:
            key = (record["account"], record["region"], record["name"])
            self.parameters.delete(key)
            self.versions.delete_where(eq=key)
        return len(due)

    # -- reading --------------------------------------------------------------------------

    def get(self, ctx: RequestContext, full_name: str, decrypt: bool) -> dict:
        """GetParameter's Parameter, for a name with an optional :version or :label."""
        name, selector = split_selector(full_name)
        if name.startswith(SECRETS_PREFIX):
            return self._secret_reference(ctx, name, selector, decrypt)
        if name.startswith(PUBLIC_PREFIX):
            found = public_parameter(ctx.region, ctx.partition, name)
            if found is None:
                raise not_found()
            return found
        record = self._get(ctx, name)
        data = record
        if selector is not None:
            data = self._selected_version(ctx, record, selector)
        answer = self._render(ctx, name, data, data.get("version", record["version"]), decrypt)
        if selector is not None:
            answer["Selector"] = ":" + selector
        return answer

    def _selected_version(self, ctx: RequestContext, record: dict, selector: str) -> dict:
        version = int(selector) if selector.isdigit() else record["labels"].get(selector)
        found = None if version is None else self.versions.get(
            (ctx.account_id, ctx.region, record["name"], version))
        if found is None:
            if selector.isdigit():
                raise ServiceError("ParameterVersionNotFound", "Systems Manager could not find "
                                   f"version {selector} of {record['name']}. Verify the "
                                   "version and try again.")
            raise not_found()
        return found

    def _render(self, ctx: RequestContext, name: str, data: dict, version: int,
                decrypt: bool) -> dict:
        if data["type"] != "SecureString":
            value = data["value"]
        elif decrypt:
            value = self._decrypt(ctx, name, data)
        else:
            value = base64.b64encode(data["value"]).decode()
        return {"Name": name, "Type": data["type"], "Value": value, "Version": version,
                "LastModifiedDate": data["modified"], "ARN": self.arn(ctx, name),
                "DataType": data["data_type"]}

    def _secret_reference(self, ctx: RequestContext, name: str, selector: str | None,
                          decrypt: bool) -> dict:
        if not decrypt:
            raise validation_error("WithDecryption flag must be True for retrieving a Secret "
                                   "Manager secret.")
        request = {"SecretId": name[len(SECRETS_PREFIX):]}
        if selector:
            request["VersionId" if _looks_like_version_id(selector) else "VersionStage"] = \
                selector
        try:
            secret = self.call(ctx, "secretsmanager", "GetSecretValue", request)
        except ServiceError as error:
            if error.code == "ResourceNotFoundException":
                raise not_found() from None
            raise
        value = secret.get("SecretString")
        if value is None:
            value = base64.b64encode(secret["SecretBinary"]).decode()
        source = {"ARN": secret["ARN"], "Name": secret["Name"],
                  "VersionId": secret["VersionId"], "VersionStages": secret["VersionStages"],
                  "CreatedDate": secret["CreatedDate"]}
        answer = {"Name": name, "Type": "SecureString", "Value": value, "Version": 0,
                  "SourceResult": json.dumps(source), "LastModifiedDate": secret["CreatedDate"],
                  "ARN": secret["ARN"], "DataType": "text"}
        if selector:
            answer["Selector"] = ":" + selector
        return answer

    def history(self, ctx: RequestContext, name: str, decrypt: bool) -> list[dict]:
        record = self._get(ctx, name)
        labels: dict[int, list[str]] = {}
        for label, version in record["labels"].items():
            labels.setdefault(version, []).append(label)
        entries = []
        for data in self.versions.find(eq=(ctx.account_id, ctx.region, name)):
            rendered = self._render(ctx, name, data, data["version"], decrypt)
            entry = {"Name": name, "Type": data["type"], "Value": rendered["Value"],
                     "Version": data["version"], "LastModifiedDate": data["modified"],
                     "LastModifiedUser": data["user"], "Labels": labels.get(data["version"], []),
                     "Tier": data["tier"], "Policies": data["policies"],
                     "DataType": data["data_type"]}
            entries.append(_with_optional_fields(entry, data))
        return entries

    def metadata(self, ctx: RequestContext, record: dict) -> dict:
        entry = {"Name": record["name"], "ARN": self.arn(ctx, record["name"]),
                 "Type": record["type"], "LastModifiedDate": record["modified"],
                 "LastModifiedUser": record["user"], "Version": record["version"],
                 "Tier": record["tier"], "Policies": record["policies"],
                 "DataType": record["data_type"]}
        return _with_optional_fields(entry, record)

    def scan(self, ctx: RequestContext, path: str | None, recursive: bool,
             after: str | None) -> Iterator[dict]:
        """Parameter records in name order: all of the account's, those below ``path``, or
        (not recursive) those directly in it; starting after the name ``after``."""
        if path is not None and not recursive:
            index, eq, lo, hi = "by_parent", (ctx.account_id, ctx.region, path), None, None
        else:
            index, eq = None, (ctx.account_id, ctx.region)
            lo = hi = None
            if path is not None:
                prefix = "/" if path == "/" else path + "/"
                lo, hi = prefix, prefix[:-1] + "0"  # "0" follows "/" in code point order
        if after is not None:
            lo = after + "\x00" if lo is None or after >= lo else lo
        while True:
            batch = self.parameters.find(index, eq=eq, lo=lo, hi=hi, limit=_SCAN_BATCH)
            yield from batch
            if len(batch) < _SCAN_BATCH:
                return
            lo = batch[-1]["name"] + "\x00"

    def public_under(self, ctx: RequestContext, path: str, recursive: bool) -> list[dict]:
        return public_parameters_under(ctx.region, ctx.partition, path, recursive)

    def render_current(self, ctx: RequestContext, record: dict, decrypt: bool) -> dict:
        return self._render(ctx, record["name"], record, record["version"], decrypt)

    # -- labels and tags ------------------------------------------------------------------

    def label(self, ctx: RequestContext, name: str, version: int | None,
              labels: list[str]) -> tuple[int, list[str]]:
        record = self._get(ctx, name)
        version = record["version"] if version is None else version
        if self.versions.get((ctx.account_id, ctx.region, name, version)) is None:
            raise ServiceError("ParameterVersionNotFound", "Systems Manager could not find "
                               f"version {version} of {name}. Verify the version and try "
                               "again.")
        invalid = [label for label in labels if not label_is_valid(label)]
        assigned = dict(record["labels"])
        for label in labels:
            if label not in invalid:
                assigned[label] = version
        if sum(1 for v in assigned.values() if v == version) > MAX_LABELS_PER_VERSION:
            raise ServiceError("ParameterVersionLabelLimitExceeded", "A parameter version can "
                               "have maximum 10 labels.Move one or more labels to another "
                               "version and try again.")
        self.parameters.put({**record, "labels": assigned})
        return version, invalid

    def unlabel(self, ctx: RequestContext, name: str, version: int,
                labels: list[str]) -> tuple[list[str], list[str]]:
        record = self._get(ctx, name)
        if self.versions.get((ctx.account_id, ctx.region, name, version)) is None:
            raise ServiceError("ParameterVersionNotFound", "Systems Manager could not find "
                               f"version {version} of {name}. Verify the version and try "
                               "again.")
        removed = [label for label in labels if record["labels"].get(label) == version]
        invalid = [label for label in labels if label not in removed]
        self.parameters.put({**record, "labels": {k: v for k, v in record["labels"].items()
                                                  if k not in removed}})
        return removed, invalid

    def tags(self, ctx: RequestContext, name: str) -> dict[str, str]:
        record = self.parameters.get((ctx.account_id, ctx.region, name))
        if record is None:
            raise ServiceError("InvalidResourceId", "")
        return record["tags"]

    def set_tags(self, ctx: RequestContext, name: str, tags: dict[str, str]) -> None:
        if len(tags) > MAX_TAGS:
            raise ServiceError("TooManyTagsError", "")
        record = self.parameters.get((ctx.account_id, ctx.region, name))
        self.parameters.put({**record, "tags": tags})


def _with_optional_fields(entry: dict, data: dict) -> dict:
    for member, field in (("KeyId", "key_id"), ("Description", "description"),
                          ("AllowedPattern", "allowed_pattern")):
        if data.get(field):
            entry[member] = data[field]
    return entry


def _looks_like_version_id(selector: str) -> bool:
    return len(selector) == 36 and selector.count("-") == 4
