"""What this machine has to give a command: cores and memory, read once where a limit is checked
before anything starts (``train --nproc``, a generated graph's size)."""

from __future__ import annotations

import os

# A rank of ``train --nproc`` holds torch, PyG and gnnviz before any data: about 370 MiB resident
# measured (ru_maxrss), part of it shared libraries that ranks share; 256 MiB is the floor counted.
RANK_MEMORY = 256 * 2**20


def cores() -> int:
    """The CPU cores this process may run on (its affinity mask, as ``taskset`` or a container sets it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def available_memory() -> int | None:
    """Bytes a new process may take: MemAvailable plus free swap (Linux), None where unknown."""
    try:
        fields = {}
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                key, _, rest = line.partition(b":")
                fields[key.decode()] = int(rest.split()[0]) * 1024
        return fields["MemAvailable"] + fields.get("SwapFree", 0)
    except (OSError, ValueError, KeyError, IndexError):
        return None


def gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB"
