"""Object bytes on disk: one file per blob under ``<data dir>/s3/blobs``, small blobs inline in
the store.

A file is only ever written after its id is registered as *loose* and that registration is
durable; the row that makes it part of an object removes the registration in the same commit.
So after ``kill -9`` every file an interrupted upload wrote is named by a loose row, and startup
removes it, without scanning the directory. Files are fsynced before the rows that refer to them
commit, so an acknowledged PUT survives a crash.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import AsyncIterator, Callable

from nubo.store import Store
from nubo.services.s3.schema import EARLIER_INLINE_BLOBS, INLINE_BLOBS, LOOSE_BLOBS

# the data (and the size) only: the file's other metadata need not be durable
_datasync = getattr(os, "fdatasync", os.fsync)
INLINE_LIMIT = 64 * 1024  # bytes kept in the store rather than in a file
READ_CHUNK = 1 << 20


def new_blob_id() -> str:
    return secrets.token_hex(16)


class BlobStore:
    def __init__(self, store: Store, data_dir: Path | None) -> None:
        self.store = store
        if data_dir is None:  # ephemeral: a temporary directory, gone at exit
            self.root = Path(tempfile.mkdtemp(prefix="nubo-s3-"))
            atexit.register(shutil.rmtree, self.root, True)
        else:
            self.root = data_dir / "s3" / "blobs"
        self.root.mkdir(parents=True, exist_ok=True)
        self.inline = store.table(INLINE_BLOBS)
        self.earlier_inline = store.table(EARLIER_INLINE_BLOBS)
        self.loose = store.table(LOOSE_BLOBS)
        self._removals: set[asyncio.Task] = set()  # remove_soon's, referenced until done
        self.remove_loose()

    def clear(self) -> None:
        """Every blob file goes (``nubo reset`` wiped the rows that named them)."""
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, blob: str) -> Path:
        return self.root / blob[:2] / blob

    # -- writing --------------------------------------------------------------------------

    def put_inline(self, data: bytes, over: int | None = None) -> int:
        """Small bytes into the store, as a new inline blob or over the one ``over``; an
        inline blob's id is an integer, a file's a string."""
        if over is None:
            return self.inline.append({"data": data})
        self.inline.set_columns((over,), {"data": data})
        return over

    async def open_file(self) -> tuple[str, "BlobWriter"]:
        """A new blob file, registered as loose (durably) before it exists."""
        blob = new_blob_id()
        with self.store.transaction():
            self.loose.put({"blob": blob})
        pending = self.store.committed()
        if pending is not None:
            await pending
        path = self.path(blob)
        path.parent.mkdir(exist_ok=True)
        return blob, BlobWriter(path)

    def adopt(self, blob: str) -> None:
        """The blob is now referred to by a row written in the same transaction."""
        self.loose.delete((blob,))

    # -- reading --------------------------------------------------------------------------

    def inline_data(self, blob: int | str) -> bytes | None:
        """The bytes of an inline blob; None for a file blob."""
        row = (self.inline if isinstance(blob, int) else self.earlier_inline).get((blob,))
        return None if row is None else row["data"]

    def reader(self, blob: int | str, start: int, end: int) -> Callable[[], AsyncIterator[bytes]]:
        """Bytes [start, end) of the blob. The file is opened now, so a concurrent delete or
        overwrite does not cut the read short."""
        inline = self.inline_data(blob)
        if inline is not None:
            data = inline[start:end]

            async def inline_chunks() -> AsyncIterator[bytes]:
                if data:
                    yield data
            return inline_chunks
        handle = open(self.path(blob), "rb")
        handle.seek(start)

        async def file_chunks() -> AsyncIterator[bytes]:
            try:
                left = end - start
                while left > 0:
                    chunk = handle.read(min(READ_CHUNK, left))
                    if not chunk:
                        return
                    left -= len(chunk)
                    yield chunk
                    await asyncio.sleep(0)
            finally:
                handle.close()
        return file_chunks

    # -- removing -------------------------------------------------------------------------

    def release(self, blobs: list[str]) -> list[str]:
        """The blobs are no longer referred to (called in the transaction that dropped them).
        Inline ones go now; the files are returned, to ``remove`` once that commit is durable
        (until then they are loose, so a crash in between still removes them)."""
        files = []
        for blob in blobs:
            if isinstance(blob, int):
                self.inline.delete((blob,))
            elif not self.earlier_inline.delete((blob,)):
                self.loose.put({"blob": blob})
                files.append(blob)
        return files

    def remove(self, blobs: list[str]) -> None:
        """Delete loose blob files and their registration."""
        if not blobs:
            return
        self._unlink(blobs)
        self._forget(blobs)

    def remove_soon(self, blobs: list[str]) -> None:
        """``remove``, in a worker thread, while the response goes out: unlinking a large file
        takes milliseconds. The files stay loose until then, so a crash in between still
        removes them."""
        if blobs:
            task = asyncio.get_running_loop().create_task(self._remove_in_thread(blobs))
            self._removals.add(task)
            task.add_done_callback(self._removals.discard)

    async def _remove_in_thread(self, blobs: list[str]) -> None:
        await asyncio.to_thread(self._unlink, blobs)
        self._forget(blobs)

    def _unlink(self, blobs: list[str]) -> None:
        for blob in blobs:
            try:
                os.unlink(self.path(blob))
            except FileNotFoundError:
                pass

    def _forget(self, blobs: list[str]) -> None:
        with self.store.transaction():
            for blob in blobs:
                self.loose.delete((blob,))

    def remove_loose(self) -> None:
        """At startup: every loose blob is garbage (an interrupted upload, or a delete whose
        files were not removed yet)."""
        while batch := [row["blob"] for row in self.loose.find(limit=1000)]:
            self.remove(batch)


class BlobWriter:
    """A blob file being written; ``finish`` makes it durable (fsync off the event loop).
    Every few MiB written are synced as the upload goes on, so ``finish`` (which the response
    waits for) has only the last few to sync, not the whole file."""

    SYNC_EVERY = 8 << 20

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = open(path, "wb")
        self.size = 0
        self.unsynced = 0

    def write(self, chunks: list[bytes]) -> None:
        self.file.writelines(chunks)
        written = sum(map(len, chunks))
        self.size += written
        self.unsynced += written
        if self.unsynced >= self.SYNC_EVERY:
            self.file.flush()
            _datasync(self.file.fileno())
            self.unsynced = 0

    async def finish(self) -> None:
        self.file.flush()
        await asyncio.to_thread(os.fsync, self.file.fileno())
        self.file.close()

    def close(self) -> None:
        self.file.close()
