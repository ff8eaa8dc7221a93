"""Amazon S3 handlers: buckets, objects (streamed to and from disk), multipart uploads,
versioning and bucket configuration. The protocol engine parses and serializes rest-xml;
these see Python values and return the output shapes."""

from __future__ import annotations

import asyncio
import base64
import functools
import inspect
import logging
import uuid
from typing import Any, Callable
from urllib.parse import parse_qsl, quote, unquote

from nubo.core.context import RequestContext
from nubo.core.errors import ServiceError
from nubo.core.http import (REGION, BodyStream, HttpRequest, HttpResponse, service_host_labels,
                            virtual_host_label)
from nubo.core.runtime import Runtime
from nubo.policy import ResourcePolicy
from nubo.protocols import serialize_error
from nubo.services.base import ServiceProvider, handler
from nubo.services.s3 import errors, sigv2
from nubo.services.s3.blobs import BlobStore
from nubo.services.s3.acl import (acl_output, check_acl_allowed, is_public,
                                  requested_acl)
from nubo.services.s3.config import (MAX_OBJECT_TAGS, AccountBlocks, BucketConfigs,
                                     IdentifiedConfigs,
                                     check_policy, check_tags, policy_principals,
                                     effective_policy, is_public_policy, object_ownership,
                                     PUBLIC_ACCESS_SETTINGS,
                                     tags_of_header)
from nubo.services.s3.cors import find_rule, preflight_refused, rule_headers
from nubo.services.s3.lifecycle import Sweeper, abort_date, expiration_header
from nubo.services.s3.models import (MAX_BUCKETS_PAGE, Buckets, Listing, Objects,
                                     bucket_name_ok, check_key, owner_of)
from nubo.services.s3.replication import (Target, check_replication, metadata_targets,
                                          replica_of, targets, trusts_s3)
from nubo.services.s3.post import (boundary_of, policy_signed_by, post_params, post_response,
                                   read_form, signer_key_id)
from nubo.services.s3.post import check_policy as check_post_policy
from nubo.services.s3.multipart import MAX_PART_NUMBER, Uploads, check_whole_checksum
from nubo.services.s3.notifications import (Notifier, check_configuration,
                                            replication_failure_data, restore_data,
                                            s3_context)
from nubo.services.s3.schema import PENDING_REPLICATIONS
from nubo.services.s3.protection import (ARCHIVED_CLASSES, check_customer_key,
                                         check_deletable,
                                         check_mfa, check_readable, check_retention_change,
                                         encryption_of, lock_of, restore, restore_header)
from nubo.services.s3.transfer import (STORED_ATTRIBUTES, Upload, byte_range,
                                       check_delete_conditions, check_metadata,
                                       check_read_conditions, check_write_conditions,
                                       description,
                                       encryption_output, object_parts, part_span, receive,
                                       requested_algorithms, segments_of,
                                       stated_payload_sha256, stream, verify)
from nubo.services.s3.website import Website, check_website, website_bucket

log = logging.getLogger("nubo.s3")

MAX_KEYS = 1000
# Operations any region's endpoint answers for any bucket.
_ANY_REGION_OPERATIONS = frozenset({"CreateBucket", "GetBucketLocation", "ListBuckets"})
LIFECYCLE_INTERVAL = 10.0
# S3's condition keys and the input members that carry them.
_CONDITION_KEYS = (("s3:prefix", "Prefix"), ("s3:delimiter", "Delimiter"),
                   ("s3:max-keys", "MaxKeys"), ("s3:versionid", "VersionId"),
                   ("s3:x-amz-acl", "ACL"), ("s3:x-amz-copy-source", "CopySource"),
                   ("s3:x-amz-metadata-directive", "MetadataDirective"),
                   ("s3:x-amz-server-side-encryption", "ServerSideEncryption"),
                   ("s3:x-amz-server-side-encryption-aws-kms-key-id", "SSEKMSKeyId"),
                   ("s3:x-amz-storage-class", "StorageClass"),
                   ("s3:x-amz-website-redirect-location", "WebsiteRedirectLocation"),
                   ("s3:object-lock-mode", "ObjectLockMode"),
                   ("s3:object-lock-legal-hold", "ObjectLockLegalHoldStatus"))
MAX_DELETE_OBJECTS = 1000


