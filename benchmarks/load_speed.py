"""Training speed on an idle machine and under one busy core, with the old and the new thread setting.

    python benchmarks/load_speed.py                              # every prior, 6 epochs, 3 repeats
    python benchmarks/load_speed.py --priors standard flow --repeats 5

A student's laptop is never idle. This trains each prior (fast recipe, seed 0, a fixed
``--epochs`` epochs: patience is lifted so early stopping cannot change the work) twice per
repeat and setting: once with nothing else running ("idle") and once while a background
process that this script spawns keeps one core busy ("loaded"). The settings:

* old: torch's thread count at start-up (what vaelib used before vaelib.threads), passed
  as ``fit(..., threads=n)``;
* new: vaelib's default policy, ``threads="auto"`` (as many threads as there are cores
  nothing else uses, at most 2, re-chosen after a much slower epoch).

The load is one process spinning one core in pure Python. It stops by itself after
``--load-limit`` seconds and as soon as this script's process is gone, and the script kills
it in a ``finally``. Each phase starts after a pause of ``--settle`` seconds, so that "auto"
judges the machine by the phase it runs in and not by the one before.

Order: for each repeat, the idle phase, then the loaded phase; inside a phase, for each prior,
the two settings in alternating order (old first in even repeats). A figure is the median
over repeats of each run's median epoch (wall time from one validation to the next, so
validation is included; the median leaves out a first epoch that pays for set-up).
"slowdown" is loaded ms/epoch over the *old* setting's idle ms/epoch: how much slower a
student waits than on an idle machine with today's code. "threads" lists the thread counts
the runs used (read inside a fit callback): "2>1" means a run started with 2 and switched.

Timings from a shared machine are noisy: compare the ratios inside one run, and measure on
a quiet machine for figures to quote.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from _tables import markdown  # noqa: E402  (benchmarks/_tables.py, beside this script)

import vaelib  # noqa: E402
from vaelib.threads import CPUMeter  # noqa: E402

#: torch's thread count before anything here changed it: the "old" setting.
STARTUP_THREADS = torch.get_num_threads()
SETTINGS = {"old": STARTUP_THREADS, "new": "auto"}

# The load: spins one core until its deadline, or until its parent (this script) is gone.
SPINNER = r"""
import os, sys, time
deadline = time.monotonic() + float(sys.argv[1])
parent = os.getppid()
print("spinning", flush=True)
while time.monotonic() < deadline:
    for _ in range(200_000):
        pass
    if os.getppid() != parent:
        break
