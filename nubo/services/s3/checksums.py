"""ETags and S3's additional checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256), computed
incrementally as the bytes stream through. CRCs come from awscrt (AWS's own C implementations,
the ones botocore uses when installed), which can also combine the CRCs of parts into the CRC of
the whole object without reading it again."""

from __future__ import annotations

import base64
import hashlib
import zlib
from typing import Callable

from awscrt import checksums as crt

from nubo.core.errors import ServiceError

ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
_CRCS: dict[str, tuple[Callable[[bytes, int], int], Callable[[int, int, int], int], int]] = {
    "CRC32": (zlib.crc32, crt.combine_crc32, 4),
    "CRC32C": (crt.crc32c, crt.combine_crc32c, 4),
    "CRC64NVME": (crt.crc64nvme, crt.combine_crc64nvme, 8),
}


class Checksum:
    """One algorithm's running checksum."""

    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm
        crc = _CRCS.get(algorithm)
        if crc is not None:
            self._crc, self._value, self._hash = crc[0], 0, None
            self._size = crc[2]
        else:
            self._hash = hashlib.new(algorithm.lower())

    def update(self, data: bytes) -> None:
        if self._hash is not None:
            self._hash.update(data)
        else:
            self._value = self._crc(data, self._value)

    def digest(self) -> bytes:
        if self._hash is not None:
            return self._hash.digest()
        return self._value.to_bytes(self._size, "big")

    def b64(self) -> str:
        return base64.b64encode(self.digest()).decode()


def is_crc(algorithm: str) -> bool:
    return algorithm in _CRCS


def combine(algorithm: str, parts: list[tuple[str, int]]) -> str:
    """The full-object CRC of parts given as (base64 CRC, size)."""
    _, join, size = _CRCS[algorithm]
    value = 0
    for index, (encoded, length) in enumerate(parts):
        crc = int.from_bytes(base64.b64decode(encoded), "big")
        value = crc if index == 0 else join(value, crc, length)
    return base64.b64encode(value.to_bytes(size, "big")).decode()


def composite(algorithm: str, parts: list[str]) -> str:
    """The checksum of the parts' checksums, as S3 gives for COMPOSITE multipart objects."""
    whole = Checksum(algorithm)
    for encoded in parts:
        whole.update(base64.b64decode(encoded))
    return f"{whole.b64()}-{len(parts)}"


def member_name(algorithm: str) -> str:
    return f"Checksum{algorithm}"


def multipart_etag(part_md5s: list[bytes]) -> str:
    return f'"{hashlib.md5(b"".join(part_md5s)).hexdigest()}-{len(part_md5s)}"'


def content_md5(value: str) -> bytes:
    """The digest a Content-MD5 header states (InvalidDigest if it is not one)."""
    try:
        digest = base64.b64decode(value, validate=True)
    except ValueError:
        digest = b""
    if len(digest) != 16:
        raise ServiceError("InvalidDigest", "The Content-MD5 you specified was not valid.", 400,
                           fields={"Content-MD5": value})
    return digest
