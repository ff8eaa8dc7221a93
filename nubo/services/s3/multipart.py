"""Multipart uploads: parts received one by one, then completed into one object whose segments
are the parts' blobs (nothing is copied), with the ETag S3 gives (MD5 of the parts' MD5s, -N)."""

from __future__ import annotations

import secrets

from nubo.core.clock import Clock
from nubo.core.errors import ServiceError
from nubo.store import Store
from nubo.services.s3 import errors
from nubo.services.s3.blobs import BlobStore
from nubo.services.s3.checksums import combine, composite, is_crc, multipart_etag
from nubo.services.s3.models import Listing, _walk
from nubo.services.s3.schema import PARTS, UPLOADS

MIN_PART_SIZE = 5 * 1024 * 1024  # every part but the last
MAX_PART_NUMBER = 10_000
MAX_OBJECT_SIZE = 5 * 1024 ** 4  # 5 TiB


class Uploads:
    def __init__(self, store: Store, clock: Clock, blobs: BlobStore) -> None:
        self.store = store
        self.clock = clock
        self.blobs = blobs
        self.uploads = store.table(UPLOADS)
        self.parts = store.table(PARTS)

    def create(self, bucket: str, key: str, attributes: dict) -> dict:
        upload = {"upload_id": secrets.token_urlsafe(48), "bucket": bucket, "key": key,
                  "initiated": self.clock.now(), **attributes}
        self.uploads.insert(upload)
        return upload

    def get(self, bucket: str, key: str, upload_id: str) -> dict:
        upload = self.uploads.get((upload_id,))
        if upload is None or upload["bucket"] != bucket or upload["key"] != key:
            raise errors.no_such_upload(upload_id)
        return upload

    def put_part(self, upload: dict, number: int, part: dict) -> list[str]:
        """Store a part (replacing one of the same number); returns the garbage."""
        old = self.parts.get((upload["upload_id"], number))
        self.parts.put({"upload_id": upload["upload_id"], "number": number, **part})
        return self.blobs.release([b for b, _ in old["segments"]]) if old else []

    def list_parts(self, upload_id: str, after: int, limit: int) -> list[dict]:
        return self.parts.find(eq=(upload_id,), lo=after + 1, limit=limit)

    def abort(self, upload: dict) -> list[str]:
        parts = self.parts.find(eq=(upload["upload_id"],))
        self.parts.delete_where(eq=(upload["upload_id"],))
        self.uploads.delete((upload["upload_id"],))
        return self.blobs.release([b for part in parts for b, _ in part["segments"]])

    def abort_all(self, bucket: str) -> list[str]:
        garbage: list[str] = []
        for upload in self.uploads.find("by_bucket", (bucket,)):
            garbage += self.abort(upload)
        return garbage

    def complete(self, upload: dict, requested: list[dict], expected_size: int | None = None
                 ) -> tuple[dict, list[str]]:
        """The object the listed parts make, by S3's rules (ascending part numbers, matching
        ETags, 5 MiB minimum but for the last); the upload and unused parts are dropped."""
        if not requested:
            raise errors.malformed_xml()
        chosen, previous = [], 0
        for index, item in enumerate(requested):
            number = item.get("PartNumber")
            if number is None or number <= previous:
                raise ServiceError("InvalidPartOrder", "The list of parts was not in ascending "
                                   "order. Parts must be ordered by part number.", 400,
                                   fields={"UploadId": upload["upload_id"]})
            previous = number
            part = self.parts.get((upload["upload_id"], number))
            stated = item.get(f"Checksum{upload.get('checksum_algorithm')}")
            if part is None or (item.get("ETag") or "").strip('"') != part["etag"].strip('"') \
                    or stated is not None and stated != part.get("checksum"):
                raise ServiceError(
                    "InvalidPart", "One or more of the specified parts could not be found.  "
                    "The part may not have been uploaded, or the specified entity tag may not "
                    "match the part's entity tag.", 400,
                    fields={"UploadId": upload["upload_id"], "PartNumber": number,
                            "ETag": item.get("ETag")})
            chosen.append(part)
        for part in chosen[:-1]:
            if part["size"] < MIN_PART_SIZE:
                raise ServiceError(
                    "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed "
                    "size", 400, fields={"ProposedSize": part["size"],
                                         "MinSizeAllowed": MIN_PART_SIZE,
                                         "PartNumber": part["number"], "ETag": part["etag"]})
        record = {key: value for key, value in upload.items()
                  if key not in ("upload_id", "bucket", "initiated", "checksum_algorithm",
                                 "checksum_type")}
        size = sum(part["size"] for part in chosen)
        if size > MAX_OBJECT_SIZE:
            raise ServiceError("EntityTooLarge", "Your proposed upload exceeds the maximum "
                               "allowed size", 400, fields={"ProposedSize": size,
                                                            "MaxSizeAllowed": MAX_OBJECT_SIZE})
        if expected_size is not None and expected_size != size:
            raise errors.invalid_request(f"The provided 'x-amz-mp-object-size' header value "
                                         f"{expected_size} does not match what was computed: "
                                         f"{size}")
        record.update(
            size=size,
            etag=multipart_etag([part["md5"] for part in chosen]),
            segments=[segment for part in chosen for segment in part["segments"]],
            parts=[[part["size"], part.get("checksum")] for part in chosen],
            modified=self.clock.now())
        algorithm = upload.get("checksum_algorithm")
        if algorithm and all(part.get("checksum") for part in chosen):
            kind = upload.get("checksum_type") or "COMPOSITE"
            values = [part["checksum"] for part in chosen]
            whole = combine(algorithm, [(value, part["size"]) for value, part in
                                        zip(values, chosen)]) if kind == "FULL_OBJECT" and \
                is_crc(algorithm) else composite(algorithm, values)
            record["checksum"] = [algorithm, whole, kind]
        used = {part["number"] for part in chosen}
        leftovers = [part for part in self.parts.find(eq=(upload["upload_id"],))
                     if part["number"] not in used]
        self.parts.delete_where(eq=(upload["upload_id"],))
        self.uploads.delete((upload["upload_id"],))
        return record, self.blobs.release([b for part in leftovers for b, _ in part["segments"]])

    def listing(self, bucket: str, prefix: str, delimiter: str | None, key_marker: str | None,
                upload_marker: str | None, limit: int) -> Listing:
        cursor = None
        if key_marker and upload_marker:
            cursor = self.uploads.get((upload_marker,))

        def fetch(lo: str, hi: str | None, count: int, cursor: dict | None) -> list[dict]:
            if cursor is not None:  # later uploads of the cursor's key first
                rows = [row for row in self.uploads.find(
                    "by_bucket", (bucket, cursor["key"]), lo=cursor["initiated"], limit=count + 1)
                    if (row["initiated"], row["upload_id"]) >
                    (cursor["initiated"], cursor["upload_id"])]
                if rows:
                    return rows
            return self.uploads.find("by_bucket", (bucket,), lo=lo, hi=hi, limit=count)
        return _walk(fetch, prefix, delimiter, key_marker, limit, cursor)


def check_whole_checksum(record: dict, stated: dict) -> None:
    """A full-object checksum given with CompleteMultipartUpload must match the parts'."""
    if not record.get("checksum"):
        return
    algorithm, value, kind = record["checksum"]
    given = stated.get(f"Checksum{algorithm}")
    if given is not None and kind == "FULL_OBJECT" and given != value:
        raise errors.bad_checksum(algorithm)
