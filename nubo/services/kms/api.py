"""AWS KMS handlers: one per operation of the 2014-11-01 API (json protocol).

DryRun: an operation asked to dry-run does its checks and its work, then answers
DryRunOperationException; the error rolls back the request's transaction, so nothing changes.
"""

from __future__ import annotations

import asyncio
import os

from nubo.core.context import RequestContext
from nubo.core.errors import ServiceError
from nubo.core.runtime import Runtime
from nubo.policy import ResourcePolicy
from nubo.services.base import ServiceProvider, handler, sweep_forever
from nubo.services.kms.grants import Grants, Principal
from nubo.services.kms.imports import KeyImports
from nubo.services.kms.models import Keys, listing, page
from nubo.services.kms.multi_region import MultiRegion
from nubo.services.kms.operations import Operations
from nubo.services.kms.validation import dry_run, page_size


SWEEP_INTERVAL = 1.0  # seconds between checks for due deletions and rotations


# request members -> the KMS condition keys they set (lower case, as the authorizer wants them)
_CONDITION_MEMBERS = {
    "EncryptionAlgorithm": "kms:encryptionalgorithm", "SigningAlgorithm": "kms:signingalgorithm",
    "MacAlgorithm": "kms:macalgorithm", "KeyAgreementAlgorithm": "kms:keyagreementalgorithm",
    "MessageType": "kms:messagetype", "KeyPairSpec": "kms:datakeypairspec",
    "KeySpec": "kms:keyspec", "KeyUsage": "kms:keyusage", "Origin": "kms:keyorigin",
    "MultiRegion": "kms:multiregion", "ReplicaRegion": "kms:replicaregion",
    "PrimaryRegion": "kms:primaryregion", "RotationPeriodInDays": "kms:rotationperiodindays",
    "BypassPolicyLockoutSafetyCheck": "kms:bypasspolicylockoutsafetycheck",
    "Operations": "kms:grantoperations", "GranteePrincipal": "kms:granteeprincipal",
    "RetiringPrincipal": "kms:retiringprincipal", "WrappingAlgorithm": "kms:wrappingalgorithm",
    "WrappingKeySpec": "kms:wrappingkeyspec", "ExpirationModel": "kms:expirationmodel",
}


def _checked(result: dict, DryRun: bool | None) -> dict:
    if DryRun:
        raise dry_run()
    return result


