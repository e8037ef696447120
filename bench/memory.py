"""Resident memory (RSS) of every service process of a running platform: idle, and the peak
while a block runs (sampled every half second)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import psutil

from kairos_devstack.process_platform import ProcessPlatform


def resident_mib(platform: ProcessPlatform) -> dict[str, float]:
    """RSS (MiB) of each running service process, by its name (``declaration-1``…)."""
    sizes: dict[str, float] = {}
    for process in platform.all_processes():
        if process.process is not None and process.process.is_running():
            with contextlib.suppress(psutil.Error):
                rss = psutil.Process(process.process.popen.pid).memory_info().rss
                sizes[process.name] = rss / 2**20
    return sizes


@dataclass
class MemoryPeaks:
    idle: dict[str, float]
    peak: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, dict[str, float]]:
        return {
            name: {"idle_mib": round(self.idle.get(name, float("nan")), 1),
                   "peak_mib": round(peak, 1)}
            for name, peak in sorted(self.peak.items())
        }  # fmt: skip


@contextlib.asynccontextmanager
async def memory_peaks(platform: ProcessPlatform, every: float = 0.5) -> AsyncIterator[MemoryPeaks]:
    """Idle sizes now, then the peak of each process until the block ends."""
    peaks = MemoryPeaks(idle=resident_mib(platform))

    async def sample() -> None:
        while True:
            for name, size in resident_mib(platform).items():
                peaks.peak[name] = max(size, peaks.peak.get(name, 0.0))
            await asyncio.sleep(every)

    sampling = asyncio.create_task(sample())
    try:
        yield peaks
    finally:
        sampling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampling
