"""How the process holds memory between and during calls, on glibc (elsewhere these do nothing).

Recognition (CTranslate2's threads) and diarization (torch's) allocate from several threads at
once. glibc gives each such thread its own heap ("arena"), up to eight per core, and memory freed in
one arena is not reused by another: a 50-minute call peaked at 2.36 GB with the default and at
1.93 GB with two arenas, in the same time (`bench/transcribe.py --floor --minutes 46`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from functools import lru_cache

logger = logging.getLogger(__name__)

M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h


@lru_cache(maxsize=1)
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt  # noqa: B018 - glibc has it, musl and macOS do not
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def limit_malloc_arenas(arenas: int) -> bool:
    """At most `arenas` heaps for the threads created from now on (0: glibc's default). An explicit
    MALLOC_ARENA_MAX in the environment wins. True when the limit was set."""
    libc = _glibc()
    if arenas <= 0 or libc is None or "MALLOC_ARENA_MAX" in os.environ:
        return False
    return bool(libc.mallopt(M_ARENA_MAX, arenas))


def release_free_memory() -> None:
    """Give the memory a finished call freed back to the system, so that an idle replica's resident
    size falls back to its models instead of staying at the last call's peak."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
