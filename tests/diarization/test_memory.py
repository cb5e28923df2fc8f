"""release_freed_memory is safe to call anywhere, any number of times."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from callscope.diarization import memory


def test_release_freed_memory_is_safe_to_call_repeatedly_and_from_threads():
    blocks = [np.ones(n, np.uint8) for n in range(1000, 200000, 997)]  # heap blocks of many sizes
    del blocks[::2]
    results = [memory.release_freed_memory() for _ in range(3)]
    with ThreadPoolExecutor(4) as pool:
        results += list(pool.map(lambda _: memory.release_freed_memory(), range(8)))
    assert all(isinstance(r, bool) for r in results)
    assert sum(len(b) for b in blocks) > 0  # what is still held is untouched


def test_release_freed_memory_is_a_no_op_without_glibc(monkeypatch):
    memory._malloc_trim.cache_clear()
    monkeypatch.setattr(sys, "platform", "darwin")
    try:
        assert memory._malloc_trim() is None
        assert memory.release_freed_memory() is False
    finally:
        memory._malloc_trim.cache_clear()
