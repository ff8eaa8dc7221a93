"""AWS Secrets Manager handlers: every operation of the 2017-10-17 API (json protocol). Secret
values are encrypted through KMS in-process (``runtime.services.call``)."""

from __future__ import annotations

import asyncio

from nubo.core.context import RequestContext
from nubo.core.errors import ServiceError
from nubo.core.runtime import Runtime
from nubo.policy import ResourcePolicy
from nubo.services.base import ServiceProvider, handler, sweep_forever
from nubo.services.secretsmanager.models import Secrets, page_token
from nubo.services.secretsmanager.passwords import random_password
from nubo.services.secretsmanager.replication import Replicas
from nubo.services.secretsmanager.validation import (invalid_parameter, policy_problems,
                                                     recovery_window)


SWEEP_INTERVAL = 1.0
MAX_BATCH_IDS = 20
DEFAULT_BATCH_RESULTS = 20


# request members -> the Secrets Manager condition keys they set
_CONDITION_MEMBERS = {
    "Name": "secretsmanager:name", "SecretId": "secretsmanager:secretid",
    "VersionId": "secretsmanager:versionid", "VersionStage": "secretsmanager:versionstage",
    "KmsKeyId": "secretsmanager:kmskeyid", "Description": "secretsmanager:description",
    "BlockPublicPolicy": "secretsmanager:blockpublicpolicy",
    "ForceDeleteWithoutRecovery": "secretsmanager:forcedeletewithoutrecovery",
    "RecoveryWindowInDays": "secretsmanager:recoverywindowindays",
    "RotationLambdaARN": "secretsmanager:rotationlambdaarn",
    "ForceOverwriteReplicaSecret": "secretsmanager:forceoverwritereplicasecret",
}


