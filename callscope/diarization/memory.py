"""Handing freed heap memory back to the operating system (glibc only; elsewhere a no-op).

glibc's ``free`` keeps freed blocks in its arenas for reuse; when blocks of ever-changing sizes
are freed (ONNX Runtime's activations for speech runs of a new length at every call), the
arenas fragment and the resident set creeps up although the program holds no more memory.
``malloc_trim(0)`` returns the free pages of every arena.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
from functools import lru_cache
from typing import Any

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, or None (not Linux, another C library, or it cannot be loaded)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # musl and others have no malloc_trim
        log.debug("malloc_trim is not available", exc_info=True)
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_freed_memory() -> bool:
    """Give the C heap's free pages back to the operating system; whether anything was released
    (False also where this is not glibc). Safe to call at any time, from any thread."""
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False
