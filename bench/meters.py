"""What the benchmarks measure of the platform's processes besides time: CPU seconds, resident
memory (RSS) and, on demand, where a process spends its CPU (py-spy).

- CPU: user + system seconds of named groups of processes over a block (`CpuMeter`), each
  benchmark grouping the processes its own way; as cores, and as milliseconds per item handled,
  all of it or net of what the group spends idle (`idle_cores`): on a small machine the
  platform's processes share the cores, and this says who the throughput is paid to.
- memory: RSS of service processes now (`resident_mib`), and the peak of each and of their sum
  while a block runs (`rss_peaks`, sampled every ``every`` seconds).
- profile: py-spy recording one process for a block (`profiling`, collapsed stacks), and the
  functions its samples fall in (`summarise_profile`).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import psutil

from kairos_devstack.process_platform import ServiceProcess


def service_pid(process: ServiceProcess) -> int:
    """The pid of a started service process (to meter it, or to profile it)."""
    assert process.process is not None
    return int(process.process.popen.pid)


# --- CPU ------------------------------------------------------------------------------------


def cpu_seconds(pid: int, *, tree: bool) -> float:
    """User + system CPU seconds of ``pid``; with ``tree``, those of its descendants too, live
    ones and reaped ones (a PostgreSQL server's backends, ended connections' included). 0 if
    it is gone."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)] if tree else [root]
    except psutil.Error:
        return 0.0
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):  # ended between the listing and now
            times = process.cpu_times()
            total += times.user + times.system
            if tree:
                total += times.children_user + times.children_system
    return total


@dataclass(frozen=True)
class Pids:
    """Processes whose CPU counts as one group's: each alone, or (``tree``) with its
    descendants."""

    pids: Sequence[int]
    tree: bool = False

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(pid, tree=self.tree) for pid in self.pids)


class CpuMeter:
    """CPU seconds each named group of processes spent over the last `measuring` block."""

    def __init__(self, groups: Mapping[str, Pids], idle: Mapping[str, float] | None = None) -> None:
        self.groups = dict(groups)
        self.idle = dict(idle or {})
        """Cores each group spends with nothing to do (polling, timers): see `idle_cores`."""
        self.spent: dict[str, float] = {}
        self.seconds = 0.0

    def _read(self) -> dict[str, float]:
        return {name: pids.cpu_seconds() for name, pids in self.groups.items()}

    @contextlib.contextmanager
    def measuring(self) -> Iterator[Self]:
        before, started = self._read(), time.perf_counter()
        yield self
        after, self.seconds = self._read(), time.perf_counter() - started
        self.spent = {name: after[name] - before[name] for name in after}

    def cores(self) -> dict[str, float]:
        """Each group's CPU over the last block as a share of one core (seconds per second)."""
        return {name: spent / self.seconds for name, spent in self.spent.items()}

    def per_item_ms(self, items: int, *, net: bool = False) -> dict[str, float]:
        """CPU milliseconds per item of each group over the last block; ``net``: less what the
        group spends idle over as long (below 0 where it spent less than idle: noise)."""
        idle = self.idle if net else {}
        return {
            name: 1000 * (spent - idle.get(name, 0.0) * self.seconds) / items
            for name, spent in self.spent.items()
        }


async def idle_cores(groups: Mapping[str, Pids], seconds: float) -> dict[str, float]:
    """Cores each group spends while nothing is asked of it (its background loops: pollers,
    schedulers, Kafka fetches), measured over ``seconds``."""
    with CpuMeter(groups).measuring() as meter:
        await asyncio.sleep(seconds)
    return meter.cores()


# --- memory ---------------------------------------------------------------------------------


def resident_mib(processes: Iterable[ServiceProcess]) -> dict[str, float]:
    """RSS (MiB) of each of ``processes`` that runs, by its name (``declaration-1``…)."""
    sizes: dict[str, float] = {}
    for process in processes:
        if process.process is not None and process.process.is_running():
            with contextlib.suppress(psutil.Error):  # ended since
                rss = psutil.Process(service_pid(process)).memory_info().rss
                sizes[process.name] = rss / 2**20
    return sizes


@dataclass
class RssPeaks:
    peak: dict[str, float] = field(default_factory=dict)
    """MiB, the highest sample of each process."""
    total: float = 0.0
    """MiB, the highest sum of one sample over the processes."""

    def take(self, processes: Iterable[ServiceProcess]) -> None:
        sample = resident_mib(processes)
        for name, mib in sample.items():
            self.peak[name] = max(mib, self.peak.get(name, 0.0))
        self.total = max(self.total, sum(sample.values()))


@contextlib.asynccontextmanager
async def rss_peaks(
    processes: Sequence[ServiceProcess], every: float = 0.2
) -> AsyncIterator[RssPeaks]:
    """The peak RSS of ``processes`` while the block runs: sampled when it starts, every
    ``every`` seconds, and when it ends."""
    peaks = RssPeaks()
    peaks.take(processes)

    async def sample() -> None:
        while True:
            await asyncio.sleep(every)
            peaks.take(processes)

    sampling = asyncio.create_task(sample())
    try:
        yield peaks
    finally:
        sampling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampling
        peaks.take(processes)


# --- profile --------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def profiling(
    pid: int, output: Path | None, *, rate: int, gil: bool = False
) -> AsyncIterator[None]:
    """py-spy recording ``pid`` ``rate`` times a second for the block, collapsed stacks written
    to ``output`` (``--format raw``), if asked (nothing with no ``output``).

    ``gil``: only the samples where a thread holds the GIL (``--gil``: Python's CPU), without
    pausing the process to sample it (``--nonblocking``). Without ``--gil`` a process that
    waits for a CPU (a busy machine) is sampled wherever it was preempted, mostly in socket
    writes, which wake the receiving process."""
    if output is None:
        yield
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    spy = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid),
        "--rate", str(rate), *(("--nonblocking", "--gil") if gil else ()),
        "--format", "raw", "--output", str(output),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await asyncio.sleep(1.0)  # attached
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        async with asyncio.timeout(60):
            await spy.wait()


def summarise_profile(path: Path, seconds: float, rate: int, top: int = 15) -> dict[str, Any]:
    """Samples per function from py-spy's collapsed stacks: self (the innermost frame) and
    total (anywhere in the stack), as shares of all samples, and CPU = samples / (``rate`` x
    ``seconds``)."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    samples = waiting = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame(frame) for frame in stack.split(";")]
        if frames[-1].startswith(_IDLE):  # the event loop waiting: not work
            waiting += count
            continue
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            if not any(marker in frame for marker in _GENERIC):
                inclusive[frame] += count
    share = 100.0 / samples if samples else 0.0
    return {
        "samples": samples,
        "idle_samples": waiting,
        "cpu_share_of_one_core": samples / (rate * seconds) if seconds else float("nan"),
        "self_pct": {name: n * share for name, n in own.most_common(top)},
        "total_pct": {name: n * share for name, n in inclusive.most_common(top)},
    }


_GENERIC = ("(asyncio/", "(uvicorn/", "runpy", "__main__.py", "(threading.py", "serve (kairos")
"""Frames that every sample passes through (the event loop, the server): left out of totals."""
_IDLE = ("EpollSelector.select", "Condition.wait", "Event.wait", "_worker (", "Thread.join")


def _frame(frame: str) -> str:
    """``function (path/to/module.py:line)`` -> ``function (module.py)``: one name per function."""
    name, _, where = frame.partition(" (")
    file = where.rpartition(":")[0].rsplit("/", 2)
    return f"{name} ({'/'.join(file[-2:])})" if where else name
