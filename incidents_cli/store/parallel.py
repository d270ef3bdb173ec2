"""Bulk reading on every core: parse records in worker processes, in chunks, in order.

Parsing YAML and checking schemas is CPU work in pure Python, and a cold read of a large
repository (a CI clone, `INCIDENTS_NO_CACHE=1`) is mostly that. Workers are forked from the
command's own process (they start with every module already imported), each takes a chunk of
the work, and the results come back in the order of the input, so the output is the same
bytes as with one process. Workers return only plain data (a cache entry); what they hand
back is never written anywhere. Small jobs, one core, or ``INCIDENTS_WORKERS=1`` run in the
process itself, so a small repository and a one-core machine pay nothing for this.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import accumulate
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing.context import BaseContext

Item = TypeVar("Item")
Out = TypeVar("Out")

MIN_ITEMS = 300
"""Below this many records, starting a worker costs more than it saves."""

CHUNKS_PER_WORKER = 8

MAX_CHUNK = 1000
"""The most items ``iter_chunks`` hands out at a time (also in one process): a chunk's work
may hold its records until the chunk is done, so this bounds memory at any size."""


def workers() -> int:
    """How many processes may parse: INCIDENTS_WORKERS, else the cores this process may use."""
    wanted = os.environ.get("INCIDENTS_WORKERS", "").strip()
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _fork_context() -> BaseContext | None:
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return None  # pragma: no cover - Windows: no fork, parse in-process
    return multiprocessing.get_context("fork")


def map_chunks(work: Callable[[Sequence[Item]], list[Out]], items: Sequence[Item]) -> list[Out]:
    """``work`` applied to ``items`` in chunks, results concatenated in the order of ``items``.

    ``work`` must be a module-level function (it is sent to the workers by name). The
    command's own process takes chunks too: whatever chunk no worker has started yet when it
    gets to it, starting from the end, so no core waits while another has work queued.
    """
    count = workers()
    # (multiprocessing is imported only where workers may start: a rebuild reads few files)
    if count <= 1 or len(items) < MIN_ITEMS or (context := _fork_context()) is None:
        return work(items)
    from concurrent.futures import Future

    size = max(1, -(-len(items) // (count * CHUNKS_PER_WORKER)))
    chunks = [items[start : start + size] for start in range(0, len(items), size)]
    results: list[list[Out] | None] = [None] * len(chunks)
    with _pool(count - 1, context) as pool:
        futures: list[Future[list[Out]]] = [pool.submit(work, chunk) for chunk in chunks]
        for index in reversed(range(len(chunks))):
            if futures[index].cancel():
                results[index] = work(chunks[index])
        for index, future in enumerate(futures):
            if results[index] is None:
                results[index] = future.result()
    return [out for chunk in results if chunk is not None for out in chunk]


def iter_chunks(
    work: Callable[[Sequence[Item]], list[Out]],
    items: Sequence[Item],
    per_worker: int | None = None,
    weight: int | None = None,
    meanwhile: Iterable[Out] = (),
) -> Iterator[Out]:
    """Like ``map_chunks``, but each result as soon as it and every one before it are done,
    so a caller that writes them out holds only the chunks that are ahead of it (those this
    process did while it waited for a worker's). The chunks shrink towards the end
    (``shrinking``), so that the processes finish together; ``per_worker``: that many
    chunks of one size for each process instead (a work that writes a file for each chunk
    wants few). ``weight``: how much work the items are, counted in records (by default
    one each), for whether workers pay. ``meanwhile``: results of other work, that this
    process makes (and yields first) once the workers have started on the chunks."""
    count = workers()
    heavy = (len(items) if weight is None else weight) >= MIN_ITEMS
    # (multiprocessing is imported only where workers may start: a rebuild reads few files)
    if count <= 1 or not heavy or (context := _fork_context()) is None:
        yield from meanwhile
        for start in range(0, len(items), MAX_CHUNK):  # in chunks here too
            yield from work(items[start : start + MAX_CHUNK])
        return
    if per_worker is None:
        sizes = shrinking(len(items), count)
    else:
        size = max(1, min(MAX_CHUNK, -(-len(items) // (count * per_worker))))
        sizes = [size] * -(-len(items) // size)
    starts = [0, *accumulate(sizes)][:-1]
    chunks = [items[start : start + size] for start, size in zip(starts, sizes, strict=True)]
    with _pool(count - 1, context) as pool:
        futures = [pool.submit(work, chunk) for chunk in chunks]
        yield from meanwhile
        done_here: dict[int, list[Out]] = {}
        ahead = 0  # the chunks before this one are done, or taken by a worker
        for index, future in enumerate(futures):
            if index in done_here:
                yield from done_here.pop(index)
                continue
            if future.cancel():  # no worker has started it: done here
                yield from work(chunks[index])
                continue
            # While a worker does this chunk, this process does the next one no worker has
            # taken (workers take them in order, and hold at most two each): waiting for
            # the workers would leave this core idle.
            ahead = max(ahead, index + 1)
            while not future.done() and ahead < len(chunks):
                if futures[ahead].cancel():
                    done_here[ahead] = work(chunks[ahead])
                ahead += 1
            yield from future.result()


SHRINK = 4
"""A chunk is the work left divided by this many times the processes (see ``shrinking``)."""


def shrinking(total: int, count: int) -> list[int]:
    """The sizes of the chunks of ``total`` items for ``count`` processes: each the work
    left divided by ``SHRINK`` times the processes (at most MAX_CHUNK), down to a
    hundredth of a process's share at the end, where a process that finishes first waits
    for the others' last chunks."""
    smallest = max(1, -(-total // (count * 100)))
    sizes: list[int] = []
    left = total
    while left > 0:
        size = min(left, MAX_CHUNK, max(smallest, -(-left // (count * SHRINK))))
        sizes.append(size)
        left -= size
    return sizes


@contextmanager
def _pool(count: int, context: BaseContext) -> Iterator[ProcessPoolExecutor]:
    """Worker processes that leave Ctrl-C to the command (no traceback from each of them);
    if the command stops early, the chunks not yet started are dropped, not waited for."""
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=count, mp_context=context, initializer=_quiet)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _quiet() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def bulk() -> Iterator[None]:
    """The cyclic garbage collector paused while many long-lived containers are made.

    Parsed records are trees of dicts and lists with no cycles; the collector would walk all
    of them again and again as they pile up. Afterwards they are moved out of its way
    (``gc.freeze``), and collection goes on as before.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()
