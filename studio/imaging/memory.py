"""glibc malloc settings for loops that allocate and free the same large buffers every iteration.

By default glibc serves big requests (activation maps of tens of MB) with mmap and
hands them back to the OS on free, so every forward/backward pass of the style
optimisation pays for fresh zeroed pages. Keeping those buffers on the heap while
the loop runs removes that cost; afterwards the defaults are restored and the heap
is trimmed, so a long-lived server's memory does not creep. Elsewhere than glibc
this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# mallopt parameters (malloc.h). Setting any of them switches off glibc's dynamic mmap
# threshold, so on the way out we set the values that dynamic threshold itself settles
# at after big buffers have been freed (mmap threshold 32 MB on 64-bit, trim threshold
# twice that): the rest of the process is then as well off as it would have been.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_MMAP_MAX = -1, -3, -4
SETTLED_MMAP_THRESHOLD, DEFAULT_MMAP_MAX = 32 * 1024 * 1024, 65536

_lock = threading.Lock()
_users = 0


def _libc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


_LIBC = _libc()


@contextmanager
def reuse_large_buffers() -> Iterator[None]:
    """While inside: freed large buffers stay in the process for reuse (nested and thread-safe)."""
    global _users
    if _LIBC is None:
        yield
        return
    with _lock:
        if _users == 0:
            _LIBC.mallopt(M_MMAP_MAX, 0)  # big blocks from the heap, not mmap
            _LIBC.mallopt(M_TRIM_THRESHOLD, -1)  # never shrink the heap while the loop runs
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                _LIBC.mallopt(M_MMAP_MAX, DEFAULT_MMAP_MAX)
                _LIBC.mallopt(M_MMAP_THRESHOLD, SETTLED_MMAP_THRESHOLD)
                _LIBC.mallopt(M_TRIM_THRESHOLD, 2 * SETTLED_MMAP_THRESHOLD)
                _LIBC.malloc_trim(0)
