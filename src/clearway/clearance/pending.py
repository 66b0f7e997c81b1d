"""A decision owed: what the queued runtime hands from the API process to a worker.

The API process classifies and stores a filing, then records one `PendingDecision` per changed
consignment in the same transaction (the outbox). A worker later assesses and decides the
consignment exactly at that version; the message carries what the filing's classification found
(validation warnings, record-match problems) because those are inputs of the decision.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from clearway.kernel.errors import Problem


class PendingDecision(msgspec.Struct, frozen=True):
    consignment_id: str
    version: int
    owner_id: str  # the consignment's owner: the fairness key
    operator_id: str  # the filer whose filing made this version
    filer_name: str
    filer_role: str
    role: str  # the role the filing was made in (a message format may imply one)
    filed_at: datetime
    warnings: list[Problem] = []
    match: list[Problem] = []

    @property
    def key(self) -> str:
        """Idempotency key of the message: one decision per consignment version."""
        return f"{self.consignment_id}:{self.version}"


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(PendingDecision)


def encode_pending(p: PendingDecision) -> bytes:
    return _ENCODER.encode(p)


def decode_pending(data: bytes | str) -> PendingDecision:
    """The message back; raises msgspec.DecodeError / ValidationError on anything else."""
    return _DECODER.decode(data)
