"""Identity-provider tokens for AssumeRoleWithWebIdentity (OIDC JWTs) and AssumeRoleWithSAML
(SAML 2.0 responses): what they claim, checked against the providers registered in IAM.

nubo checks issuer, audience, expiry, the role/provider pair of a SAML assertion and, with IAM
on, signatures: a SAML assertion's XML signature against the certificates of the SAML provider's
metadata, and a JWT's against the keys its IdP publishes (nubo.services.sts.oidc, fetched over
HTTPS as STS fetches them). With IAM off (drop-in use), the claims and the IAM provider's
registration are what admit a token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from datetime import datetime

import orjson
from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from lxml import etree
from signxml import InvalidCertificate, InvalidInput, InvalidSignature, XMLVerifier
from signxml.verifier import SignatureConfiguration

from nubo.core.errors import ServiceError

# Issuers AWS trusts without an IAM OIDC provider (the Federated principal names them).
BUILT_IN_PROVIDERS = {"cognito-identity.amazonaws.com", "accounts.google.com",
                      "graph.facebook.com", "www.amazon.com"}
SAML_AUDIENCE = "https://signin.aws.amazon.com/saml"
ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
SESSION_NAME_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
SESSION_DURATION_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
# The signing key is the provider's certificate; a KeyInfo in the response adds nothing.
_SIGNATURES = SignatureConfiguration(ignore_ambiguous_key_info=True)
_NS = {"saml": "urn:oasis:names:tc:SAML:2.0:assertion",
       "samlp": "urn:oasis:names:tc:SAML:2.0:protocol"}


def invalid_token(message: str) -> ServiceError:
    return ServiceError("InvalidIdentityToken", message, 400)


def idp_rejected(message: str) -> ServiceError:
    return ServiceError("IDPRejectedClaim", message, 403)


@dataclass(frozen=True)
class WebIdentity:
    issuer: str  # without scheme: the provider's URL as IAM names it
    subject: str
    audience: str
    expires: float
    claims: dict


def parse_jwt(token: str) -> WebIdentity:
    parts = token.split(".")
    if len(parts) != 3:
        raise invalid_token("The web identity token is not a valid JWT.")
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = orjson.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError):
        raise invalid_token("The web identity token is not a valid JWT.") from None
    if not isinstance(claims, dict):
        raise invalid_token("The web identity token is not a valid JWT.")
    audience = claims.get("aud")
    if isinstance(audience, list):
        audience = audience[0] if audience else ""
    issuer = str(claims.get("iss", "")).removeprefix("https://").rstrip("/")
    return WebIdentity(issuer, str(claims.get("sub", "")), str(audience or ""),
                       float(claims.get("exp", 0) or 0), claims)


def check_web_identity(identity: WebIdentity, provider: dict | None, now: float) -> None:
    """``provider``: the IAM OIDC provider of the token's issuer (None for built-in ones)."""
    if identity.issuer not in BUILT_IN_PROVIDERS:
        if provider is None:
            raise invalid_token(f"No OpenIDConnect provider found in your account for "
                                f"https://{identity.issuer}")
        if identity.audience not in provider.get("ClientIDList", []):
            raise invalid_token("Incorrect token audience")
    if identity.expires and now >= identity.expires:
        raise ServiceError("ExpiredTokenException", "Token expired: current date/time "
                           f"{_iso(now)} must be before the expiration date/time "
                           f"{_iso(identity.expires)}", 400)


@dataclass(frozen=True)
class SamlAssertion:
    issuer: str
    subject: str
    subject_type: str
    audiences: tuple[str, ...]
    not_on_or_after: float | None
    roles: tuple[tuple[str, str], ...]  # (role ARN, provider ARN) pairs
    session_name: str
    session_duration: int | None
    attributes: dict[str, list[str]]


def decode_saml(encoded: str) -> bytes:
    try:
        return base64.b64decode(encoded, validate=False)
    except (binascii.Error, ValueError):
        raise invalid_token("Invalid SAML assertion: the response could not be parsed") from None


def verified_saml(document: bytes, metadata: str) -> bytes:
    """The part of a SAML response its IdP signed (the Response or the Assertion), checked
    against the signing certificates of the provider's metadata with signxml; only what was
    signed is read afterwards, so a wrapped, unsigned assertion cannot slip in."""
    try:
        certificates = [("".join((c.text or "").split())) for c in ElementTree.fromstring(
            metadata).iter("{http://www.w3.org/2000/09/xmldsig#}X509Certificate")]
    except ElementTree.ParseError:
        certificates = []
    for certificate in certificates:
        pem = ("-----BEGIN CERTIFICATE-----\n" + "\n".join(
            certificate[i:i + 64] for i in range(0, len(certificate), 64)) +
            "\n-----END CERTIFICATE-----\n")
        try:
            result = XMLVerifier().verify(document, x509_cert=pem, expect_config=_SIGNATURES)
        except (InvalidInput, InvalidSignature, InvalidCertificate, ValueError):
            continue
        return etree.tostring(result.signed_xml)
    raise invalid_token("Invalid SAML assertion: the response is not signed by the identity "
                        "provider's certificate")


