"""A second process that answers batches beside the Generator, on a CPU with cores to share.

A 135M model answering one batch does not keep two cores busy: small matrix products
scale poorly across threads (two threads answered 1.54x faster than one). Two processes
of one thread each, each answering whole batches, answered 1.26x faster than one process
of two threads. The Generator keeps the batches (formed from all conversations sorted by
length, so a batch is the same whichever process answers it) and both take the next one,
longest first, whenever they are free: a thread of the Generator's feeds this helper.

The helper loads its own copy of the model (an adapter merged, as in the Generator), in
the background, while the Generator answers alone. A helper that fails to load or dies is
let go, and its batches are answered by the Generator: it makes answers faster, never
different, and never a reason to fail.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence

STOP_SECONDS = 10
POLL_SECONDS = 1.0


def serve(connection, model, settings, threads: int) -> None:
    """The helper's loop (in the child): load the model, then answer each batch sent until told to stop."""
    import os

    import torch

    torch.set_num_threads(threads)
    if os.environ.get("TQDM_DISABLE") == "1":  # the parent quieted the libraries (no --verbose): so does its helper
        from model_hospital.clinic.inference import quiet_libraries

        quiet_libraries(verbose=False)
    from model_hospital.clinic.inference import Generator

    try:
        generator = Generator(model, settings.model_copy(update={"workers": 1}))
    except Exception as error:  # noqa: BLE001 - reported to the parent, which answers alone
        connection.send(("failed", None, f"{type(error).__name__}: {error}"))
        return
    connection.send(("ready", None, None))
    while True:
        job = connection.recv()
        if job is None:
            return
        job_id, messages, max_new_tokens, batch_size = job
        try:
            answers = generator.answer_batch(messages, max_new_tokens, batch_size)
        except Exception as error:  # noqa: BLE001
            connection.send(("failed", job_id, f"{type(error).__name__}: {error}"))
            return
        connection.send(("answered", job_id, answers))


class AnsweringHelper:
    """The parent's handle on the helper process: wait for it, give it a batch, notice a failure."""

    def __init__(self, model, settings, threads: int):
        context = multiprocessing.get_context("spawn")  # a fork of a process holding torch threads can hang
        self._connection, child = context.Pipe()
        self._process = context.Process(target=serve, args=(child, model, settings, threads), daemon=True,
                                        name="hospital-answering-helper")
        self._process.start()
        child.close()
        self.ready = False
        self.failure: str | None = None
        self._jobs = 0

    @property
    def usable(self) -> bool:
        return self.failure is None

    def wait_ready(self, keep_waiting) -> bool:
        """Waits until the helper has loaded its model, while `keep_waiting()` says the work is not done yet."""
        while self.usable and not self.ready and keep_waiting():
            message = self._receive()
            if message is not None and message[0] == "ready":
                self.ready = True
            elif message is not None:
                self._fail(str(message[2]))
        return self.ready and self.usable

    def answer(self, messages: Sequence, max_new_tokens: int, batch_size: int) -> list[str] | None:
        """The helper's answers to one batch; None when it failed (it is then let go)."""
        self._jobs += 1
        try:
            self._connection.send((self._jobs, list(messages), max_new_tokens, batch_size))
        except (OSError, EOFError, BrokenPipeError) as error:
            self._fail(f"cannot reach the helper: {error}")
            return None
        while self.usable:
            message = self._receive()
            if message is None:
                continue
            kind, job_id, payload = message
            if kind == "answered" and job_id == self._jobs:
                return payload
            self._fail(str(payload))
        return None

    def _receive(self):
        """One message from the helper, or None after a short wait; a dead helper is a failure."""
        try:
            if self._connection.poll(POLL_SECONDS):
                return self._connection.recv()
        except (OSError, EOFError) as error:
            self._fail(f"the helper stopped: {error}")
            return None
        if not self._process.is_alive():
            self._fail(f"the helper exited with code {self._process.exitcode}")
        return None

    def _fail(self, why: str) -> None:
        self.failure = why or "unknown failure"
        self.stop()

    def stop(self) -> None:
        """Tells the helper to stop and waits briefly; kills it otherwise."""
        if self._process.is_alive():
            try:
                self._connection.send(None)
            except (OSError, EOFError, BrokenPipeError):
                pass
            self._process.join(STOP_SECONDS)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(STOP_SECONDS)
        self._connection.close()
