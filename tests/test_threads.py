"""vaelib's CPU-thread policy: chosen for the load, scoped to vaelib's calls, overridable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

import vaelib
from vaelib import threads


@pytest.fixture
def policy():
    """Restore the module's policy and its remembered choice after the test."""
    saved = threads.get_num_threads(), threads._last_choice
    yield
    threads.set_num_threads(saved[0])
    threads._last_choice = saved[1]


@pytest.mark.parametrize(
    "free, cores, expected",
    [
        (2.0, 2, 2),  # an idle two-core machine: both
        (1.8, 2, 2),  # a browser taking a fifth of a core does not cost a thread
        (1.7, 2, 1),  # more than a quarter of a core busy elsewhere: that core is taken
        (1.0, 2, 1),  # one core busy elsewhere (the benchmark's load): one thread
        (0.0, 2, 1),  # everything busy: still one thread
        (15.9, 16, 2),  # a big idle machine: no more than MAX_AUTO_THREADS
        (3.0, 1, 1),  # never more threads than cores
    ],
)
def test_auto_uses_the_cores_nothing_else_uses(free, cores, expected):
    assert threads.threads_for(free, cores) == expected


class ScriptedMeter:
    """A CPU meter that reports a scripted load (cores busy elsewhere) at each look."""

    def __init__(self, loads):
        self.loads = list(loads)
        self.window = 1.0

    def restart(self):
        pass

    def busy_elsewhere(self):
        return self.loads.pop(0)


def test_training_switches_to_one_thread_when_a_load_appears_and_back_when_it_ends(policy, monkeypatch):
    monkeypatch.setattr(threads, "available_cores", lambda: 2)
    threads.set_num_threads("auto")
    threads._last_choice = None
    monkeypatch.setattr(threads, "_meter", ScriptedMeter([0.0]))  # idle when the run starts
    before = torch.get_num_threads()
    run = threads.TrainingThreads()
    run._meter = ScriptedMeter([1.0, 0.0])  # then a load during epoch 3; gone by epoch 13
    with run:
        assert torch.get_num_threads() == 2
        run.after_epoch(0.06)
        run.after_epoch(0.06)
        assert torch.get_num_threads() == 2  # steady epochs: no new look at the load
        run.after_epoch(0.20)  # 3x slower: look, one core is busy elsewhere
        assert torch.get_num_threads() == 1
        for _ in range(9):
            run.after_epoch(0.08)  # the 10th epoch is a periodic look: the load ended
        assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == before  # the caller's setting is back


def test_a_fixed_setting_is_used_as_given_and_restored(policy, digits):
    before = torch.get_num_threads()
    seen = []

    def record(model, history):
        seen.append(torch.get_num_threads())

    threads.set_num_threads(1)
    model = vaelib.make_vae("standard", hidden_dim=8, device="cpu")
    vaelib.fit(model, digits, max_epochs=2, progress=False, callback=record)
    assert seen == [1, 1] and torch.get_num_threads() == before
    vaelib.fit(model, digits, max_epochs=1, progress=False, callback=record, threads=2)  # per run
    assert seen[-1] == 2 and torch.get_num_threads() == before


def test_none_leaves_torchs_own_setting_alone(policy):
    threads.set_num_threads(None)
    assert threads.choose_threads() is None
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threads.scoped_threads(threads.choose_threads()):
            assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_evaluation_runs_under_the_policy_and_restores_the_callers_setting(policy, digits):
    threads.set_num_threads(1)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        model = vaelib.make_vae("standard", hidden_dim=8, device="cpu")
        inside = []
        original = model.elbo

        def spy(*args, **kwargs):
            inside.append(torch.get_num_threads())
            return original(*args, **kwargs)

        model.elbo = spy
        vaelib.negative_elbo(model, digits.test)
        assert inside and set(inside) == {1} and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("bad", [0, -1, 2.5, "many", True])
def test_a_bad_setting_is_refused_with_what_is_allowed(policy, bad):
    with pytest.raises(ValueError, match="positive integer, 'auto' or None; got"):
        threads.set_num_threads(bad)


def test_the_environment_variable_sets_the_policy_and_a_bad_value_is_named():
    code = "import vaelib; print(vaelib.get_num_threads())"
    env = {**os.environ, "VAELIB_NUM_THREADS": "3"}
    assert subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout.strip() == "3"
    env["VAELIB_NUM_THREADS"] = "lots"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert (
        result.returncode != 0 and "VAELIB_NUM_THREADS='lots': expected a positive integer or 'auto'" in result.stderr
    )


def test_the_cpu_meter_sees_another_process_keep_a_core_busy():
    if threads.CPUMeter().busy_elsewhere() is None and not os.path.exists("/proc/stat"):
        pytest.skip("no /proc/stat on this system: 'auto' falls back to one thread")
    meter = threads.CPUMeter()
    spinner = subprocess.Popen([sys.executable, "-c", "import time\nt = time.time()\nwhile time.time() - t < 3: pass"])
    try:
        import time

        time.sleep(0.3)
        meter.restart()
        time.sleep(1.0)
        busy = meter.busy_elsewhere()
    finally:
        spinner.kill()
        spinner.wait()
    assert busy is not None and 0.75 <= busy <= (os.cpu_count() or 1) + 0.1


class RecordingMeter(ScriptedMeter):
    """A scripted meter whose window length the test sets, and which counts its restarts."""

    def __init__(self, loads, window):
        super().__init__(loads)
        self.window, self.restarts = window, 0

    def restart(self):
        self.restarts += 1
        self.window = 0.0


def test_a_short_call_never_waits_to_measure_the_load(policy, monkeypatch):
    import time

    monkeypatch.setattr(threads, "available_cores", lambda: 2)
    threads.set_num_threads("auto")
    threads._last_choice = (time.perf_counter() - 10, 2)  # a choice made long ago
    meter = RecordingMeter([1.0], window=30.0)  # the last look at the load: 30 s ago
    monkeypatch.setattr(threads, "_meter", meter)
    monkeypatch.setattr(threads.time, "sleep", lambda seconds: pytest.fail("a short call waited"))
    assert threads.choose_threads() == 2  # too old to trust: a new window, the last choice meanwhile
    assert meter.restarts == 1
    meter.window = 0.5  # half a second later the new window says one core is busy elsewhere
    threads._last_choice = (time.perf_counter() - 10, 2)
    assert threads.choose_threads() == 1


def test_a_training_run_waits_for_a_fresh_look_at_the_load(policy, monkeypatch):
    import time

    monkeypatch.setattr(threads, "available_cores", lambda: 2)
    threads.set_num_threads("auto")
    threads._last_choice = (time.perf_counter() - 10, 2)
    meter = RecordingMeter([1.0], window=30.0)
    monkeypatch.setattr(threads, "_meter", meter)
    waited = []
    monkeypatch.setattr(threads.time, "sleep", waited.append)
    assert threads.choose_threads(wait=True) == 1 and waited == [threads._SAMPLE_SECONDS]