class S3Provider(ServiceProvider):
    service_name = "s3"
    anonymous_requests = True
    # Object Lock event holds, appends, bucket namespaces, conditional aborts
    _EVENT_HOLD = ("ObjectLockEventHold", "ObjectLockEventHoldDurationDays",
                   "ObjectLockEventHoldDurationYears")
    unimplemented_members = {
        "PutObject": _EVENT_HOLD + ("WriteOffsetBytes",),  # appends (directory buckets)
        "CreateBucket": ("BucketNamespace",),
        "AbortMultipartUpload": ("IfMatchInitiatedTime",),
        "CreateMultipartUpload": _EVENT_HOLD,
        "CopyObject": _EVENT_HOLD + ("AnnotationDirective",),
        "PutObjectRetention": ("Retention.EventHold", "Retention.EventHoldDuration"),
        "PutObjectLockConfiguration": (
            "ObjectLockConfiguration.Rule.DefaultRetention.DefaultEventHold",),
    }

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self.store = runtime.store
        self.blobs = BlobStore(runtime.store, runtime.config.data_dir
                               if not runtime.config.ephemeral else None)
        self.buckets = Buckets(runtime.store, runtime.clock)
        self.objects = Objects(runtime.store, runtime.clock, self.blobs)
        self.uploads = Uploads(runtime.store, runtime.clock, self.blobs)
        self.configs = BucketConfigs(self.buckets, AccountBlocks(runtime.store))
        # inventory, metrics, analytics and Intelligent-Tiering configurations, by Id (their
        # handlers are made once for the four kinds: _identified_handlers, below the class)
        self.identified = IdentifiedConfigs(runtime.store)
        self.website = Website(self.buckets, self.objects, self.blobs, self._anonymous_may)
        self.notifier = Notifier(runtime)
        self._storage_classes = frozenset(self.model.shape_for("StorageClass").enum)
        self.pending = runtime.store.table(PENDING_REPLICATIONS)
        self._replicating: set[tuple[str, str, str]] = set()  # copies under way
        self.sweeper = Sweeper(runtime.clock, self.buckets, self.objects, self.uploads,
                               self.notifier)
        self._sweep_due = asyncio.Event()
        runtime.clock.subscribe(self._sweep_due.set)

    def reset(self) -> None:
        self.buckets.forget()
        self.configs.accounts.forget()
        self.blobs.clear()

    def dispatch(self, ctx: RequestContext, operation: str, params: dict[str, Any]) -> Any:
        # checks of the HTTP request; calls from other services (ctx.extras) have none
        charged = False
        if "Bucket" in params and operation not in _ANY_REGION_OPERATIONS and \
                "called_by" not in ctx.extras:
            self._check_region(ctx, operation, params["Bucket"])
            payer = params.get("RequestPayer")
            charged = self._requester_pays(ctx, params["Bucket"], payer)
            if params.get("CopySource"):  # the source's bucket may make the requester pay too
                charged = self._requester_pays(ctx, _source_bucket(params["CopySource"]),
                                               payer) or charged
        if params.get("ExpectedBucketOwner") is not None:
            self._check_owner(params["Bucket"], params["ExpectedBucketOwner"])
        if params.get("ExpectedSourceBucketOwner") is not None and params.get("CopySource"):
            self._check_owner(_source_bucket(params["CopySource"]),
                              params["ExpectedSourceBucketOwner"])
        result = super().dispatch(ctx, operation, params)
        if not charged:
            return result
        if inspect.isawaitable(result):
            return _charged(result)
        return {**(result or {}), "RequestCharged": "requester"}

    def _requester_pays(self, ctx: RequestContext, name: str, payer: str | None) -> bool:
        """A Requester Pays bucket serves other accounts only when they accept the charge
        (x-amz-request-payer: requester), and says it charged them; its owner pays as usual."""
        try:
            bucket = self.buckets.get(name)
        except ServiceError:
            return False
        if (bucket.get("request_payment") or {}).get("Payer") != "Requester" or \
                (ctx.access_key_id and ctx.account_id == bucket["account"]):
            return False
        if not ctx.access_key_id or payer != "requester":
            raise ServiceError("AccessDenied", "Access Denied", 403)
        return True

    def _check_mfa(self, ctx: RequestContext, bucket: dict, header: str | None) -> None:
        """MFA delete: the bucket owner's request with a valid x-amz-mfa, checked against
        IAM's MFA devices when the device is one of them."""
        from nubo.services.iam.directory import IamDirectory  # IAM's code loads only if needed
        directory = IamDirectory(self.store, self.runtime.clock)
        now = self.runtime.clock.now()

        def code_valid(serial: str, code: str) -> bool | None:
            if directory.mfa_device_user(bucket["account"], serial) is None:
                return None
            return directory.mfa_code_valid(bucket["account"], serial, code, now)
        check_mfa(header, bucket["account"], code_valid)
        if self.notifier.principal_of(ctx).startswith("AWS:") or \
                ctx.account_id != bucket["account"]:
            raise ServiceError("AccessDenied", "This operation may only be performed by the "
                               "bucket owner", 403)

    def _check_owner(self, name: str, expected: str) -> None:
        """x-amz-expected-bucket-owner: another account's bucket is AccessDenied."""
        try:
            owner = self.buckets.get(name)["account"]
        except ServiceError:
            return
        if owner != expected:
            raise ServiceError("AccessDenied", "Access Denied", 403)

    def _check_region(self, ctx: RequestContext, operation: str, name: str) -> None:
        """A request for another region than the bucket's is refused as S3 refuses it, naming
        the bucket's region (SDKs retry there): signed (SigV4 header) for another region, or
        sent to another region's endpoint (a host naming its region; nubo's own host names
        none and serves every region)."""
        signed = ctx.headers.get("authorization", "").startswith("AWS4-")
        requested = ctx.region if signed else _region_of_host(ctx.host)
        if requested is None:
            return
        try:
            region = self.buckets.get(name)["region"]
        except ServiceError:
            return  # the handler answers NoSuchBucket
        if region == requested:
            return
        headers = {"x-amz-bucket-region": region}
        if operation == "HeadBucket" or not signed:
            endpoint = ctx.host if signed else ctx.host.replace(f".{requested}.",
                                                                 f".{region}.", 1)
            raise ServiceError("PermanentRedirect", "The bucket you are attempting to access "
                               "must be addressed using the specified endpoint. Please send "
                               "all future requests to this endpoint.", 301, headers=headers,
                               fields={"Endpoint": endpoint, "Bucket": name})
        raise ServiceError("AuthorizationHeaderMalformed", "The authorization header is "
                           f"malformed; the region '{ctx.region}' is wrong; expecting "
                           f"'{region}'", 400, headers=headers, fields={"Region": region})

    # -- authorization hooks (nubo.gateway.authorization) ----------------------------------

    def verify_legacy_signature(self, request: HttpRequest, secret: str) -> bool:
        """A SigV2-signed request (header or presigned URL) verified; False for others."""
        if not sigv2.signed_by_v2(request):
            return False
        sigv2.verify(request, secret)
        return True

    def resource_names(self, ctx: RequestContext, operation: str, params: dict) -> dict[str, str]:
        names = {}
        if params.get("Bucket"):
            names["BucketName"] = params["Bucket"]
        if params.get("Key"):
            names["ObjectName"] = params["Key"]
        return names

    def condition_context(self, ctx: RequestContext, operation: str,
                          params: dict) -> dict[str, object]:
        return {key: str(params[member]) for key, member in _CONDITION_KEYS
                if params.get(member) is not None}

    def resource_policy(self, ctx: RequestContext, arn: str) -> ResourcePolicy | None:
        """A bucket's policy governs the bucket and its objects (arn:aws:s3:::bucket[/key])."""
        _, _, resource = arn.partition(":::")
        try:
            bucket = self.buckets.get(resource.split("/", 1)[0])
        except ServiceError:
            return None
        tags = ((bucket.get("tagging") or {}).get("TagSet") or [])
        object_acl = None
        name, _, key = resource.partition("/")
        if key and object_ownership(bucket) != "BucketOwnerEnforced":  # ACLs in force
            latest = self.objects.latest(name, key)
            object_acl = latest.get("ACL") if latest is not None else None
        return ResourcePolicy(effective_policy(bucket, self.configs.blocks(bucket), object_acl,
                                               arn if key else None, ctx.account_id
                                               if ctx.access_key_id else ""),
                              bucket["account"],
                              tags=tuple((tag["Key"], tag["Value"]) for tag in tags))

    async def background(self) -> None:
        """Lifecycle rules, applied every LIFECYCLE_INTERVAL seconds and when the clock moves."""
        while True:
            try:
                with self.store.transaction():
                    garbage = self.sweeper.sweep()
                await self._durable()
                self.blobs.remove_soon(garbage)
                await self._resume_replications()
            except Exception:  # keep the sweeper alive; the error is ours to fix
                log.exception("S3 lifecycle sweep failed")
                self.sweeper.more = False
            if self.sweeper.more:  # the next batch at once, after other requests
                await asyncio.sleep(0)
                continue
            try:
                await asyncio.wait_for(self._sweep_due.wait(), LIFECYCLE_INTERVAL)
            except asyncio.TimeoutError:
                pass
            self._sweep_due.clear()

    async def _resume_replications(self) -> None:
        """Replications a crash (or a failed request) left PENDING, done again."""
        for row in self.pending.find(limit=100):
            ident = (row["bucket"], row["key"], row["version_id"])
            if ident in self._replicating:
                continue
            version = self.objects.version(*ident)
            try:
                bucket = self.buckets.get(row["bucket"])
            except ServiceError:
                bucket = None
            if version is None or bucket is None or \
                    version.get("ReplicationStatus") != "PENDING":
                with self.store.transaction():
                    self.pending.delete(ident)
                continue
            await self._replicate(s3_context(bucket), bucket, version)

    def _anonymous_may(self, bucket: dict, action: str, arn: str) -> bool:
        """Whether anybody may do ``action`` on a bucket or object (a website's visitors): its
        bucket policy and ACLs decide, under the public access block, whatever nubo's IAM
        mode (S3's website endpoint serves only what is public)."""
        ctx = RequestContext(request_id="", service="s3", operation="GetObject",
                             account_id=bucket["account"], region=bucket["region"],
                             access_key_id="", protocol="rest-xml", host="")
        authorizer = self.runtime.authorizer
        return authorizer.decide(ctx, authorizer.caller("", bucket["account"]), action, arn,
                                 resource_policy=self.resource_policy(ctx, arn)).allowed

    # -- CORS (asked by the gateway for every cross-origin request) ------------------------

    def cors_preflight(self, request: HttpRequest) -> HttpResponse | None:
        """A preflight for an existing bucket, by its CORS rules (403 without a match)."""
        target = self._cors_target(request)
        if target is None:
            return None
        bucket, key = target
        rules = (bucket.get("cors") or {}).get("CORSRules") or []
        origin = request.headers.get("origin", "")
        requested = [name.strip().lower() for name in request.headers.get(
            "access-control-request-headers", "").split(",") if name.strip()]
        rule = find_rule(rules, origin, request.headers["access-control-request-method"],
                         requested)
        if rule is None:
            return serialize_error(self.model, None, preflight_refused(bool(rules), key),
                                   "rest-xml", str(uuid.uuid4()))
        return HttpResponse(200, rule_headers(rule, origin, requested), b"")

    def cors_headers(self, request: HttpRequest) -> dict[str, str] | None:
        """CORS headers of a request to an existing bucket: a matching rule's, else none."""
        target = self._cors_target(request)
        if target is None:
            return None
        rules = (target[0].get("cors") or {}).get("CORSRules") or []
        origin = request.headers.get("origin", "")
        rule = find_rule(rules, origin, request.method, [])
        return rule_headers(rule, origin, None) if rule is not None else {}

    def _cors_target(self, request: HttpRequest) -> tuple[dict, str | None] | None:
        """(bucket, key) a request names, on its website endpoint, virtual-hosted or
        path-style; None if no bucket."""
        path = request.path
        name = website_bucket(request.host) or virtual_host_label(request.host, "s3")
        if name is None:
            name, _, path = path.lstrip("/").partition("/")
            name = unquote(name)
        key = unquote(path.lstrip("/")) or None
        if not name or not bucket_name_ok(name):
            return None
        try:
            return self.buckets.get(name), key
        except ServiceError:
            return None

    # -- website endpoint (asked by the gateway before the API) ---------------------------

    async def serve_endpoint(self, request: HttpRequest) -> HttpResponse | None:
        """What S3 serves outside its API: a bucket's website endpoint, and browser form
        uploads (POST multipart/form-data to a bucket); None for any other request."""
        name = website_bucket(request.host)
        if name is not None:
            page = self.website.page(request.method, request.path, request.host, name,
                                     request.query_string, request.headers)
            return HttpResponse(page.status, page.headers, page.body)
        if "X-Amz-Credential=" in request.query_string:
            return self._presigned_elsewhere(request)
        boundary = boundary_of(request.headers.get("content-type", ""))
        if request.method != "POST" or boundary is None or request.query_string:
            return None
        name = virtual_host_label(request.host, "s3")
        if name is None:
            name, _, rest = request.path.lstrip("/").partition("/")
            if rest:
                return None
        elif request.path not in ("", "/"):
            return None
        try:
            bucket = self.buckets.get(unquote(name))
        except ServiceError:
            return None
        return await self._post_object(request, bucket, boundary)

    def _presigned_elsewhere(self, request: HttpRequest) -> HttpResponse | None:
        """A SigV4 presigned URL signed for another region than its bucket's is refused as S3
        refuses it (its signature can only be S3's in the bucket's region)."""
        scope = unquote(dict(parse_qsl(request.query_string)).get("X-Amz-Credential", ""))
        parts = scope.split("/")
        if len(parts) != 5 or parts[3] != "s3":
            return None
        name = virtual_host_label(request.host, "s3") or \
            unquote(request.path.lstrip("/").partition("/")[0])
        try:
            region = self.buckets.get(name)["region"] if bucket_name_ok(name) else parts[2]
        except ServiceError:
            return None
        if region == parts[2]:
            return None
        error = ServiceError("AuthorizationQueryParametersError", "Error parsing the "
                             f"X-Amz-Credential parameter; the region '{parts[2]}' is wrong; "
                             f"expecting '{region}'", 400, fields={"Region": region},
                             headers={"x-amz-bucket-region": region})
        return serialize_error(self.model, None, error, "rest-xml", str(uuid.uuid4()))

    def _authorize_post(self, ctx: RequestContext, fields: dict[str, str], bucket: dict,
                        key: str) -> None:
        """With signatures verified or IAM on, a form upload needs its policy signed by a
        known key, whose principal may s3:PutObject the object (bucket policy included)."""
        authorizer = getattr(self.runtime, "authorizer", None)
        if authorizer is None or (not authorizer.verify and authorizer.mode == "off"):
            return
        key_id = signer_key_id(fields)
        if not key_id or "policy" not in fields:
            raise ServiceError("AccessDenied", "Access Denied", 403)
        caller = authorizer.caller(key_id, authorizer.account_of(key_id, bucket["account"]))
        if not caller.known or not caller.active or not policy_signed_by(fields, caller.secret):
            raise ServiceError("SignatureDoesNotMatch", "The request signature we calculated "
                               "does not match the signature you provided. Check your key and "
                               "signing method.", 403)
        resource = f"arn:{ctx.partition}:s3:::{bucket['name']}/{key}"
        decision = authorizer.decide(ctx, caller, "s3:PutObject", resource,
                                     resource_policy=self.resource_policy(ctx, resource))
        if not decision.allowed and authorizer.mode == "enforce":
            raise ServiceError("AccessDenied", "Access Denied", 403)

    async def _post_object(self, request: HttpRequest, bucket: dict,
                           boundary: bytes) -> HttpResponse:
        request_id = str(uuid.uuid4())
        ctx = RequestContext(request_id=request_id, service="s3", operation="PostObject",
                             account_id=bucket["account"], region=bucket["region"],
                             access_key_id="", protocol="rest-xml", host=request.host,
                             scheme=request.scheme, headers=request.headers)
        try:
            body = request.stream if request.stream is not None else BodyStream.of(request.body)
            fields, filename, file_type, data = await read_form(body, boundary)
            key = fields.get("key")
            if not key:
                raise errors.invalid_argument("Bucket POST must contain a field named 'key'.  "
                                              "If it is specified, please check the order of "
                                              "the fields.", "key", "")
            key = key.replace("${filename}", filename or "")
            check_key(key)
            ctx.access_key_id = signer_key_id(fields) or ""  # who the events name
            limits = check_post_policy(fields, bucket["name"], key, None,
                                       self.runtime.clock.now())
            self._authorize_post(ctx, fields, bucket, key)
            params = post_params(fields, file_type)
            record = self._new_record(ctx, bucket, key, None, params)
            upload = await self._receive(ctx, BodyStream(data, None), params, from_request=False)
            if limits is not None and not limits[0] <= upload.size <= limits[1]:
                self._discard(upload)
                raise (errors.entity_too_large(upload.size, limits[1]) if upload.size > limits[1]
                       else ServiceError("EntityTooSmall", "Your proposed upload is smaller "
                                         "than the minimum allowed size", 400))
            algorithm = next(iter(upload.checksums))
            record.update(size=upload.size, etag=upload.etag,
                          checksum=[algorithm, upload.checksums[algorithm], "FULL_OBJECT"])
            record = await self._commit_version(ctx, "ObjectCreated:Post", bucket["name"], key,
                                                upload, record)
        except ServiceError as error:
            return serialize_error(self.model, None, error, "rest-xml", request_id)
        return post_response(fields, request, bucket["name"], key, record)

    # -- durability helpers ---------------------------------------------------------------

    async def _durable(self) -> None:
        pending = self.store.committed()
        if pending is not None:
            await pending

    def _remove_when_durable(self, garbage: list[str]) -> None:
        """Delete blob files dropped by this request once its commit is durable."""
        if garbage:
            asyncio.get_running_loop().create_task(self._remove_later(garbage))

    async def _remove_later(self, garbage: list[str]) -> None:
        await self._durable()
        self.blobs.remove_soon(garbage)

    async def _receive(self, ctx: RequestContext, body: BodyStream | None, params: dict,
                       algorithms: list[str] | None = None, from_request: bool = True
                       ) -> Upload:
        """The bytes of an upload (the request's body, or a copy's source), checked against
        the digests the request states."""
        algorithms = list(algorithms or requested_algorithms(params, ctx.headers))
        payload_hash = stated_payload_sha256(ctx.headers) if from_request else None
        if payload_hash is not None and "SHA256" not in algorithms:
            algorithms.append("SHA256")
        upload = await receive(self.blobs, body, body.length if body is not None else 0,
                               algorithms)
        try:
            verify(upload, params.get("ContentMD5"), params,
                   body.trailers if body is not None else {}, payload_hash)
        except ServiceError:
            self._discard(upload)
            raise
        return upload

    def _discard(self, upload: Upload) -> None:
        if upload.blob is not None:
            self.blobs.remove([upload.blob])

    # -- buckets --------------------------------------------------------------------------

    @handler("CreateBucket")
    def create_bucket(self, ctx: RequestContext, Bucket: str, CreateBucketConfiguration=None,
                      ObjectLockEnabledForBucket=None, ObjectOwnership=None, ACL=None,
                      **grants: Any) -> dict:
        location = (CreateBucketConfiguration or {}).get("LocationConstraint")
        settings = {"ownership": ObjectOwnership or "BucketOwnerEnforced"}
        acl = requested_acl(ACL, grants)
        if settings["ownership"] == "BucketOwnerEnforced" and acl not in (None, "private"):
            raise ServiceError("InvalidBucketAclWithObjectOwnership", "Bucket cannot have ACLs "
                               "set with ObjectOwnership's BucketOwnerEnforced setting", 400)
        if is_public(acl):  # a new bucket blocks public access
            raise ServiceError("InvalidBucketAclWithBlockPublicAccessError", "Bucket cannot have "
                               "public ACLs set with BlockPublicAccess enabled", 400)
        if acl is not None:
            settings["acl"] = acl
        if ObjectLockEnabledForBucket:
            settings.update(versioning="Enabled", object_lock=True)
        bucket = self.buckets.create(ctx.account_id, ctx.region, Bucket, location, settings)
        return {"Location": f"/{Bucket}",
                "BucketArn": f"arn:{ctx.partition}:s3:::{bucket['name']}"}

    @handler("HeadBucket")
    def head_bucket(self, ctx: RequestContext, Bucket: str, **_: Any) -> dict:
        bucket = self.buckets.get(Bucket)
        return {"BucketRegion": bucket["region"], "AccessPointAlias": False}

    @handler("DeleteBucket")
    def delete_bucket(self, ctx: RequestContext, Bucket: str, **_: Any) -> None:
        self.buckets.delete(Bucket, self.objects)
        self.identified.drop(Bucket)
        # S3 deletes a bucket whatever multipart uploads it has in progress, and them with it
        self._remove_when_durable(self.uploads.abort_all(Bucket))

    @handler("ListBuckets")
    def list_buckets(self, ctx: RequestContext, MaxBuckets=None, ContinuationToken=None,
                     Prefix=None, BucketRegion=None) -> dict:
        after = _decode_token(ContinuationToken) if ContinuationToken else None
        limit = MaxBuckets if MaxBuckets is not None else MAX_BUCKETS_PAGE
        if not 1 <= limit <= MAX_BUCKETS_PAGE:
            raise errors.invalid_argument("Argument max-buckets must be an integer between 1 "
                                          "and 10000", "max-buckets", limit)
        found, more = self.buckets.owned(ctx.account_id, Prefix, after, limit, BucketRegion)
        out: dict[str, Any] = {
            "Buckets": [{"Name": b["name"], "CreationDate": b["created"],
                         "BucketRegion": b["region"],
                         "BucketArn": f"arn:{ctx.partition}:s3:::{b['name']}"} for b in found],
            "Owner": owner_of(ctx.account_id), "Prefix": Prefix}
        if more:
            out["ContinuationToken"] = _encode_token(found[-1]["name"])
        return out

    @handler("GetBucketLocation")
    def get_bucket_location(self, ctx: RequestContext, Bucket: str, **_: Any) -> dict:
        region = self.buckets.get(Bucket)["region"]
        return {"LocationConstraint": "" if region == "us-east-1" else region}

    @handler("PutBucketVersioning")
    def put_bucket_versioning(self, ctx: RequestContext, Bucket: str,
                              VersioningConfiguration=None, MFA=None, **_: Any) -> None:
        status = (VersioningConfiguration or {}).get("Status")
        if status not in ("Enabled", "Suspended"):
            raise errors.malformed_xml()
        bucket = self.buckets.get(Bucket)
        if status == "Suspended" and bucket.get("object_lock"):
            raise ServiceError("InvalidBucketState", "An Object Lock configuration is present "
                               "on this bucket, so the versioning state cannot be changed.", 409)
        if status == "Suspended" and bucket.get("replication"):
            raise ServiceError("InvalidBucketState", "A replication configuration is present on "
                               "this bucket, so you cannot change the versioning state. To "
                               "change the versioning state, first delete the replication "
                               "configuration.", 409)
        changes = {"versioning": status}
        mfa_delete = (VersioningConfiguration or {}).get("MFADelete")
        if mfa_delete is not None:
            if mfa_delete not in ("Enabled", "Disabled"):
                raise errors.malformed_xml()
            changes["mfa_delete"] = mfa_delete
        # changing MFA delete, or versioning while it is on, takes the owner's MFA
        if bucket.get("mfa_delete") == "Enabled" or mfa_delete == "Enabled":
            self._check_mfa(ctx, bucket, MFA)
        self.buckets.update(Bucket, changes)

    @handler("GetBucketVersioning")
    def get_bucket_versioning(self, ctx: RequestContext, Bucket: str, **_: Any) -> dict:
        bucket = self.buckets.get(Bucket)
        return {"Status": bucket.get("versioning"), "MFADelete": bucket.get("mfa_delete")}

    # -- objects --------------------------------------------------------------------------

    @handler("PutObject")
    async def put_object(self, ctx: RequestContext, Bucket: str, Key: str,
                         Body: BodyStream | None = None, IfMatch=None, IfNoneMatch=None,
                         **params: Any) -> dict:
        check_key(Key)
        bucket = self.buckets.get(Bucket)
        record = self._new_record(ctx, bucket, Key, None, params)  # checks before the body
        upload = await self._receive(ctx, Body, params)
        record.update(size=upload.size, etag=upload.etag)
        algorithm = next(iter(upload.checksums))
        record["checksum"] = [algorithm, upload.checksums[algorithm], "FULL_OBJECT"]
        record = await self._commit_version(ctx, "ObjectCreated:Put", Bucket, Key, upload, record,
                                            IfMatch, IfNoneMatch)
        out = {"ETag": record["etag"], **encryption_output(record),
               f"Checksum{algorithm}": upload.checksums[algorithm], "ChecksumType": "FULL_OBJECT",
               "Expiration": expiration_header(bucket, record)}
        if record["versioned"]:
            out["VersionId"] = record["version_id"]
        return out

    def _new_record(self, ctx: RequestContext, bucket: dict, key: str, upload: Upload | None,
                    params: dict) -> dict:
        now = self.runtime.clock.now()
        check_metadata(params.get("Metadata"), params.get("WebsiteRedirectLocation"))
        if params.get("StorageClass") is not None and \
                params["StorageClass"] not in self._storage_classes:
            raise ServiceError("InvalidStorageClass", "The storage class you specified is not "
                               "valid", 400,
                               fields={"StorageClassRequested": params["StorageClass"]})
        record = {"key": key, "modified": now, "owner": ctx.account_id,
                  "content_type": params.get("ContentType") or "binary/octet-stream",
                  "metadata": params.get("Metadata") or {},
                  "tags": tags_of_header(params.get("Tagging")),
                  **encryption_of(params, bucket, ctx.region, ctx.account_id),
                  **lock_of(params, bucket, now)}
        if upload is not None:
            record.update(size=upload.size, etag=upload.etag)
        for name in STORED_ATTRIBUTES:
            if params.get(name) is not None:
                record[name] = params[name]
        acl = self._acl(bucket, params.get("ACL"), params)
        if acl:
            record["ACL"] = acl
        if record.get("SSEKMSKeyId"):
            record["SSEKMSKeyId"] = self._kms_key_arn(ctx, record["SSEKMSKeyId"])
        return record

    def _acl(self, bucket: dict, acl: str | None, params: dict,
             policy: dict | None = None) -> str | list[dict] | None:
        """The ACL a request sets (canned, grant headers or a policy document), if the
        bucket's object ownership and public access block allow it."""
        found = requested_acl(acl, params, policy)
        if found is not None:  # most writes set none
            check_acl_allowed(object_ownership(bucket), lambda: self.configs.blocks(bucket),
                              found)
        return found

    def _kms_key_arn(self, ctx: RequestContext, key_id: str) -> str:
        """The ARN of the KMS key an SSE-KMS write or read names (the AWS managed aws/s3 key by
        default), asked of KMS in-process; S3's KMS errors when it is missing or disabled, and
        when the request is not SigV4-signed (KMS takes no other)."""
        if ctx.signature_version != 4:
            raise errors.invalid_argument("Requests specifying Server Side Encryption with AWS "
                                          "KMS managed keys require AWS Signature Version 4.",
                                          "Authorization", "null")
        try:
            metadata = self.runtime.services.call(ctx, "kms", "DescribeKey",
                                                  {"KeyId": key_id})["KeyMetadata"]
        except ServiceError as error:
            if error.code == "NotFoundException":
                raise ServiceError("KMS.NotFoundException", f"Invalid keyId {key_id}",
                                   400) from None
            raise
        if metadata["KeyState"] == "PendingDeletion":
            raise ServiceError("KMS.KMSInvalidStateException",
                               f"{metadata['Arn']} is pending deletion.", 400)
        if metadata["KeyState"] != "Enabled":
            raise ServiceError("KMS.DisabledException", f"{metadata['Arn']} is disabled.", 400)
        return metadata["Arn"]

    async def _commit_version(self, ctx: RequestContext, event: str, bucket_name: str,
                              key: str, upload: Upload, record: dict,
                              if_match: str | None = None, if_none_match: str | None = None
                              ) -> dict:
        try:
            with self.store.transaction():
                bucket = self.buckets.get(bucket_name)
                if if_match is not None or if_none_match is not None:
                    check_write_conditions(self.objects.latest(bucket_name, key), key, if_match,
                                           if_none_match)
                pending = self._pending_replication(bucket, record)
                record, garbage = self.objects.put(bucket, record, upload=upload)
                if pending:
                    self.pending.put({"bucket": bucket_name, "key": key,
                                      "version_id": record["version_id"]})
                self.notifier.publish(ctx, bucket, event, key, record)
        except BaseException:
            self._discard(upload)
            raise
        await self._durable()
        self.blobs.remove_soon(garbage)
        if record.get("ReplicationStatus") == "PENDING":
            await self._replicate(ctx, bucket, record)
        return record

    @staticmethod
    def _pending_replication(bucket: dict, record: dict) -> bool:
        """Whether a new version is to be replicated (it is PENDING until copied)."""
        if not targets(bucket, record):
            return False
        record["ReplicationStatus"] = "PENDING"
        return True

    async def _replicate(self, ctx: RequestContext, bucket: dict, version: dict) -> None:
        """Copy a new version to the destination buckets of the bucket's replication rules,
        keeping its version id (the copy is a REPLICA); the source's ReplicationStatus becomes
        COMPLETED, or FAILED if a destination cannot take it (deleted, versioning off)."""
        ident = (bucket["name"], version["key"], version["version_id"])
        self._replicating.add(ident)
        try:
            await self._copy_to_destinations(ctx, bucket, version)
        finally:
            self._replicating.discard(ident)

    async def _copy_to_destinations(self, ctx: RequestContext, bucket: dict,
                                    version: dict) -> None:
        garbage, failures = [], []
        for target in targets(bucket, version):
            refused = self._replication_refusal(ctx, bucket, version, target)
            if refused is not None:
                failures.append((target, refused))
                continue
            algorithm = (version.get("checksum") or ["CRC64NVME"])[0]
            upload = await self._copy_bytes(ctx, version, algorithm)
            with self.store.transaction():
                try:
                    destination = self.buckets.get(target.bucket)
                except ServiceError:
                    destination = None
                refused = "DstBucketNotFound" if destination is None else \
                    "DstBucketUnversioned" if destination.get("versioning") != "Enabled" else \
                    "DstBucketObjectLockConfigMissing" if bucket.get("object_lock") and \
                    not destination.get("object_lock") else None
                if refused is not None:
                    self._discard(upload)
                    failures.append((target, refused))
                    continue
                replica = replica_of(version, target, destination)
                garbage += self.objects.put(destination, replica, version["version_id"],
                                            upload=upload)[1]
        status = "FAILED" if failures else "COMPLETED"
        with self.store.transaction():
            for target, reason in failures:
                self.notifier.publish(ctx, bucket, "Replication:OperationFailedReplication",
                                      version["key"], version, replication_failure_data(
                                          target.rule_id, target.bucket, version["modified"],
                                          reason), by_s3=True)
            self.pending.delete((bucket["name"], version["key"], version["version_id"]))
            current = self.objects.version(bucket["name"], version["key"],
                                           version["version_id"])
            if current is not None:
                self.objects.table.update((bucket["name"], version["key"], current["rank"]),
                                          {"ReplicationStatus": status})
                version["ReplicationStatus"] = status
        await self._durable()
        self.blobs.remove_soon(garbage)

    def _replication_refusal(self, ctx: RequestContext, bucket: dict, version: dict,
                             target: Target) -> str | None:
        """Under IAM enforcement, why the bucket's replication role may not replicate a
        version (or delete marker) to a target, as S3's failure reason; None if it may."""
        authorizer = getattr(self.runtime, "authorizer", None)
        if authorizer is None or authorizer.mode != "enforce":
            return None
        role = self._replication_role(bucket)
        if role is None:
            return "AssumeRoleNotPermitted"
        marker = bool(version.get("delete_marker"))
        checks = [] if marker else [("s3:GetObjectVersionForReplication", bucket["name"],
                                     "SrcGetObjNotPermitted")]
        checks.append(("s3:ReplicateDelete", target.bucket, "DstDelObjNotPermitted") if marker
                      else ("s3:ReplicateObject", target.bucket, "DstPutObjNotPermitted"))
        for action, name, reason in checks:
            arn = f"arn:{ctx.partition}:s3:::{name}/{version['key']}"
            if not authorizer.decide(ctx, role, action, arn,
                                     resource_policy=self.resource_policy(ctx, arn)).allowed:
                return reason
        return None

    def _replication_role(self, bucket: dict):
        """The session S3 has as the bucket's replication role; None if the role does not
        exist or does not trust S3."""
        from nubo.gateway.authorization import Caller
        from nubo.policy.evaluate import Principal
        from nubo.services.iam.directory import IamDirectory  # IAM's code loads only if needed
        arn = (bucket.get("replication") or {}).get("Role") or ""
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
            return None
        account, name = parts[4], parts[5].rsplit("/", 1)[-1]
        role = IamDirectory(self.store, self.runtime.clock).role(account, name)
        if role is None or role["Arn"] != arn or not trusts_s3(role["AssumeRolePolicyDocument"]):
            return None
        session = f"arn:{parts[1]}:sts::{account}:assumed-role/{name}/s3-replication"
        return Caller(Principal(account, session, "assumed-role",
                                user_id=f"{role['RoleId']}:s3-replication", name=name,
                                role_arn=arn), secret="", identity=("role", name))

    async def _copy_bytes(self, ctx: RequestContext, source: dict, algorithm: str) -> Upload:
        """A version's bytes received again (for a copy or a replica), with their digests."""
        data = stream(self.blobs, source.get("segments", ()), 0, source["size"])
        return await self._receive(ctx, BodyStream(_as_chunks(data), source["size"]), {},
                                   [algorithm], from_request=False)

    # GetObject and HeadObject only read: async, so the gateway runs them outside a store
    # transaction (it wraps sync handlers in one) and a GET costs no savepoint nor commit.
    @handler("GetObject")
    async def get_object(self, ctx: RequestContext, Bucket: str, Key: str, VersionId=None,
                         Range=None, PartNumber=None, IfMatch=None, IfNoneMatch=None,
                         IfModifiedSince=None, IfUnmodifiedSince=None, ChecksumMode=None,
                         **overrides: Any) -> dict:
        out, span, record = self._read(Bucket, Key, VersionId, Range, PartNumber, IfMatch,
                                       IfNoneMatch, IfModifiedSince, IfUnmodifiedSince,
                                       ChecksumMode, overrides, "GET")
        check_readable(record, self.runtime.clock.now())
        if record.get("SSEKMSKeyId"):  # S3 has KMS decrypt the data key: the key must be usable
            self._kms_key_arn(ctx, record["SSEKMSKeyId"])
        out["Body"] = stream(self.blobs, record.get("segments", ()), *span)
        return out

    @handler("HeadObject")
    async def head_object(self, ctx: RequestContext, Bucket: str, Key: str, VersionId=None,
                          Range=None, PartNumber=None, IfMatch=None, IfNoneMatch=None,
                          IfModifiedSince=None, IfUnmodifiedSince=None, ChecksumMode=None,
                          **overrides: Any) -> dict:
        out, _, _ = self._read(Bucket, Key, VersionId, Range, PartNumber, IfMatch, IfNoneMatch,
                               IfModifiedSince, IfUnmodifiedSince, ChecksumMode, overrides,
                               "HEAD")
        return out

    def _read(self, bucket: str, key: str, version_id, range_header, part_number, if_match,
              if_none_match, if_modified_since, if_unmodified_since, checksum_mode,
              overrides: dict, method: str) -> tuple[dict, tuple[int, int], dict]:
        found = self.buckets.get(bucket)
        record = self.objects.resolve(bucket, key, version_id, method)
        check_customer_key(record, overrides)
        check_read_conditions(record, if_match, if_none_match, if_modified_since,
                              if_unmodified_since)
        size = record["size"]
        out = description(record, checksum_mode == "ENABLED")
        out["Restore"] = restore_header(record, self.runtime.clock.now())
        if record.get("superseded") is None:
            out["Expiration"] = expiration_header(found, record)
        span = part_span(record, part_number) if part_number else byte_range(range_header,
                                                                              size)
        if span is not None:
            out.update(ContentRange=f"bytes {span[0]}-{span[1] - 1}/{size}",
                       ContentLength=span[1] - span[0], StatusCode=206)
            if not part_number:  # a range's checksum is not the object's
                for name in [k for k in out if k.startswith("Checksum")]:
                    del out[name]
        for name, value in overrides.items():
            if name.startswith("Response") and value is not None:
                out[name[len("Response"):]] = value
        return out, span or (0, size), record

    @handler("DeleteObject")
    def delete_object(self, ctx: RequestContext, Bucket: str, Key: str, VersionId=None,
                      BypassGovernanceRetention=None, MFA=None, IfMatch=None,
                      IfMatchLastModifiedTime=None, IfMatchSize=None, **_: Any) -> dict:
        bucket = self.buckets.get(Bucket)
        if VersionId is not None and bucket.get("mfa_delete") == "Enabled":
            self._check_mfa(ctx, bucket, MFA)
        if (IfMatch, IfMatchLastModifiedTime, IfMatchSize) != (None, None, None):
            check_delete_conditions(self.objects.latest(Bucket, Key), Key, IfMatch,
                                    IfMatchLastModifiedTime, IfMatchSize)
        return self._delete(ctx, bucket, Key, VersionId, bool(BypassGovernanceRetention))

    def _delete(self, ctx: RequestContext, bucket: dict, key: str, version_id: str | None,
                bypass_governance: bool = False) -> dict:
        if version_id is not None:
            target = self.objects.version(bucket["name"], key, version_id)
            if target is not None:
                check_deletable(target, bypass_governance, self.runtime.clock.now())
        found, garbage = self.objects.delete(bucket, key, version_id)
        self._remove_when_durable(garbage)
        if found is not None:
            marker_added = found.get("delete_marker") and version_id is None
            self.notifier.publish(ctx, bucket, "ObjectRemoved:DeleteMarkerCreated"
                                  if marker_added else "ObjectRemoved:Delete", key, found)
            if marker_added:
                self._replicate_marker(ctx, bucket, found)
        out: dict[str, Any] = {}
        if found is not None and (version_id is not None or found.get("delete_marker")):
            out["VersionId"] = found["version_id"]
            if found.get("delete_marker"):
                out["DeleteMarker"] = True
        elif version_id is not None:
            out["VersionId"] = version_id
        return out

    @handler("DeleteObjects")
    def delete_objects(self, ctx: RequestContext, Bucket: str, Delete: dict,
                       BypassGovernanceRetention=None, MFA=None, **_: Any) -> dict:
        bucket = self.buckets.get(Bucket)
        items = Delete.get("Objects") or []
        if not items or len(items) > MAX_DELETE_OBJECTS:
            raise errors.malformed_xml()
        if bucket.get("mfa_delete") == "Enabled" and any(item.get("VersionId")
                                                         for item in items):
            self._check_mfa(ctx, bucket, MFA)
        deleted, failed = [], []
        for item in items:
            key, version_id = item.get("Key", ""), item.get("VersionId")
            try:
                self._check_delete_allowed(ctx, Bucket, key, version_id,
                                           BypassGovernanceRetention)
                if any(item.get(name) is not None for name in ("ETag", "LastModifiedTime",
                                                               "Size")):
                    check_delete_conditions(self.objects.latest(Bucket, key), key,
                                            item.get("ETag"), item.get("LastModifiedTime"),
                                            item.get("Size"))
                with self.store.transaction():
                    result = self._delete(ctx, bucket, key, version_id,
                                          bool(BypassGovernanceRetention))
            except ServiceError as error:
                failed.append({"Key": key, "VersionId": version_id, "Code": error.code,
                               "Message": error.message})
                continue
            entry = {"Key": key, "VersionId": version_id}
            if result.get("DeleteMarker"):
                entry["DeleteMarker"] = True
                entry["DeleteMarkerVersionId"] = result["VersionId"]
            deleted.append(entry)
        return {"Deleted": [] if Delete.get("Quiet") else deleted, "Errors": failed}

    def _check_delete_allowed(self, ctx: RequestContext, bucket: str, key: str,
                              version_id: str | None, bypass_governance: bool | None) -> None:
        """DeleteObjects is authorized object by object, each as its own DeleteObject
        (s3:DeleteObjectVersion for a named version): a denied object is that key's
        AccessDenied in the result, as S3 answers it."""
        authorizer = self.runtime.authorizer
        if authorizer is not None and not authorizer.allows(ctx, self, "DeleteObject", {
                "Bucket": bucket, "Key": key, "VersionId": version_id,
                "BypassGovernanceRetention": bypass_governance}):
            raise ServiceError("AccessDenied", "Access Denied", 403)

    @handler("CopyObject")
    async def copy_object(self, ctx: RequestContext, Bucket: str, Key: str, CopySource: str,
                          MetadataDirective=None, TaggingDirective=None,
                          CopySourceIfMatch=None, CopySourceIfNoneMatch=None,
                          CopySourceIfModifiedSince=None, CopySourceIfUnmodifiedSince=None,
                          IfMatch=None, IfNoneMatch=None, **params: Any) -> dict:
        check_key(Key)
        for name, directive in (("metadata", MetadataDirective), ("tagging", TaggingDirective)):
            if directive not in (None, "COPY", "REPLACE"):
                raise errors.invalid_argument(f"Unknown {name} directive.",
                                              f"x-amz-{name}-directive", directive)
        bucket = self.buckets.get(Bucket)
        source, source_version = self._copy_source(CopySource, CopySourceIfMatch,
                                                   CopySourceIfNoneMatch,
                                                   CopySourceIfModifiedSince,
                                                   CopySourceIfUnmodifiedSince)
        check_customer_key(source, {name[len("CopySource"):]: value for name, value in
                                    params.items() if name.startswith("CopySourceSSE")})
        check_readable(source, self.runtime.clock.now())
        replace = MetadataDirective == "REPLACE"
        if (source["bucket"], source["key"]) == (Bucket, Key) and not replace and not any(
                params.get(name) for name in ("StorageClass", "WebsiteRedirectLocation",
                                              "ServerSideEncryption", "SSEKMSKeyId")):
            raise errors.invalid_request(
                "This copy request is illegal because it is trying to copy an object to itself "
                "without changing the object's metadata, storage class, website redirect "
                "location or encryption attributes.")
        algorithm = (params.get("ChecksumAlgorithm") or
                     (source.get("checksum") or ["CRC64NVME"])[0]).upper()
        upload = await self._copy_bytes(ctx, source, algorithm)
        tagging = params.get("Tagging")
        if not replace:  # the source's metadata, with the storage class etc. asked for
            params = {**{name: value for name, value in source.items()
                         if name in STORED_ATTRIBUTES}, "ContentType": source["content_type"],
                      "Metadata": source.get("metadata"), **{
                          name: value for name, value in params.items() if name in (
                              "StorageClass", "WebsiteRedirectLocation", "ACL") or
                          "Encryption" in name or name.startswith(("SSE", "ObjectLock",
                                                                   "Grant"))}}
        record = self._new_record(ctx, bucket, Key, upload, params)
        record["tags"] = tags_of_header(tagging) if TaggingDirective == "REPLACE" \
            else source.get("tags", {})
        record["checksum"] = [algorithm, upload.checksums[algorithm], "FULL_OBJECT"]
        record = await self._commit_version(ctx, "ObjectCreated:Copy", Bucket, Key, upload,
                                            record, IfMatch, IfNoneMatch)
        out: dict[str, Any] = {
            "CopyObjectResult": {"ETag": record["etag"], "LastModified": record["modified"],
                                 f"Checksum{algorithm}": upload.checksums[algorithm],
                                 "ChecksumType": "FULL_OBJECT"},
            **encryption_output(record)}
        if source_version:
            out["CopySourceVersionId"] = source_version
        if record["versioned"]:
            out["VersionId"] = record["version_id"]
        return out

    def _replicate_marker(self, ctx: RequestContext, bucket: dict, marker: dict) -> None:
        """A new delete marker, replicated where the rules replicate delete markers."""
        for target in targets(bucket, marker):
            if self._replication_refusal(ctx, bucket, marker, target) is not None:
                continue
            try:
                destination = self.buckets.get(target.bucket)
            except ServiceError:
                continue
            if destination.get("versioning") == "Enabled":
                self.objects.put(destination, {
                    "key": marker["key"], "delete_marker": True, "owner": marker["owner"],
                    "modified": marker["modified"]}, marker["version_id"])

    def _copy_source(self, copy_source: str, if_match, if_none_match, if_modified_since,
                     if_unmodified_since) -> tuple[dict, str | None]:
        path, _, query = copy_source.partition("?")
        version_id = query[len("versionId="):] if query.startswith("versionId=") else None
        bucket, _, key = unquote(path).lstrip("/").partition("/")
        if not bucket or not key:
            raise errors.invalid_argument("Invalid copy source object key",
                                          "x-amz-copy-source", copy_source)
        self.buckets.get(bucket)
        source = self.objects.resolve(bucket, key, version_id)
        try:
            check_read_conditions(source, if_match, if_none_match, if_modified_since,
                                  if_unmodified_since)
        except ServiceError as error:  # copy conditions all answer 412
            if error.status == 304:
                raise errors.precondition_failed("x-amz-copy-source-If-None-Match") from None
            raise
        return source, source["version_id"] if source.get("versioned") else None

    # -- listing --------------------------------------------------------------------------

    @handler("ListObjectsV2")
    def list_objects_v2(self, ctx: RequestContext, Bucket: str, Prefix=None, Delimiter=None,
                        MaxKeys=None, ContinuationToken=None, StartAfter=None,
                        EncodingType=None, FetchOwner=None, OptionalObjectAttributes=None,
                        **_: Any) -> dict:
        bucket = self.buckets.get(Bucket)
        if ContinuationToken is not None:
            after = _decode_token(ContinuationToken)
        else:
            after = StartAfter
        limit = _max_keys(MaxKeys)
        page = self.objects.list(bucket, Prefix or "", Delimiter or None, after, limit)
        encode = _encoder(EncodingType)
        out = self._listing_output(Bucket, page, Prefix, Delimiter, limit, encode,
                                   FetchOwner is True)
        if OptionalObjectAttributes:
            self._restore_statuses(Bucket, page.entries, out["Contents"] or [])
        out.update(KeyCount=len(page.entries) + len(page.prefixes),
                   ContinuationToken=ContinuationToken, StartAfter=encode(StartAfter),
                   EncodingType=EncodingType)
        if page.truncated:
            out["NextContinuationToken"] = _encode_token(page.last)
        return out

    @handler("ListObjects")
    def list_objects(self, ctx: RequestContext, Bucket: str, Prefix=None, Delimiter=None,
                     MaxKeys=None, Marker=None, EncodingType=None,
                     OptionalObjectAttributes=None, **_: Any) -> dict:
        bucket = self.buckets.get(Bucket)
        limit = _max_keys(MaxKeys)
        page = self.objects.list(bucket, Prefix or "", Delimiter or None, Marker or None,
                                 limit)
        encode = _encoder(EncodingType)
        out = self._listing_output(Bucket, page, Prefix, Delimiter, limit, encode, True)
        if OptionalObjectAttributes:
            self._restore_statuses(Bucket, page.entries, out["Contents"] or [])
        out.update(Marker=encode(Marker or ""), EncodingType=EncodingType)
        if page.truncated and Delimiter:
            out["NextMarker"] = encode(page.last)
        return out

    def _restore_statuses(self, bucket: str, rows: list[dict], entries: list[dict]) -> None:
        """OptionalObjectAttributes=RestoreStatus: the restored copy of each archived version
        listed, while it lasts (restores complete at once in nubo)."""
        now = self.runtime.clock.now()
        for row, entry in zip(rows, entries):
            if entry["StorageClass"] not in ARCHIVED_CLASSES:
                continue
            record = self.objects.version(bucket, row["key"], row["version_id"]) \
                if "version_id" in row else self.objects.latest(bucket, row["key"])
            until = (record or {}).get("restore_until")
            if until is not None and until > now:
                entry["RestoreStatus"] = {"IsRestoreInProgress": False,
                                          "RestoreExpiryDate": until}

    @staticmethod
    def _listing_output(bucket: str, page: Listing, prefix, delimiter, limit: int, encode,
                        with_owner: bool) -> dict:
        contents = []
        for row in page.entries:
            entry = {"Key": encode(row["key"]), "LastModified": row["modified"],
                     "ETag": row["etag"], "Size": row["size"],
                     "StorageClass": row.get("StorageClass") or "STANDARD"}
            if row["checksum_kind"]:
                entry.update(_listed_checksum(row["checksum_kind"]))
            if with_owner:
                entry["Owner"] = owner_of(row["owner"])
            contents.append(entry)
        return {"Name": bucket, "Prefix": encode(prefix or ""), "Delimiter": encode(delimiter),
                "MaxKeys": limit, "IsTruncated": page.truncated, "Contents": contents or None,
                "CommonPrefixes": [{"Prefix": encode(p)} for p in page.prefixes] or None}

    @handler("ListObjectVersions")
    def list_object_versions(self, ctx: RequestContext, Bucket: str, Prefix=None,
                             Delimiter=None, MaxKeys=None, KeyMarker=None,
                             VersionIdMarker=None, EncodingType=None,
                             OptionalObjectAttributes=None, **_: Any) -> dict:
        self.buckets.get(Bucket)
        limit = _max_keys(MaxKeys)
        page = self.objects.list_versions(Bucket, Prefix or "", Delimiter or None,
                                          KeyMarker or None, VersionIdMarker or None, limit)
        encode = _encoder(EncodingType)
        versions, markers, version_rows = [], [], []
        for row in page.entries:
            entry = {"Key": encode(row["key"]), "VersionId": row["version_id"],
                     "IsLatest": row["superseded"] is None,
                     "LastModified": row["modified"], "Owner": owner_of(row["owner"])}
            if row["etag"] is None:  # a delete marker
                markers.append(entry)
                continue
            entry.update(ETag=row["etag"], Size=row["size"],
                         StorageClass=row["StorageClass"] or "STANDARD")
            if row["checksum_kind"]:
                entry.update(_listed_checksum(row["checksum_kind"]))
            versions.append(entry)
            version_rows.append(row)
        if OptionalObjectAttributes:
            self._restore_statuses(Bucket, version_rows, versions)
        out = {"Name": Bucket, "Prefix": encode(Prefix or ""), "Delimiter": encode(Delimiter),
               "MaxKeys": limit, "IsTruncated": page.truncated,
               "KeyMarker": encode(KeyMarker or ""), "VersionIdMarker": VersionIdMarker or "",
               "Versions": versions or None,
               "DeleteMarkers": markers or None, "EncodingType": EncodingType,
               "CommonPrefixes": [{"Prefix": encode(p)} for p in page.prefixes] or None}
        if page.truncated:
            out["NextKeyMarker"] = encode(page.last)
            if page.last_version is not None:
                out["NextVersionIdMarker"] = page.last_version["version_id"]
        return out

    # -- multipart uploads ----------------------------------------------------------------

    @handler("CreateMultipartUpload")
    def create_multipart_upload(self, ctx: RequestContext, Bucket: str, Key: str,
                                ChecksumAlgorithm=None, ChecksumType=None,
                                **params: Any) -> dict:
        check_key(Key)
        self.buckets.get(Bucket)
        if ChecksumType == "FULL_OBJECT" and ChecksumAlgorithm in ("SHA1", "SHA256"):
            raise errors.invalid_request(f"The FULL_OBJECT checksum type cannot be used with "
                                         f"the {ChecksumAlgorithm.lower()} checksum algorithm.")
        if ChecksumAlgorithm == "CRC64NVME" and ChecksumType is None:
            ChecksumType = "FULL_OBJECT"
        attributes = self._new_record(ctx, self.buckets.get(Bucket), Key, None, params)
        attributes.pop("modified")
        if ChecksumAlgorithm:
            attributes.update(checksum_algorithm=ChecksumAlgorithm,
                              checksum_type=ChecksumType or "COMPOSITE")
        upload = self.uploads.create(Bucket, Key, attributes)
        out = {"Bucket": Bucket, "Key": Key, "UploadId": upload["upload_id"],
               **encryption_output(attributes)}
        abort = abort_date(self.buckets.get(Bucket), Key, upload["initiated"])
        if abort is not None:
            out["AbortDate"], out["AbortRuleId"] = abort
        if ChecksumAlgorithm:
            out.update(ChecksumAlgorithm=ChecksumAlgorithm,
                       ChecksumType=attributes["checksum_type"])
        return out

    @handler("UploadPart")
    async def upload_part(self, ctx: RequestContext, Bucket: str, Key: str, UploadId: str,
                          PartNumber: int, Body: BodyStream | None = None,
                          **params: Any) -> dict:
        upload = self._upload(Bucket, Key, UploadId, PartNumber)
        check_customer_key(upload, params)
        algorithms = requested_algorithms(params, ctx.headers)
        wanted = upload.get("checksum_algorithm")
        if wanted and wanted not in algorithms:
            algorithms.insert(0, wanted)
        received = await self._receive(ctx, Body, params, algorithms)
        return await self._commit_part(Bucket, Key, UploadId, PartNumber, received, wanted)

    async def _commit_part(self, bucket: str, key: str, upload_id: str, number: int,
                           received: Upload, algorithm: str | None) -> dict:
        part = {"size": received.size, "etag": received.etag, "md5": received.md5,
                "modified": self.runtime.clock.now()}
        if algorithm:
            part["checksum"] = received.checksums[algorithm]
        try:
            with self.store.transaction():
                upload = self.uploads.get(bucket, key, upload_id)
                part["segments"] = segments_of(received, self.blobs)
                garbage = self.uploads.put_part(upload, number, part)
        except BaseException:
            self._discard(received)
            raise
        await self._durable()
        self.blobs.remove_soon(garbage)
        out = {"ETag": received.etag, **encryption_output(upload)}
        if algorithm:
            out[f"Checksum{algorithm}"] = part["checksum"]
        return out

    def _upload(self, bucket: str, key: str, upload_id: str, number: int) -> dict:
        self.buckets.get(bucket)
        if not 1 <= number <= MAX_PART_NUMBER:
            raise errors.invalid_argument("Part number must be an integer between 1 and 10000, "
                                          "inclusive", "partNumber", number)
        return self.uploads.get(bucket, key, upload_id)

    @handler("UploadPartCopy")
    async def upload_part_copy(self, ctx: RequestContext, Bucket: str, Key: str,
                               UploadId: str, PartNumber: int, CopySource: str,
                               CopySourceRange=None, CopySourceIfMatch=None,
                               CopySourceIfNoneMatch=None, CopySourceIfModifiedSince=None,
                               CopySourceIfUnmodifiedSince=None, **_: Any) -> dict:
        upload = self._upload(Bucket, Key, UploadId, PartNumber)
        source, source_version = self._copy_source(CopySource, CopySourceIfMatch,
                                                   CopySourceIfNoneMatch,
                                                   CopySourceIfModifiedSince,
                                                   CopySourceIfUnmodifiedSince)
        span = (0, source["size"])
        if CopySourceRange:
            span = byte_range(CopySourceRange, source["size"])
            if span is None or not CopySourceRange.startswith("bytes=") or \
                    CopySourceRange.startswith("bytes=-"):
                raise errors.invalid_argument("The x-amz-copy-source-range value must be of the "
                                              "form bytes=first-last where first and last are "
                                              "the zero-based offsets of the first and last "
                                              "bytes to copy", "x-amz-copy-source-range",
                                              CopySourceRange)
        data = stream(self.blobs, source.get("segments", ()), *span)
        algorithm = upload.get("checksum_algorithm")
        received = await self._receive(ctx, BodyStream(_as_chunks(data), span[1] - span[0]),
                                       {}, [algorithm or "CRC64NVME"], from_request=False)
        out = await self._commit_part(Bucket, Key, UploadId, PartNumber, received, algorithm)
        result = {"ETag": out.pop("ETag"), "LastModified": self.runtime.clock.now()}
        if algorithm:
            result[f"Checksum{algorithm}"] = out.pop(f"Checksum{algorithm}")
        out["CopyPartResult"] = result
        if source_version:
            out["CopySourceVersionId"] = source_version
        return out

    @handler("CompleteMultipartUpload")
    async def complete_multipart_upload(self, ctx: RequestContext, Bucket: str, Key: str,
                                        UploadId: str, MultipartUpload=None, IfMatch=None,
                                        IfNoneMatch=None, MpuObjectSize=None,
                                        **checksums: Any) -> dict:
        with self.store.transaction():
            bucket = self.buckets.get(Bucket)
            upload = self.uploads.get(Bucket, Key, UploadId)
            check_write_conditions(self.objects.latest(Bucket, Key), Key, IfMatch, IfNoneMatch)
            record, garbage = self.uploads.complete(upload, (MultipartUpload or {}).get(
                "Parts") or [], MpuObjectSize)
            check_whole_checksum(record, checksums)
            pending = self._pending_replication(bucket, record)
            record, more = self.objects.put(bucket, record)
            if pending:
                self.pending.put({"bucket": Bucket, "key": Key,
                                  "version_id": record["version_id"]})
            self.notifier.publish(ctx, bucket, "ObjectCreated:CompleteMultipartUpload", Key,
                                  record)
        await self._durable()
        self.blobs.remove_soon(garbage + more)
        if record.get("ReplicationStatus") == "PENDING":
            await self._replicate(ctx, bucket, record)
        out = {"Location": f"/{Bucket}/{quote(Key)}", "Bucket": Bucket, "Key": Key,
               "ETag": record["etag"], **encryption_output(record)}
        if record.get("checksum"):
            algorithm, value, kind = record["checksum"]
            out.update({f"Checksum{algorithm}": value, "ChecksumType": kind})
        if record["versioned"]:
            out["VersionId"] = record["version_id"]
        return out

    @handler("AbortMultipartUpload")
    def abort_multipart_upload(self, ctx: RequestContext, Bucket: str, Key: str,
                               UploadId: str, **_: Any) -> None:
        self.buckets.get(Bucket)
        upload = self.uploads.get(Bucket, Key, UploadId)
        self._remove_when_durable(self.uploads.abort(upload))

    @handler("ListParts")
    def list_parts(self, ctx: RequestContext, Bucket: str, Key: str, UploadId: str,
                   MaxParts=None, PartNumberMarker=None, **_: Any) -> dict:
        self.buckets.get(Bucket)
        upload = self.uploads.get(Bucket, Key, UploadId)
        limit = min(MaxParts if MaxParts is not None else 1000, 1000)
        marker = int(PartNumberMarker or 0)
        parts = self.uploads.list_parts(UploadId, marker, limit + 1)
        truncated = len(parts) > limit
        parts = parts[:limit]
        algorithm = upload.get("checksum_algorithm")
        out = {"Bucket": Bucket, "Key": Key, "UploadId": UploadId,
               "PartNumberMarker": marker, "MaxParts": limit, "IsTruncated": truncated,
               "Initiator": owner_of(upload["owner"]), "Owner": owner_of(upload["owner"]),
               "StorageClass": upload.get("StorageClass") or "STANDARD",
               "Parts": [{"PartNumber": p["number"], "LastModified": p["modified"],
                          "ETag": p["etag"], "Size": p["size"],
                          **({f"Checksum{algorithm}": p["checksum"]} if algorithm and
                             p.get("checksum") else {})} for p in parts] or None}
        if parts:
            out["NextPartNumberMarker"] = parts[-1]["number"]
        if algorithm:
            out.update(ChecksumAlgorithm=algorithm, ChecksumType=upload.get("checksum_type"))
        return out

    @handler("ListMultipartUploads")
    def list_multipart_uploads(self, ctx: RequestContext, Bucket: str, Prefix=None,
                               Delimiter=None, MaxUploads=None, KeyMarker=None,
                               UploadIdMarker=None, EncodingType=None, **_: Any) -> dict:
        self.buckets.get(Bucket)
        limit = _max_keys(MaxUploads)
        page = self.uploads.listing(Bucket, Prefix or "", Delimiter or None, KeyMarker or None,
                                    UploadIdMarker or None, limit)
        encode = _encoder(EncodingType)
        out = {"Bucket": Bucket, "KeyMarker": encode(KeyMarker or ""),
               "UploadIdMarker": UploadIdMarker or "", "Prefix": encode(Prefix or ""),
               "Delimiter": encode(Delimiter), "MaxUploads": limit,
               "IsTruncated": page.truncated, "EncodingType": EncodingType,
               "Uploads": [{"UploadId": u["upload_id"], "Key": encode(u["key"]),
                            "Initiated": u["initiated"],
                            "StorageClass": u.get("StorageClass") or "STANDARD",
                            "Owner": owner_of(u["owner"]), "Initiator": owner_of(u["owner"]),
                            **({"ChecksumAlgorithm": u["checksum_algorithm"],
                                "ChecksumType": u["checksum_type"]}
                               if u.get("checksum_algorithm") else {})}
                           for u in page.entries] or None,
               "CommonPrefixes": [{"Prefix": encode(p)} for p in page.prefixes] or None}
        if page.truncated:
            out["NextKeyMarker"] = encode(page.last)
            if page.last_version is not None:
                out["NextUploadIdMarker"] = page.last_version["upload_id"]
        return out

    # -- bucket configuration -------------------------------------------------------------

    @handler("PutBucketTagging")
    def put_bucket_tagging(self, ctx: RequestContext, Bucket: str, Tagging: dict,
                           **_: Any) -> None:
        self.configs.put(Bucket, "tagging", Tagging)

    @handler("GetBucketTagging")
    def get_bucket_tagging(self, ctx: RequestContext, Bucket: str, **_: Any) -> dict:
        return self.configs.get(Bucket, "tagging")

    @handler("DeleteBucketTagging")
    def delete_bucket_tagging(self, ctx: RequestContext, Bucket: str, **_: Any) -> None:
        self.configs.delete(Bucket, "tagging")

    @handler("PutBucketCors")
    def put_bucket_cors(self, ctx: RequestContext, Bucket: str, CORSConfiguration: dict,
                        **_: Any) -> None:
        self.configs.put(Bucket, "cors", CORSConfiguration)

    @handler("GetBucketCors")
    def get_bucket_cors(self, ctx: RequestContext, Bucket: str, **_: Any) -> dict:
        return self.configs.get(Bucket, "cors")

    @handler("DeleteBucketCors")
    def delete_bucket_cors(self, ctx: RequestContext, Bucket: str, **_: Any) -> None:
        self.configs.delete(Bucket, "cors")

    @handler("PutBucketPolicy")
    def put_bucket_policy(self, ctx: RequestContext, Bucket: str, Policy: str | bytes,
                          **_: Any) -> None:
        bucket = self.buckets.get(Bucket)
        text = check_policy(Policy, Bucket)
        self._check_principals(text, bucket["account"])
        if self.configs.blocks(bucket)["BlockPublicPolicy"] and \
                is_public_policy(text):
            raise ServiceError(
                "AccessDenied", f"User: arn:{ctx.partition}:iam::{ctx.account_id}:root is not "
                f"authorized to perform: s3:PutBucketPolicy on resource: \"arn:{ctx.partition}"
                f":s3:::{Bucket}\" because public policies are blocked by the BlockPublicPolicy "
                "block public access setting.", 403)
        self.configs.put(Bucket, "policy", text)

    def _check_principals(self, text: str, account: str) -> None:
        """The IAM users and roles of the bucket's account a policy names must exist (S3 has
        IAM resolve them when the policy is set)."""
        from nubo.services.iam.directory import IamDirectory  # IAM's code loads only if needed
        directory = None
        for arn in policy_principals(text):
            parts = arn.split(":", 5)
            if len(parts) != 6 or parts[2] != "iam" or parts[4] != account or "*" in arn:
                continue
            kind, _, path = parts[5].partition("/")
            if kind not in ("user", "role"):
                continue
            directory = directory or IamDirectory(self.store, self.runtime.clock)
            name = path.rsplit("/", 1)[-1]
            entity = directory.user(account, name) if kind == "user" else \
                directory.role(account, name)
            if entity is None or entity["Arn"] != arn:
                raise ServiceError("MalformedPolicy", "Invalid principal in policy", 400)

    @handler("GetBucketPolicy")
    def get_bucket_policy(self, ctx: RequestContext, Bucket: str, **_: Any) -> dict:
        return {"Policy": self.configs.get(Bucket, "policy")}

    @handler("DeleteBucketPolicy")
    def delete_bucket_policy(self, ctx: RequestContext, Bucket: str, **_: Any) -> None:
        self.configs.delete(Bucket, "policy")

    @handler("PutBucketLifecycleConfiguration")
    def put_bucket_lifecycle_configuration(self, ctx: RequestContext, Bucket: str,
                                           LifecycleConfiguration: dict | None = None,
                                           TransitionDefaultMinimumObjectSize=None,
                                           **_: Any) -> dict:
        self.configs.put(Bucket, "lifecycle", LifecycleConfiguration or {})
        minimum = TransitionDefaultMinimumObjectSize or "all_storage_classes_128K"
        self.buckets.update(Bucket, {"transition_minimum": minimum})
        return {"TransitionDefaultMinimumObjectSize": minimum}

    @handler("GetBucketLifecycleConfiguration")
    def get_bucket_lifecycle_configuration(self, ctx: RequestContext, Bucket: str,
                                           **_: Any) -> dict:
        lifecycle = self.configs.get(Bucket, "lifecycle")
        return {**lifecycle, "TransitionDefaultMinimumObjectSize": self.buckets.get(Bucket).get(
            "transition_minimum") or "all_storage_classes_128K"}

    @handler("DeleteBucketLifecycle")
    def delete_bucket_lifecycle(self, ctx: RequestContext, Bucket: str, **_: Any) -> None:
        self.configs.delete(Bucket, "lifecycle")

    @handler("PutBucketEncryption")
    def put_bucket_encryption(self, ctx: RequestContext, Bucket: str,
                              ServerSideEncryptionConfiguration: dict, **_: Any) -> None:
        self.configs.put(Bucket, "encryption", ServerSideEncryptionConfiguration)

    @handler("GetBucketEncryption")
    def get_bucket_encryption(self, ctx: RequestContext, Bucket: str, **_: Any) -> dict:
        return {"ServerSideEncryptionConfiguration": self.configs.get(Bucket, "encryption")}

    @handler("DeleteBucketEncryption")
    def delete_bucket_encryption(self, ctx: RequestContext, Bucket: str, **_: Any) -> None:
        self.configs.delete(Bucket, "encryption")

    @handler("PutPublicAccessBlock")
    def put_public_access_block(self, ctx: RequestContext, Bucket: str,
                                PublicAccessBlockConfiguration: dict, **_: Any) -> None:
        self.configs.put(Bucket, "public_access_block", {
            name: bool(PublicAccessBlockConfiguration.get(name))
            for name in PUBLIC_ACCESS_SETTINGS})

    @handler("GetPublicAccessBlock")
    def get_public_access_block(self, ctx: RequestContext, Bucket: str, **_: Any) -> dict:
        found = self.configs.get(Bucket, "public_access_block")
        if not found:  # deleted (new buckets have one, all on)
            raise ServiceError("NoSuchPublicAccessBlockConfiguration", "The public access block "
                               "configuration was not found", 404, fields={"BucketName": Bucket})
        return {"PublicAccessBlockConfiguration": found}

    @handler("DeletePublicAccessBlock")
    def delete_public_access_block(self, ctx: RequestContext, Bucket: str, **_: Any) -> None:
        self.configs.put(Bucket, "public_access_block", {})

    @handler("PutBucketOwnershipControls")
    def put_bucket_ownership_controls(self, ctx: RequestContext, Bucket: str,
                                      OwnershipControls: dict, **_: Any) -> None:
        self.configs.put(Bucket, "ownership_controls", OwnershipControls)

    @handler("GetBucketOwnershipControls")
    def get_bucket_ownership_controls(self, ctx: RequestContext, Bucket: str,
                                      **_: Any) -> dict:
        found = self.configs.get(Bucket, "ownership_controls")
        if not found:  # deleted (new buckets have BucketOwnerEnforced)
            raise errors.no_ownership_controls(Bucket)
        return {"OwnershipControls": found}

    @handler("DeleteBucketOwnershipControls")
    def delete_bucket_ownership_controls(self, ctx: RequestContext, Bucket: str,
                                         **_: Any) -> None:
        if not self.configs.get(Bucket, "ownership_controls"):
            raise errors.no_ownership_controls(Bucket)
        self.configs.put(Bucket, "ownership_controls", {})  # ACLs in force: ObjectWriter

    @handler("PutBucketWebsite")
    def put_bucket_website(self, ctx: RequestContext, Bucket: str, WebsiteConfiguration: dict,
                           **_: Any) -> None:
        check_website(WebsiteConfiguration)
        self.configs.put(Bucket, "website", WebsiteConfiguration)

    @handler("GetBucketWebsite")
    def get_bucket_website(self, ctx: RequestContext, Bucket: str, **_: Any) -> dict:
        return self.configs.get(Bucket, "website")

    @handler("DeleteBucketWebsite")
    def delete_bucket_website(self, ctx: RequestContext, Bucket: str, **_: Any) -> None:
        self.configs.delete(Bucket, "website")

    @handler("PutBucketNotificationConfiguration")
    def put_bucket_notification_configuration(self, ctx: RequestContext, Bucket: str,
                                              NotificationConfiguration: dict,
                                              SkipDestinationValidation=None,
                                              **_: Any) -> None:
        bucket = self.buckets.get(Bucket)
        found = check_configuration(NotificationConfiguration)
        if not SkipDestinationValidation:
            self.notifier.validate(ctx, bucket, found)
        self.configs.put(Bucket, "notification", NotificationConfiguration)

    @handler("GetBucketNotificationConfiguration")
    def get_bucket_notification_configuration(self, ctx: RequestContext, Bucket: str,
                                              **_: Any) -> dict:
        return self.configs.get(Bucket, "notification")

    @handler("GetBucketAcl")
    def get_bucket_acl(self, ctx: RequestContext, Bucket: str, **_: Any) -> dict:
        bucket = self.buckets.get(Bucket)
        return acl_output(bucket["account"], bucket.get("acl"))

    @handler("PutBucketAcl")
    def put_bucket_acl(self, ctx: RequestContext, Bucket: str, ACL=None,
                       AccessControlPolicy=None, **grants: Any) -> None:
        acl = self._acl(self.buckets.get(Bucket), ACL, grants, AccessControlPolicy)
        self.buckets.update(Bucket, {"acl": acl or "private"})

    @handler("PutBucketAccelerateConfiguration")
    def put_bucket_accelerate_configuration(self, ctx: RequestContext, Bucket: str,
                                            AccelerateConfiguration: dict, **_: Any) -> None:
        if "." in Bucket:
            raise errors.invalid_request("S3 Transfer Acceleration is not supported for buckets "
                                         "with periods (.) in their names")
        if AccelerateConfiguration.get("Status") not in ("Enabled", "Suspended"):
            raise errors.malformed_xml()
        self.configs.put(Bucket, "accelerate", AccelerateConfiguration)

    @handler("GetBucketAccelerateConfiguration")
    def get_bucket_accelerate_configuration(self, ctx: RequestContext, Bucket: str,
                                            **_: Any) -> dict:
        return self.configs.get(Bucket, "accelerate")

    @handler("PutBucketRequestPayment")
    def put_bucket_request_payment(self, ctx: RequestContext, Bucket: str,
                                   RequestPaymentConfiguration: dict, **_: Any) -> None:
        self.configs.put(Bucket, "request_payment", RequestPaymentConfiguration)

    @handler("GetBucketRequestPayment")
    def get_bucket_request_payment(self, ctx: RequestContext, Bucket: str, **_: Any) -> dict:
        return self.configs.get(Bucket, "request_payment")

    @handler("PutBucketLogging")
    def put_bucket_logging(self, ctx: RequestContext, Bucket: str, BucketLoggingStatus: dict,
                           **_: Any) -> None:
        target = (BucketLoggingStatus.get("LoggingEnabled") or {}).get("TargetBucket")
        if target is not None:
            try:
                self.buckets.get(target)
            except ServiceError:
                raise ServiceError("InvalidTargetBucketForLogging", "The target bucket for "
                                   "logging does not exist", 400,
                                   fields={"TargetBucket": target}) from None
        self.configs.put(Bucket, "logging", BucketLoggingStatus)

    @handler("GetBucketLogging")
    def get_bucket_logging(self, ctx: RequestContext, Bucket: str, **_: Any) -> dict:
        return self.configs.get(Bucket, "logging")

    @handler("PutBucketReplication")
    def put_bucket_replication(self, ctx: RequestContext, Bucket: str,
                               ReplicationConfiguration: dict, **_: Any) -> None:
        check_replication(ReplicationConfiguration, self.buckets.get(Bucket), self.buckets)
        self.configs.put(Bucket, "replication", ReplicationConfiguration)

    @handler("GetBucketReplication")
    def get_bucket_replication(self, ctx: RequestContext, Bucket: str, **_: Any) -> dict:
        return {"ReplicationConfiguration": self.configs.get(Bucket, "replication")}

    @handler("DeleteBucketReplication")
    def delete_bucket_replication(self, ctx: RequestContext, Bucket: str, **_: Any) -> None:
        self.configs.delete(Bucket, "replication")

    @handler("PutObjectLockConfiguration")
    def put_object_lock_configuration(self, ctx: RequestContext, Bucket: str,
                                      ObjectLockConfiguration=None, **_: Any) -> dict:
        if self.buckets.get(Bucket).get("versioning") != "Enabled":
            raise ServiceError("InvalidBucketState", "Versioning must be 'Enabled' on the bucket "
                               "to apply a Object Lock configuration", 409)
        self.configs.put(Bucket, "object_lock", ObjectLockConfiguration or {})
        self.buckets.update(Bucket, {"object_lock": True})
        return {}

    @handler("GetObjectLockConfiguration")
    def get_object_lock_configuration(self, ctx: RequestContext, Bucket: str,
                                      **_: Any) -> dict:
        return {"ObjectLockConfiguration": self.configs.get(Bucket, "object_lock")}

    @handler("GetBucketPolicyStatus")
    def get_bucket_policy_status(self, ctx: RequestContext, Bucket: str, **_: Any) -> dict:
        return {"PolicyStatus": {"IsPublic": is_public_policy(
            self.configs.get(Bucket, "policy"))}}

    # -- object tagging and ACLs ----------------------------------------------------------

    @handler("PutObjectTagging")
    def put_object_tagging(self, ctx: RequestContext, Bucket: str, Key: str, Tagging: dict,
                           VersionId=None, **_: Any) -> dict:
        tags = check_tags(Tagging.get("TagSet") or [], MAX_OBJECT_TAGS)
        self.buckets.get(Bucket)
        record = self.objects.resolve(Bucket, Key, VersionId)
        self._change_metadata(self.buckets.get(Bucket), record, {"tags": tags})
        self.notifier.publish(ctx, self.buckets.get(Bucket), "ObjectTagging:Put", Key, record)
        return _version_of(record)

    @handler("GetObjectTagging")
    def get_object_tagging(self, ctx: RequestContext, Bucket: str, Key: str, VersionId=None,
                           **_: Any) -> dict:
        self.buckets.get(Bucket)
        record = self.objects.resolve(Bucket, Key, VersionId)
        return {"TagSet": [{"Key": k, "Value": v} for k, v in
                           (record.get("tags") or {}).items()], **_version_of(record)}

    @handler("DeleteObjectTagging")
    def delete_object_tagging(self, ctx: RequestContext, Bucket: str, Key: str,
                              VersionId=None, **_: Any) -> dict:
        self.buckets.get(Bucket)
        record = self.objects.resolve(Bucket, Key, VersionId)
        self._change_metadata(self.buckets.get(Bucket), record, {"tags": {}})
        self.notifier.publish(ctx, self.buckets.get(Bucket), "ObjectTagging:Delete", Key,
                              record)
        return _version_of(record)

    @handler("GetObjectAcl")
    def get_object_acl(self, ctx: RequestContext, Bucket: str, Key: str, VersionId=None,
                       **_: Any) -> dict:
        self.buckets.get(Bucket)
        record = self.objects.resolve(Bucket, Key, VersionId)
        return acl_output(record["owner"], record.get("ACL"))

    @handler("PutObjectAcl")
    def put_object_acl(self, ctx: RequestContext, Bucket: str, Key: str, ACL=None,
                       AccessControlPolicy=None, VersionId=None, **grants: Any) -> dict:
        bucket = self.buckets.get(Bucket)
        acl = self._acl(bucket, ACL, grants, AccessControlPolicy)
        record = self.objects.resolve(Bucket, Key, VersionId)
        self._change_metadata(bucket, record, {"ACL": acl or "private"})
        self.notifier.publish(ctx, bucket, "ObjectAcl:Put", Key, record)
        return {}

    @handler("RestoreObject")
    def restore_object(self, ctx: RequestContext, Bucket: str, Key: str, VersionId=None,
                       RestoreRequest=None, **_: Any) -> dict:
        self.buckets.get(Bucket)
        record = self.objects.resolve(Bucket, Key, VersionId)
        status, changes = restore(record, (RestoreRequest or {}).get("Days"),
                                  self.runtime.clock.now())
        self.objects.table.update((Bucket, Key, record["rank"]), changes)
        self.sweeper.restored(Bucket, record, changes["restore_until"])
        bucket = self.buckets.get(Bucket)
        if status == 202:  # a new restore, which nubo completes at once
            self.notifier.publish(ctx, bucket, "ObjectRestore:Post", Key, record)
            self.notifier.publish(ctx, bucket, "ObjectRestore:Completed", Key, record,
                                  restore_data(record, changes["restore_until"]), by_s3=True)
        return {"StatusCode": status}

    @handler("PutObjectRetention")
    def put_object_retention(self, ctx: RequestContext, Bucket: str, Key: str,
                             Retention=None, VersionId=None, BypassGovernanceRetention=None,
                             **_: Any) -> dict:
        record = self._locked_version(Bucket, Key, VersionId)
        mode = (Retention or {}).get("Mode")
        until = (Retention or {}).get("RetainUntilDate")
        until = until.timestamp() if until is not None else None
        now = self.runtime.clock.now()
        if until is not None and until <= now:
            raise errors.invalid_argument("The retain until date must be in the future!",
                                          "RetainUntilDate", Retention["RetainUntilDate"])
        check_retention_change(record, mode, until, bool(BypassGovernanceRetention), now)
        self._change_metadata(self.buckets.get(Bucket), record, {
            "ObjectLockMode": mode, "ObjectLockRetainUntilDate": until})
        return {}

    @handler("GetObjectRetention")
    def get_object_retention(self, ctx: RequestContext, Bucket: str, Key: str, VersionId=None,
                             **_: Any) -> dict:
        record = self._locked_version(Bucket, Key, VersionId)
        if not record.get("ObjectLockMode"):
            raise ServiceError("NoSuchObjectLockConfiguration", "The specified object does not "
                               "have a ObjectLock configuration", 404)
        return {"Retention": {"Mode": record["ObjectLockMode"],
                              "RetainUntilDate": record["ObjectLockRetainUntilDate"]}}

    @handler("PutObjectLegalHold")
    def put_object_legal_hold(self, ctx: RequestContext, Bucket: str, Key: str,
                              LegalHold=None, VersionId=None, **_: Any) -> dict:
        record = self._locked_version(Bucket, Key, VersionId)
        status = (LegalHold or {}).get("Status")
        if status not in ("ON", "OFF"):
            raise errors.malformed_xml()
        self._change_metadata(self.buckets.get(Bucket), record,
                              {"ObjectLockLegalHoldStatus": status})
        return {}

    @handler("GetObjectLegalHold")
    def get_object_legal_hold(self, ctx: RequestContext, Bucket: str, Key: str,
                              VersionId=None, **_: Any) -> dict:
        record = self._locked_version(Bucket, Key, VersionId)
        if not record.get("ObjectLockLegalHoldStatus"):
            raise ServiceError("NoSuchObjectLockConfiguration", "The specified object does not "
                               "have a ObjectLock configuration", 404)
        return {"LegalHold": {"Status": record["ObjectLockLegalHoldStatus"]}}

    def _change_metadata(self, bucket: dict, record: dict, changes: dict) -> None:
        """A version's tags, ACL or Object Lock settings changed, and so those of its copies
        replication made (see replication.metadata_targets)."""
        self.objects.table.update((bucket["name"], record["key"], record["rank"]), changes)
        for target in metadata_targets(bucket, record):
            copy = self.objects.version(target.bucket, record["key"], record["version_id"])
            kept = {name: value for name, value in changes.items()
                    if name != "ACL" or not target.owned_by_destination}
            if copy is not None and not copy.get("delete_marker") and kept:
                self.objects.table.update((target.bucket, record["key"], copy["rank"]), kept)

    def _locked_version(self, bucket: str, key: str, version_id: str | None) -> dict:
        if not self.buckets.get(bucket).get("object_lock"):
            raise errors.invalid_request("Bucket is missing Object Lock Configuration")
        return self.objects.resolve(bucket, key, version_id)

    @handler("GetObjectAttributes")
    def get_object_attributes(self, ctx: RequestContext, Bucket: str, Key: str,
                              ObjectAttributes: list[str], VersionId=None, MaxParts=None,
                              PartNumberMarker=None, **_: Any) -> dict:
        self.buckets.get(Bucket)
        record = self.objects.resolve(Bucket, Key, VersionId)
        wanted = set(ObjectAttributes)
        out: dict[str, Any] = {"LastModified": record["modified"], **_version_of(record)}
        if "ETag" in wanted:
            out["ETag"] = record["etag"].strip('"')
        if "ObjectSize" in wanted:
            out["ObjectSize"] = record["size"]
        if "StorageClass" in wanted:
            out["StorageClass"] = record.get("StorageClass") or "STANDARD"
        if "Checksum" in wanted and record.get("checksum"):
            algorithm, value, kind = record["checksum"]
            out["Checksum"] = {f"Checksum{algorithm}": value, "ChecksumType": kind}
        if "ObjectParts" in wanted and record.get("parts"):
            out["ObjectParts"] = object_parts(record, MaxParts, PartNumberMarker)
        return out


