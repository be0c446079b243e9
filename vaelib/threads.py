"""How many CPU threads vaelib's tensor work uses: chosen for the work, scoped to vaelib's calls.

The chapter's networks are small. A second intra-op thread speeds training up by about a
third on an idle two-core machine, but when another program keeps a core busy, PyTorch's
threads wait for each other at every operation and training becomes several times slower
(benchmarks/load_speed.py measures both). So by default ("auto") vaelib uses as many threads
as there are cores that nothing else is using, at most ``MAX_AUTO_THREADS`` (2: the most we
measured, on a two-core machine; networks this small have little work to share out), and
at least one. The choice is made when a call starts and, during training, again after an
epoch that ran much slower than the fastest one (and every few epochs).

vaelib sets the thread count only for the duration of its own calls and restores the
caller's setting afterwards. Override it with ``vaelib.set_num_threads(n)`` or the
environment variable ``VAELIB_NUM_THREADS`` (a number, or "auto"); ``set_num_threads(None)``
leaves torch's own setting alone. The thread count can change the numbers a training run
produces (a GTM prior trained with 1 and with 2 threads ends 0.3 nat apart in test −ELBO):
fix it when you need identical reruns on a machine whose load varies, as the test suite does
for the notebooks (conftest.py).
"""

from __future__ import annotations

import functools
import os
import time
from contextlib import contextmanager

import torch

#: The most threads "auto" picks (measured on two cores; the chapter's networks are small).
MAX_AUTO_THREADS = 2
#: The environment variable that sets the policy at import: a positive integer or "auto".
ENV_VAR = "VAELIB_NUM_THREADS"
AUTO = "auto"

# A share of a core that other programs may use before "auto" counts the core as taken.
_BUSY_SLACK = 0.25
# How long a measured choice is reused by short calls (evaluation, plots), in seconds.
_CHOICE_LIFETIME = 1.0
# The shortest look at the machine's load that decides, in seconds (/proc/stat counts in 10 ms ticks).
_SAMPLE_SECONDS = 0.05
# A look at the load that started longer ago than this is too old to decide, in seconds.
_STALE_SECONDS = 2.0


def _parse(value) -> int | str | None:
    if value is None or value == AUTO:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"the thread setting must be a positive integer, {AUTO!r} or None; got {value!r}")
    return value


def _from_environment() -> int | str | None:
    raw = os.environ.get(ENV_VAR, AUTO).strip() or AUTO
    try:
        return _parse(raw)
    except ValueError:
        raise ValueError(f"{ENV_VAR}={raw!r}: expected a positive integer or {AUTO!r}") from None


_setting: int | str | None = _from_environment()


def set_num_threads(threads: int | str | None) -> None:
    """Threads for vaelib's calls: a positive integer, "auto" (the default) or None (torch's own setting)."""
    global _setting
    _setting = _parse(threads)


def get_num_threads() -> int | str | None:
    """The current policy: an integer, "auto" or None."""
    return _setting


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def threads_for(free_cores: float, cores: int, maximum: int = MAX_AUTO_THREADS) -> int:
    """The thread count "auto" picks with ``free_cores`` of ``cores`` not used by other programs."""
    usable = int(free_cores + _BUSY_SLACK)
    return max(1, min(maximum, cores, usable))


