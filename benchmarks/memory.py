"""The one way benchmarks measure memory: a process's peak resident set (``VmHWM``, in MB)."""

from __future__ import annotations

from pathlib import Path


def peak_rss_mb(pid: int | str = "self") -> float:
    """Peak RSS of process ``pid`` (this process by default) in MB, from ``/proc/<pid>/status``;
    NaN where the kernel doesn't say (not Linux)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan")
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def children_peak_rss_mb() -> float:
    """Peak RSS of the largest child process this one has waited for (worker processes), in MB."""
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