class KmsProvider(ServiceProvider):
    service_name = "kms"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.keys = Keys(runtime.store, runtime.clock)
        self.cryptography = Operations(self.keys)
        self.grants = Grants(runtime.store, runtime.clock, self.keys)
        self.imports = KeyImports(self.keys, runtime.clock)
        self.multi_region = MultiRegion(self.keys)
        self._sweep_due = asyncio.Event()
        runtime.clock.subscribe(self._sweep_due.set)

    # -- authorization hooks: the key a request names, and its key policy -------------------

    def resource_names(self, ctx: RequestContext, operation: str, params: dict) -> dict:
        key_id = params.get("KeyId") or params.get("TargetKeyId") or \
            params.get("SourceKeyId")
        names: dict = {}
        if operation == "ReEncrypt":  # kms:ReEncryptTo is authorized on the destination key
            names["kms:ReEncryptTo"] = self._key_names(ctx, params.get("DestinationKeyId")) \
                or {"KeyId": ""}
        try:
            if not key_id and params.get("CiphertextBlob"):  # Decrypt names its key in the blob
                key_id = Operations.key_of_blob(ctx, params["CiphertextBlob"])[0]
        except ServiceError:
            return names  # the handler answers the request's error
        return {**self._key_names(ctx, key_id), **names}

    def _key_names(self, ctx: RequestContext, key_id: str | None) -> dict[str, str]:
        """The ARN template names of a key (id, alias or ARN); none if it does not resolve."""
        if not key_id:
            return {}
        try:
            key = self.keys.resolve(ctx, key_id)
        except ServiceError:
            return {}  # the handler answers the request's error
        _, _, _, region, account, resource = key.arn.split(":", 5)
        return {"KeyId": resource.removeprefix("key/"), "Region": region, "Account": account}

    def condition_context(self, ctx: RequestContext, operation: str,
                          params: dict) -> dict[str, object]:
        """KMS's condition keys from the request: encryption context, algorithms, key and grant
        properties (grant constraints are conditions on kms:EncryptionContext)."""
        context = params.get("EncryptionContext") or params.get("DestinationEncryptionContext")
        keys: dict[str, object] = {}
        if context:
            keys["kms:encryptioncontextkeys"] = list(context)
            keys.update({f"kms:encryptioncontext:{k}".lower(): v for k, v in context.items()})
        for member, key in _CONDITION_MEMBERS.items():
            if params.get(member) is not None:
                value = params[member]
                keys[key] = value if isinstance(value, (list, str)) else str(value).lower()
        if operation == "ReEncrypt":
            names = self.resource_names(ctx, operation, params)
            keys["kms:reencryptonsamekey"] = "true" if names.get("KeyId") and \
                names.get("KeyId") == names["kms:ReEncryptTo"].get("KeyId") else "false"
        return keys

    def resource_policy(self, ctx: RequestContext, arn: str) -> ResourcePolicy | None:
        """The key policy is authoritative: IAM policies count only where it delegates to the
        account."""
        parts = arn.split(":", 5)
        if len(parts) != 6 or not parts[5].startswith("key/"):
            return None
        record = self.keys.keys.get((parts[4], parts[3], parts[5][4:]))
        if record is None:
            return None
        policy = self.grants.policy_with_grants(record["account"], record["region"],
                                                record["key_id"], record["policy"])
        return ResourcePolicy(policy, parts[4], authoritative=True)

    # -- keys -----------------------------------------------------------------------------

    @handler("CreateKey")
    def create_key(self, ctx: RequestContext, Policy: str | None = None, Description: str = "",
                   KeyUsage: str | None = None, CustomerMasterKeySpec: str | None = None,
                   KeySpec: str | None = None, Origin: str = "AWS_KMS",
                   CustomKeyStoreId: str | None = None,
                   BypassPolicyLockoutSafetyCheck: bool = False, Tags: list | None = None,
                   MultiRegion: bool = False, XksKeyId: str | None = None) -> dict:
        if KeySpec and CustomerMasterKeySpec:
            raise ServiceError("ValidationException", "You cannot specify KeySpec and "
                               "CustomerMasterKeySpec in the same request. "
                               "CustomerMasterKeySpec parameter is deprecated.")
        if CustomKeyStoreId or XksKeyId:
            raise ServiceError("CustomKeyStoreNotFoundException",
                               f"Custom key store {CustomKeyStoreId or XksKeyId} not found")
        key = self.keys.create(ctx, spec_name=KeySpec or CustomerMasterKeySpec or
                               "SYMMETRIC_DEFAULT", usage=KeyUsage, origin=Origin,
                               description=Description, policy=Policy,
                               bypass_lockout=BypassPolicyLockoutSafetyCheck, tags=Tags or [],
                               multi_region=MultiRegion)
        return {"KeyMetadata": self.keys.describe(key)}

    @handler("DescribeKey")
    def describe_key(self, ctx: RequestContext, KeyId: str, GrantTokens=None) -> dict:
        key = self.keys.resolve(ctx, KeyId, create_managed=True)
        return {"KeyMetadata": self.keys.describe(key)}

    @handler("ListKeys")
    def list_keys(self, ctx: RequestContext, Limit: int | None = None,
                  Marker: str | None = None, ResourceOwners: list | None = None) -> dict:
        if ResourceOwners and "SELF" not in ResourceOwners:
            # Only keys other accounts share through RAM, which nubo has none of.
            return {"Keys": [], "Truncated": False}
        return self.keys.list_keys(ctx, page_size(Limit, 100, 1000), Marker)

    @handler("EnableKey")
    def enable_key(self, ctx: RequestContext, KeyId: str) -> dict:
        self.keys.enable(self.keys.resolve(ctx, KeyId, aliases=False))
        return {}

    @handler("DisableKey")
    def disable_key(self, ctx: RequestContext, KeyId: str) -> dict:
        self.keys.disable(self.keys.resolve(ctx, KeyId, aliases=False))
        return {}

    @handler("ScheduleKeyDeletion")
    def schedule_key_deletion(self, ctx: RequestContext, KeyId: str,
                              PendingWindowInDays: int | None = None) -> dict:
        key = self.keys.schedule_deletion(self.keys.resolve(ctx, KeyId, aliases=False),
                                          PendingWindowInDays)
        self._sweep_due.set()
        return {"KeyId": key.arn, "DeletionDate": key.record["deletion_due"],
                "KeyState": key.state, "PendingWindowInDays": key.record["pending_window"]}

    @handler("CancelKeyDeletion")
    def cancel_key_deletion(self, ctx: RequestContext, KeyId: str) -> dict:
        key = self.keys.resolve(ctx, KeyId, aliases=False)
        self.keys.cancel_deletion(key)
        return {"KeyId": key.arn}

    @handler("UpdateKeyDescription")
    def update_key_description(self, ctx: RequestContext, KeyId: str, Description: str) -> dict:
        self.keys.update_description(self.keys.resolve(ctx, KeyId, aliases=False), Description)
        return {}

    # -- imported key material ------------------------------------------------------------

    @handler("GetParametersForImport")
    def get_parameters_for_import(self, ctx: RequestContext, KeyId: str, WrappingAlgorithm: str,
                                  WrappingKeySpec: str) -> dict:
        return self.imports.parameters(self.keys.resolve(ctx, KeyId, aliases=False),
                                       WrappingAlgorithm, WrappingKeySpec)

    @handler("ImportKeyMaterial")
    def import_key_material(self, ctx: RequestContext, KeyId: str, ImportToken: bytes,
                            EncryptedKeyMaterial: bytes, ValidTo=None,
                            ExpirationModel: str | None = None, ImportType: str | None = None,
                            KeyMaterialDescription: str | None = None,
                            KeyMaterialId: str | None = None) -> dict:
        key = self.keys.resolve(ctx, KeyId, aliases=False)
        material_id = self.imports.import_material(
            key, ImportToken, EncryptedKeyMaterial,
            None if ValidTo is None else ValidTo.timestamp(), ExpirationModel, ImportType)
        self._sweep_due.set()
        return {"KeyId": key.arn, "KeyMaterialId": material_id}

    @handler("DeleteImportedKeyMaterial")
    def delete_imported_key_material(self, ctx: RequestContext, KeyId: str,
                                     KeyMaterialId: str | None = None) -> dict:
        key = self.keys.resolve(ctx, KeyId, aliases=False)
        self.imports.delete_material(key)
        return {"KeyId": key.arn}

    # -- multi-Region keys ----------------------------------------------------------------

    @handler("ReplicateKey")
    def replicate_key(self, ctx: RequestContext, KeyId: str, ReplicaRegion: str,
                      Policy: str | None = None, BypassPolicyLockoutSafetyCheck: bool = False,
                      Description: str | None = None, Tags: list | None = None) -> dict:
        replica = self.multi_region.replicate(ctx, self.keys.resolve(ctx, KeyId, aliases=False),
                                      ReplicaRegion, Policy, BypassPolicyLockoutSafetyCheck,
                                      Description, Tags or [])
        return {"ReplicaKeyMetadata": self.keys.describe(replica),
                "ReplicaPolicy": replica.record["policy"],
                "ReplicaTags": self.keys.tag_list(replica)}

    @handler("UpdatePrimaryRegion")
    def update_primary_region(self, ctx: RequestContext, KeyId: str, PrimaryRegion: str) -> dict:
        self.multi_region.update_primary_region(self.keys.resolve(ctx, KeyId, aliases=False),
                                        PrimaryRegion)
        return {}

    # -- key policies ---------------------------------------------------------------------

    @handler("GetKeyPolicy")
    def get_key_policy(self, ctx: RequestContext, KeyId: str,
                       PolicyName: str | None = None) -> dict:
        key = self.keys.resolve(ctx, KeyId, aliases=False)
        self.keys.require_policy_name(PolicyName)
        return {"Policy": key.record["policy"], "PolicyName": "default"}

    @handler("PutKeyPolicy")
    def put_key_policy(self, ctx: RequestContext, KeyId: str, Policy: str,
                       PolicyName: str | None = None,
                       BypassPolicyLockoutSafetyCheck: bool = False) -> dict:
        self.keys.put_policy(self.keys.resolve(ctx, KeyId, aliases=False), PolicyName, Policy,
                             BypassPolicyLockoutSafetyCheck)
        return {}

    @handler("ListKeyPolicies")
    def list_key_policies(self, ctx: RequestContext, KeyId: str, Limit: int | None = None,
                          Marker: str | None = None) -> dict:
        self.keys.resolve(ctx, KeyId, aliases=False)
        return {"PolicyNames": ["default"], "Truncated": False}

    # -- tags -----------------------------------------------------------------------------

    @handler("TagResource")
    def tag_resource(self, ctx: RequestContext, KeyId: str, Tags: list) -> dict:
        self.keys.tag(self.keys.resolve(ctx, KeyId, aliases=False), Tags)
        return {}

    @handler("UntagResource")
    def untag_resource(self, ctx: RequestContext, KeyId: str, TagKeys: list) -> dict:
        self.keys.untag(self.keys.resolve(ctx, KeyId, aliases=False), TagKeys)
        return {}

    @handler("ListResourceTags")
    def list_resource_tags(self, ctx: RequestContext, KeyId: str, Limit: int | None = None,
                           Marker: str | None = None) -> dict:
        key = self.keys.resolve(ctx, KeyId, aliases=False)
        tags, marker = page(self.keys.tag_list(key), page_size(Limit, 50, 50), Marker)
        return listing(tags, "Tags", marker)

    # -- aliases --------------------------------------------------------------------------

    @handler("CreateAlias")
    def create_alias(self, ctx: RequestContext, AliasName: str, TargetKeyId: str) -> dict:
        self.keys.create_alias(ctx, AliasName, TargetKeyId)
        return {}

    @handler("UpdateAlias")
    def update_alias(self, ctx: RequestContext, AliasName: str, TargetKeyId: str) -> dict:
        self.keys.update_alias(ctx, AliasName, TargetKeyId)
        return {}

    @handler("DeleteAlias")
    def delete_alias(self, ctx: RequestContext, AliasName: str) -> dict:
        self.keys.delete_alias(ctx, AliasName)
        return {}

    @handler("ListAliases")
    def list_aliases(self, ctx: RequestContext, KeyId: str | None = None,
                     Limit: int | None = None, Marker: str | None = None) -> dict:
        key = None if KeyId is None else self.keys.resolve(ctx, KeyId, aliases=False)
        return self.keys.list_aliases(ctx, key, page_size(Limit, 50, 100), Marker)

    # -- rotation -------------------------------------------------------------------------

    @handler("EnableKeyRotation")
    def enable_key_rotation(self, ctx: RequestContext, KeyId: str,
                            RotationPeriodInDays: int | None = None) -> dict:
        self.keys.enable_rotation(self.keys.resolve(ctx, KeyId, aliases=False),
                                  RotationPeriodInDays)
        return {}

    @handler("DisableKeyRotation")
    def disable_key_rotation(self, ctx: RequestContext, KeyId: str) -> dict:
        self.keys.disable_rotation(self.keys.resolve(ctx, KeyId, aliases=False))
        return {}

    @handler("GetKeyRotationStatus")
    def get_key_rotation_status(self, ctx: RequestContext, KeyId: str) -> dict:
        return self.keys.rotation_status(self.keys.resolve(ctx, KeyId, aliases=False))

    @handler("RotateKeyOnDemand")
    def rotate_key_on_demand(self, ctx: RequestContext, KeyId: str) -> dict:
        key = self.keys.resolve(ctx, KeyId, aliases=False)
        self.keys.rotate_on_demand(key)
        return {"KeyId": key.id}

    @handler("ListKeyRotations")
    def list_key_rotations(self, ctx: RequestContext, KeyId: str, Limit: int | None = None,
                           Marker: str | None = None,
                           IncludeKeyMaterial: str | None = None) -> dict:
        key = self.keys.resolve(ctx, KeyId, aliases=False)
        self.keys.require_rotation_support(key)
        rotations, marker = page(self.keys.rotations(key), page_size(Limit, 100, 1000), Marker)
        return listing(rotations, "Rotations", marker)

    # -- cryptography ---------------------------------------------------------------------

    @handler("Encrypt")
    def encrypt(self, ctx: RequestContext, KeyId: str, Plaintext: bytes,
                EncryptionContext: dict | None = None, GrantTokens=None,
                EncryptionAlgorithm: str | None = None, DryRun: bool | None = None) -> dict:
        return _checked(self.cryptography.encrypt(ctx, KeyId, Plaintext, EncryptionContext,
                                                EncryptionAlgorithm), DryRun)

    @handler("Decrypt")
    def decrypt(self, ctx: RequestContext, CiphertextBlob: bytes | None = None,
                EncryptionContext: dict | None = None, GrantTokens=None,
                KeyId: str | None = None, EncryptionAlgorithm: str | None = None,
                Recipient: dict | None = None, DryRun: bool | None = None,
                DryRunModifiers=None) -> dict:
        _no_recipient(Recipient)
        _ciphertext_needed(CiphertextBlob, DryRun, DryRunModifiers)
        return _checked(self.cryptography.decrypt(ctx, CiphertextBlob, EncryptionContext, KeyId,
                                                EncryptionAlgorithm), DryRun)

    @handler("ReEncrypt")
    def re_encrypt(self, ctx: RequestContext, DestinationKeyId: str,
                   CiphertextBlob: bytes | None = None,
                   SourceEncryptionContext: dict | None = None, SourceKeyId: str | None = None,
                   DestinationEncryptionContext: dict | None = None,
                   SourceEncryptionAlgorithm: str | None = None,
                   DestinationEncryptionAlgorithm: str | None = None, GrantTokens=None,
                   DryRun: bool | None = None, DryRunModifiers=None) -> dict:
        _ciphertext_needed(CiphertextBlob, DryRun, DryRunModifiers)
        return _checked(self.cryptography.re_encrypt(
            ctx, CiphertextBlob, SourceEncryptionContext, SourceKeyId, DestinationKeyId,
            DestinationEncryptionContext, SourceEncryptionAlgorithm,
            DestinationEncryptionAlgorithm), DryRun)

    @handler("GenerateDataKey")
    def generate_data_key(self, ctx: RequestContext, KeyId: str,
                          EncryptionContext: dict | None = None,
                          NumberOfBytes: int | None = None, KeySpec: str | None = None,
                          GrantTokens=None, Recipient: dict | None = None,
                          DryRun: bool | None = None) -> dict:
        _no_recipient(Recipient)
        return _checked(self.cryptography.generate_data_key(
            ctx, KeyId, KeySpec, NumberOfBytes, EncryptionContext, "GenerateDataKey"), DryRun)

    @handler("GenerateDataKeyWithoutPlaintext")
    def generate_data_key_without_plaintext(self, ctx: RequestContext, KeyId: str,
                                            EncryptionContext: dict | None = None,
                                            KeySpec: str | None = None,
                                            NumberOfBytes: int | None = None, GrantTokens=None,
                                            DryRun: bool | None = None) -> dict:
        result = self.cryptography.generate_data_key(ctx, KeyId, KeySpec, NumberOfBytes,
                                                   EncryptionContext,
                                                   "GenerateDataKeyWithoutPlaintext")
        del result["Plaintext"]
        return _checked(result, DryRun)

    @handler("GenerateDataKeyPair")
    def generate_data_key_pair(self, ctx: RequestContext, KeyId: str, KeyPairSpec: str,
                               EncryptionContext: dict | None = None, GrantTokens=None,
                               Recipient: dict | None = None,
                               DryRun: bool | None = None) -> dict:
        _no_recipient(Recipient)
        return _checked(self.cryptography.generate_data_key_pair(
            ctx, KeyId, KeyPairSpec, EncryptionContext, "GenerateDataKeyPair"), DryRun)

    @handler("GenerateDataKeyPairWithoutPlaintext")
    def generate_data_key_pair_without_plaintext(self, ctx: RequestContext, KeyId: str,
                                                 KeyPairSpec: str,
                                                 EncryptionContext: dict | None = None,
                                                 GrantTokens=None,
                                                 DryRun: bool | None = None) -> dict:
        result = self.cryptography.generate_data_key_pair(
            ctx, KeyId, KeyPairSpec, EncryptionContext, "GenerateDataKeyPairWithoutPlaintext")
        del result["PrivateKeyPlaintext"]
        return _checked(result, DryRun)

    @handler("GenerateRandom")
    def generate_random(self, ctx: RequestContext, NumberOfBytes: int | None = None,
                        CustomKeyStoreId: str | None = None,
                        Recipient: dict | None = None) -> dict:
        _no_recipient(Recipient)
        if NumberOfBytes is None:
            raise ServiceError("ValidationException", "NumberOfBytes is required.")
        if CustomKeyStoreId:
            raise ServiceError("CustomKeyStoreNotFoundException",
                               f"Custom key store {CustomKeyStoreId} not found")
        return {"Plaintext": os.urandom(NumberOfBytes)}

    @handler("Sign")
    def sign(self, ctx: RequestContext, KeyId: str, Message: bytes, SigningAlgorithm: str,
             MessageType: str = "RAW", GrantTokens=None, DryRun: bool | None = None) -> dict:
        return _checked(self.cryptography.sign(ctx, KeyId, Message, MessageType,
                                             SigningAlgorithm), DryRun)

    @handler("Verify")
    def verify(self, ctx: RequestContext, KeyId: str, Message: bytes, Signature: bytes,
               SigningAlgorithm: str, MessageType: str = "RAW", GrantTokens=None,
               DryRun: bool | None = None) -> dict:
        return _checked(self.cryptography.verify(ctx, KeyId, Message, MessageType, Signature,
                                               SigningAlgorithm), DryRun)

    @handler("GenerateMac")
    def generate_mac(self, ctx: RequestContext, Message: bytes, KeyId: str, MacAlgorithm: str,
                     GrantTokens=None, DryRun: bool | None = None) -> dict:
        return _checked(self.cryptography.generate_mac(ctx, KeyId, Message, MacAlgorithm), DryRun)

    @handler("VerifyMac")
    def verify_mac(self, ctx: RequestContext, Message: bytes, KeyId: str, MacAlgorithm: str,
                   Mac: bytes, GrantTokens=None, DryRun: bool | None = None) -> dict:
        return _checked(self.cryptography.verify_mac(ctx, KeyId, Message, MacAlgorithm, Mac),
                        DryRun)

    @handler("GetPublicKey")
    def get_public_key(self, ctx: RequestContext, KeyId: str, GrantTokens=None) -> dict:
        return self.cryptography.get_public_key(ctx, KeyId)

    @handler("DeriveSharedSecret")
    def derive_shared_secret(self, ctx: RequestContext, KeyId: str, KeyAgreementAlgorithm: str,
                             PublicKey: bytes, GrantTokens=None, DryRun: bool | None = None,
                             Recipient: dict | None = None) -> dict:
        _no_recipient(Recipient)
        return _checked(self.cryptography.derive_shared_secret(ctx, KeyId, KeyAgreementAlgorithm,
                                                             PublicKey), DryRun)

    @handler("Encapsulate")
    def encapsulate(self, ctx: RequestContext, KeyId: str, EncapsulationAlgorithm: str,
                    GrantTokens=None, DryRun: bool | None = None) -> dict:
        return _checked(self.cryptography.encapsulate(ctx, KeyId, EncapsulationAlgorithm),
                        DryRun)

    @handler("Decapsulate")
    def decapsulate(self, ctx: RequestContext, KeyId: str, SharedSecretCiphertextBlob: bytes,
                    EncapsulationAlgorithm: str, GrantTokens=None,
                    DryRun: bool | None = None) -> dict:
        return _checked(self.cryptography.decapsulate(ctx, KeyId, SharedSecretCiphertextBlob,
                                                      EncapsulationAlgorithm), DryRun)

    # -- grants ---------------------------------------------------------------------------

    @handler("CreateGrant")
    def create_grant(self, ctx: RequestContext, KeyId: str, Operations: list,
                     GranteePrincipal: str | None = None,
                     GranteeServicePrincipal: str | None = None,
                     RetiringPrincipal: str | None = None,
                     RetiringServicePrincipal: str | None = None,
                     Constraints: dict | None = None, GrantTokens=None, Name: str | None = None,
                     DryRun: bool | None = None) -> dict:
        key = self.keys.resolve(ctx, KeyId, aliases=False)
        grantee = Principal.one_of("GranteePrincipal", GranteePrincipal,
                                   "GranteeServicePrincipal", GranteeServicePrincipal)
        retiring = Principal.one_of("RetiringPrincipal", RetiringPrincipal,
                                    "RetiringServicePrincipal", RetiringServicePrincipal,
                                    required=grantee.is_service)
        return _checked(self.grants.create(ctx, key, grantee, Operations, retiring,
                                           Constraints, Name), DryRun)

    @handler("ListGrants")
    def list_grants(self, ctx: RequestContext, KeyId: str, Limit: int | None = None,
                    Marker: str | None = None, GrantId: str | None = None,
                    GranteePrincipal: str | None = None,
                    GranteeServicePrincipal: str | None = None) -> dict:
        key = self.keys.resolve(ctx, KeyId, aliases=False)
        grantee = Principal.one_of("GranteePrincipal", GranteePrincipal,
                                   "GranteeServicePrincipal", GranteeServicePrincipal,
                                   required=False)
        return self.grants.list(ctx, key, GrantId, grantee, page_size(Limit, 50, 100), Marker)

    @handler("ListRetirableGrants")
    def list_retirable_grants(self, ctx: RequestContext, RetiringPrincipal: str | None = None,
                              RetiringServicePrincipal: str | None = None,
                              Limit: int | None = None, Marker: str | None = None) -> dict:
        retiring = Principal.one_of("RetiringPrincipal", RetiringPrincipal,
                                    "RetiringServicePrincipal", RetiringServicePrincipal)
        return self.grants.list_retirable(ctx, retiring, page_size(Limit, 50, 100), Marker)

    @handler("RetireGrant")
    def retire_grant(self, ctx: RequestContext, GrantToken: str | None = None,
                     KeyId: str | None = None, GrantId: str | None = None,
                     DryRun: bool | None = None) -> dict:
        key = None if KeyId is None else self.keys.resolve(ctx, KeyId, aliases=False)
        self.grants.retire(ctx, GrantToken, key, GrantId)
        return _checked({}, DryRun)

    @handler("RevokeGrant")
    def revoke_grant(self, ctx: RequestContext, KeyId: str, GrantId: str,
                     DryRun: bool | None = None) -> dict:
        self.grants.revoke(ctx, self.keys.resolve(ctx, KeyId, aliases=False), GrantId)
        return _checked({}, DryRun)

    # -- lifecycle ------------------------------------------------------------------------

    async def background(self) -> None:
        """Deletes keys whose waiting period is over, rotates keys that are due, and keeps RSA
        keys ready (keypool.py)."""
        await asyncio.gather(
            sweep_forever("kms", self.runtime.store, self.keys.sweep, self._sweep_due,
                          SWEEP_INTERVAL),
            self.keys.pool.keep_filled())


def _ciphertext_needed(ciphertext: bytes | None, dry_run_requested: bool | None,
                       modifiers: list | None) -> None:
    """CiphertextBlob is optional in the model only for a dry run that ignores it (the API
    reference: required "except when DryRun is true and DryRunModifiers is set to
    IGNORE_CIPHERTEXT"); such a dry run is done once the caller is authorized."""
    if dry_run_requested and "IGNORE_CIPHERTEXT" in (modifiers or ()):
        raise dry_run()
    if ciphertext is None:
        raise ServiceError("ValidationException", "1 validation error detected: Value null at "
                           "'ciphertextBlob' failed to satisfy constraint: Member must not be "
                           "null")


def _no_recipient(recipient: dict | None) -> None:
    # Recipient is for Nitro Enclaves attestation documents, which nubo cannot verify.
    if recipient:
        raise ServiceError("NotImplemented", "Recipient (Nitro Enclaves attestation) is not "
                           "implemented by nubo.", 501, sender_fault=False)
