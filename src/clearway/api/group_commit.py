"""Group commit for single filings: what arrives together is filed in one batch and one commit.

`POST /v1/filings` hands its submission to a `GroupCommit`. Per filer (the pipeline takes one
filer per batch) one group is in the pipeline at a time; what arrives meanwhile waits and goes
in the next group. A group starts when as many of the filer's requests are in as were in play
at its last group (each answered client sends its next filing), or `window` seconds after it
could have started, whichever comes first; a filer sending one request at a time never waits.
Each request is answered only once its group has committed, with the result its own
submission got.

A group is sent as one `Pipeline.process` batch, so each answer must be the one the filing
would have had alone. Inside one batch the pipeline merges filings that touch the same parcel
or repeat a filer reference (the second sees the first's uncommitted state), and adds up a
consignee's parcels of the day; so two submissions never share a group when they name the same
filer reference, parcel key (transport document, order, payment), stored consignment or
consignee. The later one waits for the next group, behind every earlier submission it clashes
with, and sees the earlier one committed, as it would one request later: a re-sent filing is a
duplicate with the stored decision, an amendment of a parcel that arrived meanwhile is the
conflict it would be alone.

When a group fails as a whole (a value the database refuses, conflicts past the retries), its
submissions are filed again one by one, so each gets its own answer or its own error and one
bad filing never fails the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from fastapi.concurrency import run_in_threadpool

from clearway.clearance.pipeline import FilingResult, Submission
from clearway.clearance.ports import Filer, Store
from clearway.risk.columns import identity_key

Process = Callable[[Filer, Sequence[Submission]], list[FilingResult]]
# A group waits for the filer's requests expected back (those answered in its last group), at
# most this long; a filer with one request in play never waits.
WINDOW = 0.010
MAX_GROUP = 256


@dataclass(slots=True)
class _Waiting:
    submission: Submission
    answer: asyncio.Future[FilingResult]


@dataclass(slots=True)
class _Lane:
    """One filer's submissions waiting for a group, and whether a group is being filed."""

    waiting: list[_Waiting] = field(default_factory=list)
    busy: bool = False
    filing: int = 0  # how many of `waiting` are in the pipeline now
    task: asyncio.Task[None] | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    # how many of the filer's requests were in play at the last group (those in it come back
    # with their next filing): the size the next group waits for, up to the window
    expected: int = 1


@dataclass(slots=True)
class _Filed:
    """What a group's thread did: which submissions it took, and an answer or error each."""

    taken: list[int]
    answers: list[FilingResult | BaseException]