# --- helpers ---------------------------------------------------------------------------------

def _version_of(record: dict) -> dict:
    return {"VersionId": record["version_id"]} if record.get("versioned") else {}


@functools.lru_cache(maxsize=64)
def _listed_checksum(checksum_kind: str) -> dict:
    """A listed version's checksum members, from its "<algorithm> <type>" column (a few
    kinds, each listed thousands of times: the same members, to read only)."""
    algorithm, kind = checksum_kind.split(" ")
    return {"ChecksumAlgorithm": (algorithm,), "ChecksumType": kind}


def _max_keys(value: int | None) -> int:
    if value is None:
        return MAX_KEYS
    if value < 0:
        raise errors.invalid_argument("Provided max-keys not an integer or within integer "
                                      "range", "max-keys", value)
    return min(value, MAX_KEYS)


def _encoder(encoding: str | None):
    if encoding == "url":
        return lambda value: None if value is None else quote(value, safe="/")
    if encoding is not None:
        raise errors.invalid_argument("Invalid Encoding Method specified in Request",
                                      "encoding-type", encoding)
    return lambda value: value


def _identified_handlers(kind: str, name: str) -> tuple[Callable, ...]:
    """PutBucket<name>Configuration, Get..., Delete... and ListBucket<name>Configurations:
    the same four operations for each kind of configuration a bucket holds many of by Id."""
    member = f"{name}Configuration"

    def put(self, ctx: RequestContext, Bucket: str, Id: str, **params: Any) -> None:
        self.buckets.get(Bucket)
        self.identified.put(Bucket, kind, Id, params[member])

    def get(self, ctx: RequestContext, Bucket: str, Id: str, **_: Any) -> dict:
        self.buckets.get(Bucket)
        return {member: self.identified.get(Bucket, kind, Id)}

    def delete(self, ctx: RequestContext, Bucket: str, Id: str, **_: Any) -> None:
        self.buckets.get(Bucket)
        self.identified.delete(Bucket, kind, Id)

    def list_all(self, ctx: RequestContext, Bucket: str, ContinuationToken: str | None = None,
                 **_: Any) -> dict:
        self.buckets.get(Bucket)
        found, last = self.identified.page(
            Bucket, kind, _decode_token(ContinuationToken) if ContinuationToken else None)
        return {f"{member}List": found or None, "IsTruncated": last is not None,
                "ContinuationToken": ContinuationToken,
                "NextContinuationToken": _encode_token(last) if last else None}

    made = []
    for fn, operation in ((put, f"PutBucket{member}"), (get, f"GetBucket{member}"),
                          (delete, f"DeleteBucket{member}"), (list_all, f"ListBucket{member}s")):
        fn.__name__ = f"{operation[:operation.index('Bucket')].lower()}_bucket_{kind}_" + \
            ("configurations" if operation.endswith("s") else "configuration")
        made.append(handler(operation)(fn))
    return tuple(made)


for _kind, _name in (("inventory", "Inventory"), ("metrics", "Metrics"),
                     ("analytics", "Analytics"), ("intelligent_tiering", "IntelligentTiering")):
    for _fn in _identified_handlers(_kind, _name):
        setattr(S3Provider, _fn.__name__, _fn)


def _source_bucket(copy_source: str) -> str:
    """The bucket an x-amz-copy-source names."""
    return unquote(copy_source.partition("?")[0]).lstrip("/").partition("/")[0]


def _encode_token(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def _decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise errors.invalid_argument("The continuation token provided is incorrect",
                                      "continuation-token", token) from None


def _region_of_host(host: str) -> str | None:
    """The region a regional endpoint's host names (bucket.s3.eu-west-1.localhost...)."""
    found = service_host_labels(host)
    return found[0][-1] if found and found[0] and REGION.fullmatch(found[0][-1]) else None


async def _charged(result):
    """An async handler's output, saying the requester was charged."""
    return {**(await result or {}), "RequestCharged": "requester"}


async def _as_chunks(data):
    if isinstance(data, bytes):
        if data:
            yield data
        return
    async for chunk in data:
        yield chunk
