"""RSA private keys generated ahead of need. Generating an RSA key takes 0.1 s (2048 bits) to
over a second (4096 bits); done in a request it would stall every other request on nubo's one
event loop. A background thread (OpenSSL releases the GIL) keeps a few keys ready of each size
that was asked for once; a request takes one, and generates inline only when none is ready (so
an idle nubo, or one that never uses RSA, spends nothing on it)."""

from __future__ import annotations

import asyncio
from collections import deque

from nubo.services.kms import crypto

READY_PER_SIZE = 2


class KeyPool:
    def __init__(self) -> None:
        self._ready: dict[int, deque[bytes]] = {}  # sizes asked for -> keys ready
        self._wanted = asyncio.Event()

    def rsa_key(self, bits: int) -> bytes:
        ready = self._ready.setdefault(bits, deque())
        self._wanted.set()
        return ready.popleft() if ready else crypto.new_rsa_key(bits)

    def material(self, spec: crypto.Spec) -> bytes:
        return self.rsa_key(spec.bits) if spec.family == "rsa" else crypto.new_material(spec)

    def key_pair(self, spec: crypto.Spec) -> tuple[bytes, bytes]:
        """(PKCS#8 DER private key, DER public key), for GenerateDataKeyPair."""
        private = self.material(spec)
        return private, crypto.public_key_der(private)

    async def keep_filled(self) -> None:
        while True:
            for bits, ready in list(self._ready.items()):
                while len(ready) < READY_PER_SIZE:
                    ready.append(await asyncio.to_thread(crypto.new_rsa_key, bits))
            await self._wanted.wait()
            self._wanted.clear()