class SecretsmanagerProvider(ServiceProvider):
    service_name = "secretsmanager"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.secrets = Secrets(runtime.store, runtime.clock,
                               lambda ctx, op, params: runtime.services.call(ctx, "kms", op,
                                                                             params))
        self.replicas = Replicas(self.secrets)
        self._sweep_due = asyncio.Event()
        runtime.clock.subscribe(self._sweep_due.set)

    # -- authorization hooks: the secret a request names, and its resource policy ------------

    def resource_names(self, ctx: RequestContext, operation: str, params: dict) -> dict[str, str]:
        secret_id = params.get("SecretId") or params.get("Name")
        if not isinstance(secret_id, str):
            return {}
        try:
            arn = self.secrets.resolve(ctx, secret_id).arn
        except ServiceError:  # a new secret: its ARN will end with a 6-character suffix
            return {"SecretId": f"{secret_id}-??????"}
        return {"SecretId": arn.split(":", 6)[6]}

    def condition_context(self, ctx: RequestContext, operation: str,
                          params: dict) -> dict[str, object]:
        keys = {key: params[member] if isinstance(params[member], (str, list))
                else str(params[member]).lower()
                for member, key in _CONDITION_MEMBERS.items() if params.get(member) is not None}
        if params.get("AddReplicaRegions"):
            keys["secretsmanager:addreplicaregions"] = [
                r["Region"] for r in params["AddReplicaRegions"]]
        if "secretsmanager:name" not in keys and isinstance(params.get("SecretId"), str):
            try:
                keys["secretsmanager:name"] = self.secrets.resolve(ctx, params["SecretId"]).name
            except ServiceError:
                pass  # the handler answers the request's error
        return keys

    def resource_policy(self, ctx: RequestContext, arn: str) -> ResourcePolicy | None:
        parts = arn.split(":", 6)
        if len(parts) != 7 or parts[5] != "secret":
            return None
        found = self.secrets.secrets.find("by_arn", eq=(arn,), limit=1)
        policy = found[0].get("policy") if found else None
        return ResourcePolicy(policy, parts[4])

    # -- secrets and values ---------------------------------------------------------------

    @handler("CreateSecret")
    def create_secret(self, ctx: RequestContext, Name: str, ClientRequestToken: str | None = None,
                      Description: str | None = None, KmsKeyId: str | None = None,
                      SecretBinary: bytes | None = None, SecretString: str | None = None,
                      Tags: list | None = None, AddReplicaRegions: list | None = None,
                      ForceOverwriteReplicaSecret: bool = False, Type: str | None = None) -> dict:
        secret, version_id = self.secrets.create(ctx, Name, ClientRequestToken, Description,
                                                 KmsKeyId, SecretString, SecretBinary,
                                                 Tags or [], Type)
        answer = {"ARN": secret.arn, "Name": secret.name}
        if version_id:
            answer["VersionId"] = version_id
        if AddReplicaRegions:
            answer["ReplicationStatus"] = self.replicas.replicate(
                ctx, secret, AddReplicaRegions, ForceOverwriteReplicaSecret)
        return answer

    @handler("GetSecretValue")
    def get_secret_value(self, ctx: RequestContext, SecretId: str, VersionId: str | None = None,
                         VersionStage: str | None = None) -> dict:
        return self.secrets.get_value(ctx, self.secrets.resolve(ctx, SecretId), VersionId,
                                      VersionStage)

    @handler("BatchGetSecretValue")
    def batch_get_secret_value(self, ctx: RequestContext, SecretIdList: list | None = None,
                               Filters: list | None = None, MaxResults: int | None = None,
                               NextToken: str | None = None) -> dict:
        if (SecretIdList is None) == (Filters is None):
            raise invalid_parameter("Either 'SecretIdList' or 'Filters' must be provided, but "
                                    "not both.")
        if SecretIdList is not None:
            if len(SecretIdList) > MAX_BATCH_IDS:
                raise invalid_parameter(f"SecretIdList can contain at most {MAX_BATCH_IDS} "
                                        "secret IDs.")
            if MaxResults is not None:
                raise invalid_parameter("MaxResults can't be used with SecretIdList.")
            secret_ids, token = SecretIdList, None
        else:
            listed = self.secrets.list(ctx, Filters, False, None, False)
            chosen, token = page_token(listed, MaxResults or DEFAULT_BATCH_RESULTS, NextToken)
            secret_ids = [entry["ARN"] for entry in chosen]
        values, errors = [], []
        for secret_id in secret_ids:
            try:
                values.append(self.secrets.get_value(
                    ctx, self.secrets.resolve(ctx, secret_id), None, None))
            except ServiceError as error:
                errors.append({"SecretId": secret_id, "ErrorCode": error.code,
                               "Message": error.message})
        answer = {"SecretValues": values, "Errors": errors}
        if token:
            answer["NextToken"] = token
        return answer

    @handler("PutSecretValue")
    def put_secret_value(self, ctx: RequestContext, SecretId: str,
                         ClientRequestToken: str | None = None, SecretBinary: bytes | None = None,
                         SecretString: str | None = None, VersionStages: list | None = None,
                         RotationToken: str | None = None) -> dict:
        secret = self.secrets.resolve(ctx, SecretId)
        version_id, stages = self.secrets.put_value(ctx, secret, ClientRequestToken,
                                                    SecretString, SecretBinary, VersionStages)
        return {"ARN": secret.arn, "Name": secret.name, "VersionId": version_id,
                "VersionStages": stages}

    @handler("UpdateSecret")
    def update_secret(self, ctx: RequestContext, SecretId: str,
                      ClientRequestToken: str | None = None, Description: str | None = None,
                      KmsKeyId: str | None = None, SecretBinary: bytes | None = None,
                      SecretString: str | None = None, Type: str | None = None) -> dict:
        secret = self.secrets.resolve(ctx, SecretId)
        version_id = self.secrets.update(ctx, secret, ClientRequestToken, Description, KmsKeyId,
                                         SecretString, SecretBinary, Type)
        answer = {"ARN": secret.arn, "Name": secret.name}
        if version_id:
            answer["VersionId"] = version_id
        return answer

    @handler("UpdateSecretVersionStage")
    def update_secret_version_stage(self, ctx: RequestContext, SecretId: str, VersionStage: str,
                                    RemoveFromVersionId: str | None = None,
                                    MoveToVersionId: str | None = None) -> dict:
        secret = self.secrets.resolve(ctx, SecretId)
        self.secrets.update_stage(secret, VersionStage, RemoveFromVersionId, MoveToVersionId)
        return {"ARN": secret.arn, "Name": secret.name}

    @handler("ListSecretVersionIds")
    def list_secret_version_ids(self, ctx: RequestContext, SecretId: str,
                                MaxResults: int | None = None, NextToken: str | None = None,
                                IncludeDeprecated: bool = False) -> dict:
        secret = self.secrets.resolve(ctx, SecretId)
        versions, token = page_token(self.secrets.list_versions(secret, IncludeDeprecated),
                                     MaxResults, NextToken)
        answer = {"Versions": versions, "ARN": secret.arn, "Name": secret.name}
        if token:
            answer["NextToken"] = token
        return answer

    @handler("DescribeSecret")
    def describe_secret(self, ctx: RequestContext, SecretId: str) -> dict:
        return self.secrets.describe(self.secrets.resolve(ctx, SecretId))

    @handler("ListSecrets")
    def list_secrets(self, ctx: RequestContext, IncludePlannedDeletion: bool = False,
                     MaxResults: int | None = None, NextToken: str | None = None,
                     Filters: list | None = None, SortOrder: str | None = None,
                     SortBy: str | None = None) -> dict:
        listed = self.secrets.list(ctx, Filters or [], IncludePlannedDeletion, SortBy,
                                   SortOrder == "desc")
        entries, token = page_token(listed, MaxResults, NextToken)
        answer = {"SecretList": entries}
        if token:
            answer["NextToken"] = token
        return answer

    @handler("DeleteSecret")
    def delete_secret(self, ctx: RequestContext, SecretId: str,
                      RecoveryWindowInDays: int | None = None,
                      ForceDeleteWithoutRecovery: bool | None = None) -> dict:
        window = recovery_window(RecoveryWindowInDays, ForceDeleteWithoutRecovery)
        secret = self.secrets.resolve(ctx, SecretId)
        deletion = self.secrets.delete(secret, window)
        self._sweep_due.set()
        return {"ARN": secret.arn, "Name": secret.name, "DeletionDate": deletion}

    @handler("RestoreSecret")
    def restore_secret(self, ctx: RequestContext, SecretId: str) -> dict:
        secret = self.secrets.resolve(ctx, SecretId)
        self.secrets.restore(secret)
        return {"ARN": secret.arn, "Name": secret.name}

    @handler("GetRandomPassword")
    def get_random_password(self, ctx: RequestContext, PasswordLength: int | None = None,
                            ExcludeCharacters: str = "", ExcludeNumbers: bool = False,
                            ExcludePunctuation: bool = False, ExcludeUppercase: bool = False,
                            ExcludeLowercase: bool = False, IncludeSpace: bool = False,
                            RequireEachIncludedType: bool = True) -> dict:
        return {"RandomPassword": random_password(
            PasswordLength, ExcludeCharacters, exclude_numbers=ExcludeNumbers,
            exclude_punctuation=ExcludePunctuation, exclude_uppercase=ExcludeUppercase,
            exclude_lowercase=ExcludeLowercase, include_space=IncludeSpace,
            require_each_type=RequireEachIncludedType)}

    # -- tags and resource policies -------------------------------------------------------

    @handler("TagResource")
    def tag_resource(self, ctx: RequestContext, SecretId: str, Tags: list) -> dict:
        self.secrets.tag(self.secrets.resolve(ctx, SecretId), Tags)
        return {}

    @handler("UntagResource")
    def untag_resource(self, ctx: RequestContext, SecretId: str, TagKeys: list) -> dict:
        self.secrets.untag(self.secrets.resolve(ctx, SecretId), TagKeys)
        return {}

    @handler("PutResourcePolicy")
    def put_resource_policy(self, ctx: RequestContext, SecretId: str, ResourcePolicy: str,
                            BlockPublicPolicy: bool = False) -> dict:
        secret = self.secrets.resolve(ctx, SecretId)
        self.secrets.put_policy(secret, ResourcePolicy, BlockPublicPolicy)
        return {"ARN": secret.arn, "Name": secret.name}

    @handler("GetResourcePolicy")
    def get_resource_policy(self, ctx: RequestContext, SecretId: str) -> dict:
        secret = self.secrets.resolve(ctx, SecretId)
        answer = {"ARN": secret.arn, "Name": secret.name}
        if secret.record.get("policy"):
            answer["ResourcePolicy"] = secret.record["policy"]
        return answer

    @handler("DeleteResourcePolicy")
    def delete_resource_policy(self, ctx: RequestContext, SecretId: str) -> dict:
        secret = self.secrets.resolve(ctx, SecretId)
        self.secrets.delete_policy(secret)
        return {"ARN": secret.arn, "Name": secret.name}

    @handler("ValidateResourcePolicy")
    def validate_resource_policy(self, ctx: RequestContext, ResourcePolicy: str,
                                 SecretId: str | None = None) -> dict:
        if SecretId is not None:
            self.secrets.resolve(ctx, SecretId)
        problems = policy_problems(ResourcePolicy)
        return {"PolicyValidationPassed": not problems, "ValidationErrors": problems}

    # -- rotation -------------------------------------------------------------------------

    @handler("RotateSecret")
    def rotate_secret(self, ctx: RequestContext, SecretId: str,
                      ClientRequestToken: str | None = None,
                      RotationLambdaARN: str | None = None, RotationRules: dict | None = None,
                      ExternalSecretRotationMetadata: list | None = None,
                      ExternalSecretRotationRoleArn: str | None = None,
                      RotateImmediately: bool = True) -> dict:
        secret = self.secrets.resolve(ctx, SecretId)
        self.secrets.schedule_rotation(secret, RotationLambdaARN, RotationRules,
                                       RotateImmediately)
        return {"ARN": secret.arn, "Name": secret.name}

    @handler("CancelRotateSecret")
    def cancel_rotate_secret(self, ctx: RequestContext, SecretId: str) -> dict:
        secret = self.secrets.resolve(ctx, SecretId)
        pending = self.secrets.cancel_rotation(secret)
        answer = {"ARN": secret.arn, "Name": secret.name}
        if pending:
            answer["VersionId"] = pending
        return answer

    # -- replication ----------------------------------------------------------------------

    @handler("ReplicateSecretToRegions")
    def replicate_secret_to_regions(self, ctx: RequestContext, SecretId: str,
                                    AddReplicaRegions: list,
                                    ForceOverwriteReplicaSecret: bool = False) -> dict:
        secret = self.secrets.resolve(ctx, SecretId)
        status = self.replicas.replicate(ctx, secret, AddReplicaRegions,
                                        ForceOverwriteReplicaSecret)
        return {"ARN": secret.arn, "ReplicationStatus": status}

    @handler("RemoveRegionsFromReplication")
    def remove_regions_from_replication(self, ctx: RequestContext, SecretId: str,
                                        RemoveReplicaRegions: list) -> dict:
        secret = self.secrets.resolve(ctx, SecretId)
        return {"ARN": secret.arn,
                "ReplicationStatus": self.replicas.remove_replicas(secret, RemoveReplicaRegions)}

    @handler("StopReplicationToReplica")
    def stop_replication_to_replica(self, ctx: RequestContext, SecretId: str) -> dict:
        secret = self.secrets.resolve(ctx, SecretId)
        self.replicas.promote(ctx, secret)
        return {"ARN": secret.arn}

    # -- lifecycle ------------------------------------------------------------------------

    async def background(self) -> None:
        """Deletes secrets whose recovery window is over."""
        await sweep_forever("secretsmanager", self.runtime.store, self.secrets.sweep,
                            self._sweep_due, SWEEP_INTERVAL)