_XENC = "http://www.w3.org/2001/04/xmlenc#"
_XENC11 = "http://www.w3.org/2009/xmlenc11#"
_ENCRYPTED_ASSERTION = "{urn:oasis:names:tc:SAML:2.0:assertion}EncryptedAssertion"
_OAEP_DIGESTS = {"http://www.w3.org/2000/09/xmldsig#sha1": hashes.SHA1,
                 "http://www.w3.org/2001/04/xmlenc#sha256": hashes.SHA256,
                 "http://www.w3.org/2001/04/xmldsig-more#sha384": hashes.SHA384,
                 "http://www.w3.org/2001/04/xmlenc#sha512": hashes.SHA512}
_OAEP_MGFS = {_XENC11 + "mgf1sha1": hashes.SHA1, _XENC11 + "mgf1sha224": hashes.SHA224,
              _XENC11 + "mgf1sha256": hashes.SHA256, _XENC11 + "mgf1sha384": hashes.SHA384,
              _XENC11 + "mgf1sha512": hashes.SHA512}
_CONTENT_CIPHERS = {f"{_XENC}aes{bits}-cbc": "cbc" for bits in (128, 192, 256)} | {
    f"{_XENC11}aes{bits}-gcm": "gcm" for bits in (128, 192, 256)}


def saml_document(document: bytes, provider: dict | None, verify: bool) -> bytes:
    """The SAML response to read: its encrypted assertion decrypted with the provider's
    private keys (IAM's AddPrivateKey), a plaintext one refused when the provider requires
    encryption, and, with ``verify``, only what the IdP signed: the Response (verified as
    sent, over the encrypted assertion) or the assertion inside (verified once decrypted)."""
    if not verify or provider is None:
        return _decrypted(document, provider)
    try:
        signed = verified_saml(document, provider["Metadata"])
    except ServiceError:
        return verified_saml(_decrypted(document, provider), provider["Metadata"])
    return _decrypted(signed, provider)


def _decrypted(document: bytes, provider: dict | None) -> bytes:
    try:
        root = etree.fromstring(document, etree.XMLParser(resolve_entities=False,
                                                          no_network=True))
    except etree.XMLSyntaxError:
        raise invalid_token("Invalid SAML assertion: the response could not be parsed") from None
    encrypted = next(root.iter(_ENCRYPTED_ASSERTION), None)
    if encrypted is None:
        if provider is not None and provider.get("AssertionEncryptionMode") == "Required":
            raise invalid_token("Invalid SAML assertion: the SAML provider requires encrypted "
                                "assertions")
        return document
    for pem in (provider or {}).get("PrivateKeys", ()):
        assertion = _decrypt_assertion(encrypted, pem)
        if assertion is not None:
            encrypted.getparent().replace(encrypted, assertion)
            return etree.tostring(root)
    raise invalid_token("Invalid SAML assertion: the encrypted assertion could not be "
                        "decrypted with the SAML provider's private keys")


def _decrypt_assertion(encrypted, pem: str):
    """The Assertion element of an EncryptedAssertion (XML Encryption: an RSA-OAEP encrypted
    AES key, AES-CBC or AES-GCM content), or None if ``pem`` is not its key."""
    data = encrypted.find(f"{{{_XENC}}}EncryptedData")
    wrapped = next(encrypted.iter(f"{{{_XENC}}}EncryptedKey"), None)
    if data is None or wrapped is None:
        return None
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        content_key = key.decrypt(_cipher_value(wrapped), _oaep(wrapped))
        method = data.find(f"{{{_XENC}}}EncryptionMethod")
        mode = _CONTENT_CIPHERS.get(method.get("Algorithm", "") if method is not None else "")
        cipher_text = _cipher_value(data)
        if mode == "gcm":
            plain = AESGCM(content_key).decrypt(cipher_text[:12], cipher_text[12:], None)
        elif mode == "cbc":
            decryptor = Cipher(algorithms.AES(content_key),
                               modes.CBC(cipher_text[:16])).decryptor()
            padded = decryptor.update(cipher_text[16:]) + decryptor.finalize()
            plain = padded[:-padded[-1]]  # XML Encryption's padding: its last byte, its length
        else:
            return None
        assertion = etree.fromstring(plain, etree.XMLParser(resolve_entities=False,
                                                            no_network=True))
    except (ValueError, TypeError, IndexError, UnsupportedAlgorithm, InvalidTag,
            etree.XMLSyntaxError):
        return None
    return assertion if assertion.tag.endswith("}Assertion") else None


