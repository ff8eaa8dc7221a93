"""KMS aliases (naming rules, the reserved aws/ namespace, UpdateAlias) and grants."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conftest import error_of
from tests.kms.conftest import unique_alias


def test_alias_life_cycle(kms, make_key):
    first, second = make_key(), make_key()
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=first["Arn"])
    [listed] = kms.list_aliases(KeyId=first["KeyId"])["Aliases"]
    assert listed["AliasName"] == alias and listed["TargetKeyId"] == first["KeyId"]
    assert listed["AliasArn"] == f"arn:aws:kms:us-east-1:000000000000:{alias}"
    with pytest.raises(ClientError) as raised:
        kms.create_alias(AliasName=alias, TargetKeyId=second["KeyId"])
    assert error_of(raised)[:2] == ("AlreadyExistsException", "An alias with the name "
                                    f"arn:aws:kms:us-east-1:000000000000:{alias} already exists")
    kms.update_alias(AliasName=alias, TargetKeyId=second["KeyId"])
    assert kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"] == second["KeyId"]
    assert kms.list_aliases(KeyId=first["KeyId"])["Aliases"] == []
    kms.delete_alias(AliasName=alias)
    with pytest.raises(ClientError) as raised:
        kms.delete_alias(AliasName=alias)
    assert error_of(raised)[0] == "NotFoundException"


def test_alias_naming_rules(kms, make_key):
    key = make_key()
    with pytest.raises(ClientError) as raised:
        kms.create_alias(AliasName="no-prefix", TargetKeyId=key["KeyId"])
    assert error_of(raised)[:2] == ("ValidationException", 'Alias must start with the prefix '
                                    '"alias/". Please see https://docs.aws.amazon.com/kms/latest/'
                                    'developerguide/kms-alias.html')
    with pytest.raises(ClientError) as raised:
        kms.create_alias(AliasName="alias/aws/mine", TargetKeyId=key["KeyId"])
    assert error_of(raised)[0] == "NotAuthorizedException"
    with pytest.raises(ClientError) as raised:
        kms.create_alias(AliasName=unique_alias(), TargetKeyId=unique_alias())
    assert error_of(raised)[0] == "NotFoundException"


def test_update_alias_needs_the_same_key_type(kms, make_key):
    alias = unique_alias()
    kms.create_alias(AliasName=alias, TargetKeyId=make_key()["KeyId"])
    signing = make_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    with pytest.raises(ClientError) as raised:
        kms.update_alias(AliasName=alias, TargetKeyId=signing["KeyId"])
    assert error_of(raised)[0] == "ValidationException"


def test_alias_list_paginates(kms, make_key):
    key = make_key()
    names = sorted(unique_alias("page") for _ in range(3))
    for name in names:
        kms.create_alias(AliasName=name, TargetKeyId=key["KeyId"])
    first = kms.list_aliases(KeyId=key["KeyId"], Limit=2)
    assert first["Truncated"] is True
    rest = kms.list_aliases(KeyId=key["KeyId"], Limit=2, Marker=first["NextMarker"])
    assert [a["AliasName"] for a in first["Aliases"] + rest["Aliases"]] == names
    assert rest["Truncated"] is False


def test_grant_life_cycle(kms, make_key):
    key = make_key()
    grantee = "arn:aws:iam::000000000000:role/app"
    retiring = "arn:aws:iam::000000000000:role/admin"
    created = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=grantee,
                               RetiringPrincipal=retiring, Operations=["Encrypt", "Decrypt"],
                               Constraints={"EncryptionContextSubset": {"app": "x"}},
                               Name="app-grant")
    assert len(created["GrantId"]) == 64 and created["GrantToken"]
    again = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=grantee,
                             RetiringPrincipal=retiring, Operations=["Decrypt", "Encrypt"],
                             Constraints={"EncryptionContextSubset": {"app": "x"}},
                             Name="app-grant")
    assert again["GrantId"] == created["GrantId"]  # same name and parameters: idempotent
    [grant] = kms.list_grants(KeyId=key["KeyId"])["Grants"]
    assert grant["GranteePrincipal"] == grantee and grant["Name"] == "app-grant"
    assert sorted(grant["Operations"]) == ["Decrypt", "Encrypt"]
    assert grant["IssuingAccount"] == "arn:aws:iam::000000000000:root"
    assert grant["KeyId"] == key["Arn"]
    retirable = kms.list_retirable_grants(RetiringPrincipal=retiring)["Grants"]
    assert created["GrantId"] in {g["GrantId"] for g in retirable}
    kms.retire_grant(GrantToken=created["GrantToken"])
    assert kms.list_grants(KeyId=key["KeyId"])["Grants"] == []
    second = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=grantee,
                              Operations=["GenerateDataKey"])
    kms.revoke_grant(KeyId=key["KeyId"], GrantId=second["GrantId"])
    with pytest.raises(ClientError) as raised:
        kms.revoke_grant(KeyId=key["KeyId"], GrantId=second["GrantId"])
    assert error_of(raised)[0] == "NotFoundException"


def test_grant_operations_must_fit_the_key(kms, make_key):
    key = make_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")
    with pytest.raises(ClientError) as raised:
        kms.create_grant(KeyId=key["KeyId"], GranteePrincipal="arn:aws:iam::000000000000:root",
                         Operations=["Encrypt"])
    assert error_of(raised)[0] == "ValidationException"
    assert kms.create_grant(KeyId=key["KeyId"],
                            GranteePrincipal="arn:aws:iam::000000000000:root",
                            Operations=["GenerateMac"])["GrantId"]


def test_dry_run_grant_changes_nothing(kms, make_key):
    key = make_key()
    with pytest.raises(ClientError) as raised:
        kms.create_grant(KeyId=key["KeyId"], GranteePrincipal="arn:aws:iam::000000000000:root",
                         Operations=["Encrypt"], DryRun=True)
    assert error_of(raised)[0] == "DryRunOperationException"
    assert kms.list_grants(KeyId=key["KeyId"])["Grants"] == []


def test_list_limits_are_awss(kms):
    with pytest.raises(ClientError) as raised:
        kms.list_aliases(Limit=101)
    assert error_of(raised)[:2] == ("ValidationException", "1 validation error detected: Value "
                                    "'101' at 'limit' failed to satisfy constraint: Member must "
                                    "have value less than or equal to 100")
    assert len(kms.list_keys(Limit=1000)["Keys"]) <= 1000


def test_predefined_aws_aliases_are_listed(kms):
    names, marker = {}, None
    while True:
        page = kms.list_aliases(Limit=100, **({"Marker": marker} if marker else {}))
        names.update({a["AliasName"]: a for a in page["Aliases"]})
        if not page["Truncated"]:
            break
        marker = page["NextMarker"]
    assert "alias/aws/rds" in names
    kms.describe_key(KeyId="alias/aws/kinesis")  # creates the AWS managed key
    aliases = kms.list_aliases(Limit=100, Marker="alias/aws/kinesis")["Aliases"]
    assert aliases[0]["AliasName"] == "alias/aws/kinesis" and "TargetKeyId" in aliases[0]


def test_grant_to_a_service_principal(kms, make_key):
    """A grant's grantee may be an AWS service principal, bound to the resource it acts for
    (a SourceArn constraint) and retirable by a principal named either way."""
    key = make_key()
    source = "arn:aws:logs:us-east-1:000000000000:log-group:app"
    created = kms.create_grant(KeyId=key["KeyId"], GranteeServicePrincipal="logs.amazonaws.com",
                               RetiringServicePrincipal="logs.amazonaws.com",
                               Operations=["Decrypt"], Constraints={"SourceArn": source})
    [grant] = kms.list_grants(KeyId=key["KeyId"])["Grants"]
    assert grant["GrantId"] == created["GrantId"]
    assert grant["GranteeServicePrincipal"] == "logs.amazonaws.com"
    assert grant["RetiringServicePrincipal"] == "logs.amazonaws.com"
    assert "GranteePrincipal" not in grant and "RetiringPrincipal" not in grant
    assert grant["Constraints"] == {"SourceArn": source}
    by_service = kms.list_grants(KeyId=key["KeyId"], GranteeServicePrincipal="logs.amazonaws.com")
    assert [g["GrantId"] for g in by_service["Grants"]] == [created["GrantId"]]
    assert kms.list_grants(KeyId=key["KeyId"],
                           GranteePrincipal="logs.amazonaws.com")["Grants"] == []
    retirable = kms.list_retirable_grants(RetiringServicePrincipal="logs.amazonaws.com")
    assert created["GrantId"] in {g["GrantId"] for g in retirable["Grants"]}


@pytest.mark.parametrize("members", [
    {"GranteePrincipal": "arn:aws:iam::000000000000:root",
     "GranteeServicePrincipal": "logs.amazonaws.com"},  # both grantees
    {},  # no grantee
    {"GranteeServicePrincipal": "logs.amazonaws.com",
     "RetiringPrincipal": "arn:aws:iam::000000000000:root"},  # no SourceArn constraint
    {"GranteeServicePrincipal": "logs.amazonaws.com",
     "Constraints": {"SourceArn": "arn:aws:logs:us-east-1:000000000000:log-group:a"}},  # no retiring principal
])
def test_grant_principals_are_validated(kms, make_key, members):
    key = make_key()
    with pytest.raises(ClientError) as raised:
        kms.create_grant(KeyId=key["KeyId"], Operations=["Decrypt"], **members)
    assert error_of(raised)[0] == "ValidationException"
    assert kms.list_grants(KeyId=key["KeyId"])["Grants"] == []


def test_list_retirable_grants_names_one_principal(kms):
    for members in ({}, {"RetiringPrincipal": "arn:aws:iam::000000000000:root",
                         "RetiringServicePrincipal": "logs.amazonaws.com"}):
        with pytest.raises(ClientError) as raised:
            kms.list_retirable_grants(**members)
        assert error_of(raised)[0] == "ValidationException"


def test_list_keys_by_resource_owner(kms, make_key):
    key = make_key()
    own = {k["KeyId"] for k in kms.list_keys(ResourceOwners=["SELF"], Limit=1000)["Keys"]}
    assert key["KeyId"] in own
    # keys shared through RAM: nubo's accounts share none
    assert kms.list_keys(ResourceOwners=["OTHER_ACCOUNTS_VIA_RAM"])["Keys"] == []