class CPUMeter:
    """Measures how many cores other processes used over a window of time.

    Linux only (``/proc/stat``); elsewhere ``busy_elsewhere`` returns None.
    """

    def __init__(self):
        self.restart()

    def restart(self) -> None:
        """Start a new window now."""
        self._start = self._read()

    @property
    def window(self) -> float:
        """Seconds since the window started."""
        return time.perf_counter() - self._start[0] if self._start is not None else 0.0

    @staticmethod
    def _read():
        try:
            with open("/proc/stat") as file:
                fields = file.readline().split()
        except OSError:
            return None
        if len(fields) < 9 or fields[0] != "cpu":
            return None
        ticks = [int(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal
        busy = sum(ticks) - ticks[3] - ticks[4]
        own = os.times()
        return time.perf_counter(), busy / _TICKS_PER_SECOND, own.user + own.system

    def busy_elsewhere(self) -> float | None:
        """Cores used by other processes during the window (then a new window starts); None if unknown."""
        end = self._read()
        start, self._start = self._start, end
        if start is None or end is None or end[0] - start[0] <= 0:
            return None
        others = (end[1] - start[1]) - (end[2] - start[2])
        return max(0.0, others / (end[0] - start[0]))


_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_meter = CPUMeter()
_UNSET = object()
_last_choice: tuple[float, int] | None = None  # (time, threads) of the last measured choice


def choose_threads(policy=_UNSET, meter: CPUMeter | None = None, wait: bool = False) -> int | None:
    """The thread count for work starting now under ``policy`` (default: the current one).

    None: leave torch's setting alone. "auto" looks at the load of the last moments: a choice
    made less than a second ago is reused; otherwise the load since the last look decides, if
    that look was 50 ms to 2 s ago. A look too old starts a new window, and a window too short
    to count reuses the last choice, so a short call never waits; with wait=True (a training
    run about to start) or before any choice was made, it waits for a 50 ms window instead.
    meter: measure over that meter's window instead (training does).
    """
    global _last_choice
    policy = _setting if policy is _UNSET else _parse(policy)
    if policy != AUTO:
        return policy
    now = time.perf_counter()
    if meter is None:
        if _last_choice is not None and now - _last_choice[0] < _CHOICE_LIFETIME:
            return _last_choice[1]
        meter = _meter
        if meter.window > _STALE_SECONDS:
            meter.restart()
        if meter.window < _SAMPLE_SECONDS:
            if _last_choice is not None and not wait:
                return _last_choice[1]
            time.sleep(_SAMPLE_SECONDS - meter.window)
    busy = meter.busy_elsewhere()
    cores = available_cores()
    threads = 1 if busy is None else threads_for(cores - busy, cores)
    _last_choice = (time.perf_counter(), threads)
    return threads


@contextmanager
def scoped_threads(threads: int | None):
    """Run the block with ``threads`` intra-op threads (None: unchanged), then restore the caller's."""
    previous = torch.get_num_threads()
    if threads is not None and threads != previous:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)


def uses_threads(function):
    """Decorator: run ``function`` under vaelib's thread policy (see the module's docstring)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with scoped_threads(choose_threads()):
            return function(*args, **kwargs)

    return wrapper


class TrainingThreads:
    """The thread policy of one training run: chosen at the start and, under "auto", chosen
    again after an epoch much slower than the fastest so far (and every few epochs).

    Use as a context manager around the run and call :meth:`after_epoch` with each epoch's
    wall time; the caller's thread setting is restored at the end.
    threads: this run's policy (a positive integer, "auto" or None), default: the current one.
    """

    #: An epoch this many times slower than the fastest one so far triggers a new choice.
    SLOWDOWN = 1.5
    #: The choice is also looked at again every this many epochs (a load may have ended).
    RECHECK_EVERY = 10

    def __init__(self, threads=_UNSET):
        self.policy = _setting if threads is _UNSET else _parse(threads)
        self._previous = torch.get_num_threads()
        self._meter = CPUMeter() if self.policy == AUTO else None
        self._fastest = float("inf")
        self._epochs = 0

    def __enter__(self) -> "TrainingThreads":
        self._set(choose_threads(self.policy, wait=True))
        if self._meter is not None:
            self._meter.restart()
        return self

    def after_epoch(self, seconds: float) -> None:
        """Tell the policy how long the last epoch took (in seconds, wall time)."""
        if self._meter is None:
            return
        self._epochs += 1
        if seconds > self.SLOWDOWN * self._fastest or self._epochs % self.RECHECK_EVERY == 0:
            threads = choose_threads(self.policy, self._meter)
            if threads != torch.get_num_threads():
                self._set(threads)
                self._fastest = float("inf")  # a new baseline for the new setting
                return
        else:
            self._meter.restart()  # the next look covers the next epoch only
        self._fastest = min(self._fastest, seconds)

    @staticmethod
    def _set(threads: int | None) -> None:
        if threads is not None and threads != torch.get_num_threads():
            torch.set_num_threads(threads)

    def __exit__(self, *exc) -> None:
        self._set(self._previous)