def _cipher_value(element) -> bytes:
    value = element.find(f"{{{_XENC}}}CipherData/{{{_XENC}}}CipherValue")
    return base64.b64decode("".join((value.text or "").split())) if value is not None else b""


def _oaep(wrapped) -> padding.OAEP:
    method = wrapped.find(f"{{{_XENC}}}EncryptionMethod")
    digest_method = method.find("{http://www.w3.org/2000/09/xmldsig#}DigestMethod") \
        if method is not None else None
    mgf_method = method.find(f"{{{_XENC11}}}MGF") if method is not None else None
    digest = _OAEP_DIGESTS.get(digest_method.get("Algorithm") if digest_method is not None
                               else "", hashes.SHA1)
    mgf = _OAEP_MGFS.get(mgf_method.get("Algorithm") if mgf_method is not None else "",
                         hashes.SHA1)
    return padding.OAEP(mgf=padding.MGF1(mgf()), algorithm=digest(), label=None)


def parse_saml(document: bytes) -> SamlAssertion:
    try:
        root = ElementTree.fromstring(document)
    except ElementTree.ParseError:
        raise invalid_token("Invalid SAML assertion: the response could not be parsed") from None
    assertion = root if root.tag.endswith("}Assertion") else root.find("saml:Assertion", _NS)
    if assertion is None:
        raise invalid_token("Invalid SAML assertion: the response holds no Assertion")
    name_id = assertion.find("saml:Subject/saml:NameID", _NS)
    conditions = assertion.find("saml:Conditions", _NS)
    attributes: dict[str, list[str]] = {}
    for attribute in assertion.iterfind("saml:AttributeStatement/saml:Attribute", _NS):
        attributes[attribute.get("Name", "")] = [
            (value.text or "").strip() for value in attribute.iterfind("saml:AttributeValue", _NS)]
    roles = []
    for value in attributes.get(ROLE_ATTRIBUTE, []):
        pair = [part.strip() for part in value.split(",")]
        if len(pair) == 2:
            role = next((p for p in pair if ":role/" in p), pair[0])
            provider = next((p for p in pair if ":saml-provider/" in p), pair[1])
            roles.append((role, provider))
    duration = attributes.get(SESSION_DURATION_ATTRIBUTE, [""])[0]
    not_after = conditions.get("NotOnOrAfter") if conditions is not None else None
    return SamlAssertion(
        issuer=(assertion.findtext("saml:Issuer", "", _NS) or
                root.findtext("saml:Issuer", "", _NS)).strip(),
        subject=(name_id.text or "").strip() if name_id is not None else "",
        subject_type=_subject_type(name_id.get("Format", "") if name_id is not None else ""),
        audiences=tuple((a.text or "").strip() for a in assertion.iterfind(
            "saml:Conditions/saml:AudienceRestriction/saml:Audience", _NS)),
        not_on_or_after=_timestamp(not_after) if not_after else None,
        roles=tuple(roles),
        session_name=attributes.get(SESSION_NAME_ATTRIBUTE, [""])[0],
        session_duration=int(duration) if duration.isdigit() else None,
        attributes=attributes)


def check_saml(assertion: SamlAssertion, role_arn: str, provider_arn: str, now: float) -> None:
    if (role_arn, provider_arn) not in assertion.roles:
        raise invalid_token("Invalid SAML assertion: the assertion does not name the role "
                            f"{role_arn} with the provider {provider_arn}")
    if assertion.audiences and SAML_AUDIENCE not in assertion.audiences:
        raise invalid_token(f"Invalid SAML assertion: the audience must be {SAML_AUDIENCE}")
    if assertion.not_on_or_after is not None and now >= assertion.not_on_or_after:
        raise ServiceError("ExpiredTokenException", "Token must be redeemed within 5 minutes of "
                           "issuance", 400)
    if not assertion.session_name:
        raise invalid_token("Invalid SAML assertion: missing RoleSessionName attribute")


def name_qualifier(issuer: str, account_id: str, provider_name: str) -> str:
    """AWS's NameQualifier: base64 of SHA-1 over issuer, account id and provider name."""
    digest = hashlib.sha1(f"{issuer}{account_id}/{provider_name}".encode()).digest()
    return base64.b64encode(digest).decode()


def _subject_type(name_format: str) -> str:
    short = name_format.rsplit(":", 1)[-1]
    return short if short in ("persistent", "transient") else name_format


def _timestamp(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _iso(seconds: float) -> str:
    return datetime.utcfromtimestamp(seconds).strftime("%a %b %d %H:%M:%S UTC %Y")