class GroupCommit:
    """Gathers one filer's concurrent single filings into one pipeline batch and one commit."""

    def __init__(
        self,
        process: Process,
        store: Store,
        *,
        window: float = WINDOW,
        max_group: int = MAX_GROUP,
        measure: Callable[[int], None] | None = None,
    ) -> None:
        self.process = process
        self.store = store
        self.window = window
        self.max_group = max_group
        self.measure = measure  # told each group's size (the /metrics counters)
        self._lanes: dict[Filer, _Lane] = {}
        self.groups = 0  # groups filed and submissions in them
        self.grouped = 0

    def waiting(self) -> int:
        """Submissions waiting for a group (not yet in the pipeline)."""
        return sum(len(lane.waiting) - lane.filing for lane in list(self._lanes.values()))

    async def file(self, filer: Filer, submission: Submission) -> FilingResult:
        """The result of `submission`, once the group it went in has committed."""
        lane = self._lanes.setdefault(filer, _Lane())
        answer: asyncio.Future[FilingResult] = asyncio.get_running_loop().create_future()
        lane.waiting.append(_Waiting(submission, answer))
        lane.arrived.set()
        if not lane.busy:
            lane.busy = True
            # held by the lane: the loop keeps only a weak reference to a running task
            lane.task = asyncio.get_running_loop().create_task(self._drain(filer, lane))
        # a client that hangs up cancels only its wait: the filing goes in a group all the same,
        # as a request whose thread is already filing runs to its end
        return await answer

    async def _drain(self, filer: Filer, lane: _Lane) -> None:
        lane.arrived = asyncio.Event()  # of this event loop (a test client may run several)
        try:
            while lane.waiting:
                await self._gather(lane)
                offered = lane.waiting[: self.max_group]
                lane.filing = len(offered)
                try:
                    filed = await run_in_threadpool(
                        self._file_group, filer, [w.submission for w in offered]
                    )
                except Exception as exc:  # the look-ups failed: each answer is the error
                    filed = _Filed(list(range(len(offered))), [exc] * len(offered))
                self.groups += 1
                self.grouped += len(filed.taken)
                if self.measure is not None:
                    self.measure(len(filed.taken))
                taken = set(filed.taken)
                lane.waiting[: len(offered)] = [w for i, w in enumerate(offered) if i not in taken]
                lane.filing = 0
                lane.expected = len(taken) + len(lane.waiting)
                for i, answer in zip(filed.taken, filed.answers, strict=True):
                    future = offered[i].answer
                    if future.done():
                        continue
                    if isinstance(answer, BaseException):
                        future.set_exception(answer)
                    else:
                        future.set_result(answer)
        except asyncio.CancelledError:  # the server is stopping: nobody waits any longer
            for w in lane.waiting:
                w.answer.cancel()
            raise
        finally:
            lane.busy = False

    async def _gather(self, lane: _Lane) -> None:
        """Wait until the filer's requests expected for this group are in, or the window ends."""
        if self.window <= 0:
            return
        want = min(lane.expected, self.max_group)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.window
        while len(lane.waiting) < want:
            left = deadline - loop.time()
            if left <= 0:
                return
            lane.arrived.clear()
            try:
                await asyncio.wait_for(lane.arrived.wait(), left)
            except TimeoutError:
                return

    def _file_group(self, filer: Filer, offered: list[Submission]) -> _Filed:
        """In a worker thread: choose the submissions that may share a batch, and file them."""
        taken = self._independent(filer, offered)
        batch = [offered[i] for i in taken]
        try:
            results = self.process(filer, batch)
        except Exception as exc:  # the group failed as a whole: each filing alone
            if len(batch) == 1:
                return _Filed(taken, [exc])
            return _Filed(taken, [self._alone(filer, s) for s in batch])
        return _Filed(taken, [_as_single(r) for r in results])

    def _alone(self, filer: Filer, submission: Submission) -> FilingResult | BaseException:
        try:
            [result] = self.process(filer, [submission])
        except Exception as exc:  # this filing's own error, for its own request
            return exc
        return result

    def _independent(self, filer: Filer, offered: list[Submission]) -> list[int]:
        """Indices of the submissions that touch nothing an earlier offered one touches.

        The first submission is always taken, so every group makes progress.
        """
        names = [_names(s) for s in offered]
        refs = sorted({n[1] for ns in names for n in ns if n[0] == "ref"})
        keys = sorted({n[1] for ns in names for n in ns if n[0] == "key"})
        stored = self.store.filings_by_reference(filer.operator_id, refs) if refs else {}
        heads = self.store.heads_by_keys(keys) if keys else {}
        claimed: set[tuple[str, str]] = set()
        taken: list[int] = []
        for i, ns in enumerate(names):
            touched = set(ns)
            for kind, name in ns:
                if kind == "ref" and name in stored:
                    touched.add(("consignment", stored[name].consignment_id))
                elif kind == "key" and name in heads:
                    touched.add(("consignment", heads[name].id))
            if not touched & claimed:
                taken.append(i)
            # a deferred submission keeps its names claimed: nothing later overtakes it
            claimed |= touched
        return taken


def _names(submission: Submission) -> list[tuple[str, str]]:
    """What a submission could share with another in one batch: reference, parcel, consignee."""
    doc = submission.document
    if doc is None:
        return [("ref", submission.reference)] if submission.reference else []
    out = [("ref", doc.filer_reference)]
    if doc.transport_document:
        out.append(("key", doc.transport_document))
    if doc.order is not None and doc.order.id:
        out.append(("key", f"order:{doc.order.id}"))
    if doc.payment is not None and doc.payment.id:
        out.append(("key", f"payment:{doc.payment.id}"))
    consignee = identity_key(doc.consignee)
    if consignee:
        out.append(("consignee", consignee))
    return out


def _as_single(result: FilingResult) -> FilingResult:
    """The result as a batch of one would number it."""
    result.index = 0
    return result