"""


class BusyCore:
    """A context manager: one core kept busy by a child process for at most ``limit`` seconds."""

    def __init__(self, limit: float):
        self.limit = limit
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "BusyCore":
        self.process = subprocess.Popen(
            [sys.executable, "-c", SPINNER, str(self.limit)], stdout=subprocess.PIPE, text=True
        )
        if self.process.stdout.readline().strip() != "spinning":
            raise RuntimeError("the background load did not start")
        return self

    def check(self) -> None:
        """Raise if the load has already stopped (its time limit was too short for the phase)."""
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError("the background load ended before the phase did: raise --load-limit")

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process.stdout.close()
            self.process = None


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as file:
            model = next(line.split(":", 1)[1].strip() for line in file if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (
        f"{model}, {os.cpu_count()} CPUs ({vaelib.threads.available_cores()} usable), "
        f"torch {torch.__version__}, torch's default {STARTUP_THREADS} threads"
    )


def one_run(prior: str, threads, data, epochs: int) -> dict:
    """Train ``prior`` for ``epochs`` epochs; -> median epoch seconds and the thread counts used."""
    model = vaelib.make_vae(prior, seed=0, device="cpu")
    stamps, used = [], []

    def record(model, history):
        stamps.append(time.perf_counter())
        used.append(torch.get_num_threads())
        return False

    start = time.perf_counter()
    history = vaelib.fit(
        model,
        data,
        recipe="fast",
        seed=0,
        progress=False,
        threads=threads,
        max_epochs=epochs,
        patience=epochs + 1000,
        callback=record,
    )
    assert history.epochs == epochs, (history.epochs, history.stopped)
    epoch_seconds = [b - a for a, b in zip([start] + stamps, stamps)]
    switches = [used[0]] + [b for a, b in zip(used, used[1:]) if b != a]
    return dict(epoch=statistics.median(epoch_seconds), mean=history.seconds / epochs, threads=switches)


def threads_text(runs: list[dict]) -> str:
    """The thread counts of several runs: "2" when all used 2, else e.g. "2>1, 1"."""
    texts = sorted({">".join(map(str, r["threads"])) for r in runs})
    return ", ".join(texts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--priors", nargs="+", default=list(vaelib.PRIORS), choices=list(vaelib.PRIORS))
    parser.add_argument("--epochs", type=int, default=6, help="epochs per run (default 6)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per prior, setting and condition (default 3)")
    parser.add_argument(
        "--settle", type=float, default=2.5, help="seconds to wait after the load starts or stops (default 2.5)"
    )
    parser.add_argument(
        "--load-limit",
        type=float,
        default=600.0,
        help="the background load stops by itself after this many seconds (default 600)",
    )
    args = parser.parse_args(argv)

    print(f"# load_speed: {machine()}")
    print(
        f"# {args.epochs} epochs per run (fast recipe, seed 0), {args.repeats} repeats; "
        f"old = threads={STARTUP_THREADS}, new = threads='auto'\n",
        flush=True,
    )
    data = vaelib.load_digits(device="cpu")
    for threads in SETTINGS.values():  # warm-up: first-call costs of torch and the optimiser
        one_run("standard", threads, data, 2)

    runs: dict[tuple, list] = {}
    others: dict[str, list] = {"idle": [], "loaded": []}  # cores used by other processes per phase
    started = time.perf_counter()
    for repeat in range(args.repeats):
        order = list(SETTINGS) if repeat % 2 == 0 else list(SETTINGS)[::-1]
        for condition in ("idle", "loaded"):
            load = BusyCore(args.load_limit) if condition == "loaded" else None
            try:
                if load is not None:
                    load.__enter__()
                time.sleep(args.settle)
                meter = CPUMeter()
                for prior in args.priors:
                    for setting in order:
                        run = one_run(prior, SETTINGS[setting], data, args.epochs)
                        runs.setdefault((prior, setting, condition), []).append(run)
                        print(
                            f"  repeat {repeat} {condition:6s} {prior:14s} {setting}: "
                            f"{1000 * run['epoch']:7.0f} ms/epoch (median), {1000 * run['mean']:7.0f} (mean), "
                            f"threads {'>'.join(map(str, run['threads']))}",
                            flush=True,
                        )
                        if load is not None:
                            load.check()
                busy = meter.busy_elsewhere()
                if busy is not None:
                    others[condition].append(busy)
            finally:
                if load is not None:
                    load.__exit__(None, None, None)
    elapsed = time.perf_counter() - started

    def ms(prior, setting, condition):
        return 1000 * statistics.median(r["epoch"] for r in runs[prior, setting, condition])

    rows, worst = [], {setting: 0.0 for setting in SETTINGS}
    for prior in args.priors:
        base = ms(prior, "old", "idle")
        for setting in SETTINGS:
            idle, loaded = ms(prior, setting, "idle"), ms(prior, setting, "loaded")
            worst[setting] = max(worst[setting], loaded / base)
            rows.append(
                [
                    prior,
                    setting,
                    threads_text(runs[prior, setting, "idle"]),
                    threads_text(runs[prior, setting, "loaded"]),
                    f"{idle:.0f}",
                    f"{loaded:.0f}",
                    f"{idle / base:.2f}",
                    f"{loaded / base:.2f}",
                ]
            )
    print(f"\n## ms per epoch, idle and with one core busy (median of {args.repeats}; {elapsed:.0f} s)\n")
    print(
        markdown(
            [
                "prior",
                "setting",
                "threads idle",
                "threads loaded",
                "idle ms/epoch",
                "loaded ms/epoch",
                "idle / old idle",
                "slowdown (loaded / old idle)",
            ],
            rows,
        )
    )
    print(
        "\nWorst slowdown per setting: "
        + ", ".join(f"{s} {w:.2f}x" for s, w in worst.items())
        + " (goal for new: at most 2x)"
    )
    idle_ratios = [ms(p, "new", "idle") / ms(p, "old", "idle") for p in args.priors]
    print(
        f"Idle, new / old: median {statistics.median(idle_ratios):.2f}, worst {max(idle_ratios):.2f} "
        "(goal: no worse than 1 beyond noise)"
    )
    for condition, values in others.items():
        if values:
            print(
                f"Cores used by other processes during the {condition} phases (this script's load included): "
                + ", ".join(f"{v:.2f}" for v in values)
            )


if __name__ == "__main__":
    main()
