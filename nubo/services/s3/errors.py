"""S3's errors, with AWS's codes, statuses, messages and the details S3 adds to its <Error>."""

from __future__ import annotations

from nubo.core.errors import ServiceError


def no_such_bucket(bucket: str) -> ServiceError:
    return ServiceError("NoSuchBucket", "The specified bucket does not exist", 404,
                        fields={"BucketName": bucket})


def no_such_key(key: str) -> ServiceError:
    return ServiceError("NoSuchKey", "The specified key does not exist.", 404,
                        fields={"Key": key})


def no_such_version(key: str, version_id: str) -> ServiceError:
    return ServiceError("NoSuchVersion", "The specified version does not exist.", 404,
                        fields={"Key": key, "VersionId": version_id})


def no_such_upload(upload_id: str) -> ServiceError:
    return ServiceError("NoSuchUpload", "The specified upload does not exist. The upload ID may "
                        "be invalid, or the upload may have been aborted or completed.", 404,
                        fields={"UploadId": upload_id})


def invalid_argument(message: str, name: str, value: object) -> ServiceError:
    return ServiceError("InvalidArgument", message, 400,
                        fields={"ArgumentName": name, "ArgumentValue": value})


def invalid_request(message: str) -> ServiceError:
    return ServiceError("InvalidRequest", message, 400)


def precondition_failed(condition: str) -> ServiceError:
    return ServiceError("PreconditionFailed",
                        "At least one of the pre-conditions you specified did not hold", 412,
                        fields={"Condition": condition})


def not_modified(headers: dict[str, str]) -> ServiceError:
    return ServiceError("NotModified", "Not Modified", 304, headers=headers)


def malformed_xml() -> ServiceError:
    return ServiceError("MalformedXML", "The XML you provided was not well-formed or did not "
                        "validate against our published schema", 400)


def bad_digest(expected: str, calculated: str) -> ServiceError:
    return ServiceError("BadDigest", "The Content-MD5 you specified did not match what we "
                        "received.", 400,
                        fields={"ExpectedDigest": expected, "CalculatedDigest": calculated})


def bad_checksum(algorithm: str) -> ServiceError:
    return ServiceError("BadDigest", f"The {algorithm} you specified did not match the "
                        "calculated checksum.", 400)


def incomplete_body() -> ServiceError:
    return ServiceError("IncompleteBody", "You did not provide the number of bytes specified by "
                        "the Content-Length HTTP header", 400)


def entity_too_large(size: int, limit: int) -> ServiceError:
    return ServiceError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed "
                        "size", 400, fields={"ProposedSize": size, "MaxSizeAllowed": limit})


def method_not_allowed(method: str, resource: str) -> ServiceError:
    return ServiceError("MethodNotAllowed", "The specified method is not allowed against this "
                        "resource.", 405, fields={"Method": method, "ResourceType": resource})


def malformed_post() -> ServiceError:
    return ServiceError("MalformedPOSTRequest", "The body of your POST request is not "
                        "well-formed multipart/form-data.", 400)


def post_without_file() -> ServiceError:
    return invalid_argument("POST requires exactly one file upload per request.", "file", 0)


def invalid_policy_document() -> ServiceError:
    return invalid_argument("Invalid Policy: Invalid JSON.", "policy", "")


def no_ownership_controls(bucket: str) -> ServiceError:
    return ServiceError("OwnershipControlsNotFoundError", "The bucket ownership controls were "
                        "not found", 404, fields={"BucketName": bucket})
