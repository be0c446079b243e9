"""``python -m vaelib figures`` writes every file it promises, reuses only matching caches (even after
an interrupted run), checks every option before training, and fails clearly."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import vaelib
from vaelib import cli
from vaelib.checkpoint import load_extra
from vaelib.train import get_recipe

pytestmark = pytest.mark.usefixtures("single_thread")

#: A budget small enough for a test: 2 epochs, 16 hidden units, a coarse grid, K = 10.
TINY = ["--epochs", "2", "--hidden-dim", "16", "--grid", "40", "--iwae", "10"]
#: The repository whose vaelib the tests import (a child process must import the same one).
ROOT = Path(vaelib.__file__).resolve().parent.parent


def seeded_state(seed: int) -> torch.Tensor:
    """The CPU generator's state right after torch.manual_seed(seed), without touching the caller's."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.get_rng_state()


def test_figures_command_writes_every_promised_file(tmp_path, capsys, monkeypatch):
    priors = ["vampprior"]  # one prior keeps it quick; the comparison figure still draws
    # Record the random state each seeded step starts from: it must be what torch.manual_seed(seed)
    # gives (the same encoder samples as before the library stopped reseeding the global stream).
    starts = {}

    def recording(name, function):
        def wrapper(*args, **kwargs):
            starts.setdefault(name, torch.get_rng_state())
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(vaelib.analysis, "compare_priors", recording("table", vaelib.analysis.compare_priors))
    monkeypatch.setattr(vaelib.plots, "prior_contours", recording("contours", vaelib.plots.prior_contours))
    monkeypatch.setattr(vaelib.plots, "training_curves", recording("shared", vaelib.plots.training_curves))
    torch.manual_seed(1234)
    caller = torch.get_rng_state()

    status = cli.main(["figures", "--out", str(tmp_path), "--priors", *priors, "--seed", "3", *TINY])

    assert status == 0
    assert torch.equal(torch.get_rng_state(), caller)  # the caller's random stream is untouched
    assert set(starts) == {"table", "contours", "shared"}
    assert all(torch.equal(state, seeded_state(3)) for state in starts.values())
    stems = [stem.format(prior=prior) for prior in priors for stem, _ in cli.PRIOR_FIGURES]
    stems += [stem for stem, _ in cli.SHARED_FIGURES]
    for stem in stems:
        assert (tmp_path / f"{stem}.png").read_bytes().startswith(b"\x89PNG"), stem
        assert (tmp_path / f"{stem}.pdf").read_bytes().startswith(b"%PDF"), stem
    table = (tmp_path / "comparison.md").read_text()
    assert all(f"| {prior} |" in table for prior in priors)
    assert len((tmp_path / "comparison.csv").read_text().splitlines()) == 1 + len(priors)
    for prior in priors:
        checkpoint = tmp_path / "checkpoints" / f"{prior}.pt"
        assert vaelib.load(checkpoint, device="cpu").history.epochs == 2
        assert load_extra(checkpoint)["settings"]["seed"] == 3  # the settings live inside the checkpoint
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [f"{p}.pt" for p in priors]
    assert not list(tmp_path.rglob("*.tmp"))  # every file was written under a temporary name, then renamed
    assert "| vampprior |" in capsys.readouterr().out  # the table is printed too


def test_an_interrupted_write_leaves_the_previous_file_whole(tmp_path):
    table = tmp_path / "comparison.md"
    table.write_text("the previous table\n")
    with pytest.raises(KeyboardInterrupt), cli.written_whole(table) as temporary:
        temporary.write_text("half of the new")
        raise KeyboardInterrupt
    assert table.read_text() == "the previous table\n"
    assert [p.name for p in tmp_path.iterdir()] == ["comparison.md"]
    with cli.written_whole(table) as temporary:
        temporary.write_text("the new table\n")
    assert table.read_text() == "the new table\n" and [p.name for p in tmp_path.iterdir()] == ["comparison.md"]


# ---------------------------------------------------------------------------------------
# The checkpoint cache
# ---------------------------------------------------------------------------------------
SETTINGS = dict(seed=0, recipe=get_recipe(max_epochs=1), hidden_dim=8, progress=False)


def same_weights(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_a_cached_model_is_reused_only_with_the_same_settings(tmp_path, digits, capsys):
    first = cli.train_or_load("mog", digits, tmp_path, **SETTINGS)
    checkpoint = tmp_path / "checkpoints" / "mog.pt"
    written = checkpoint.stat().st_mtime_ns
    again = cli.train_or_load("mog", digits, tmp_path, **SETTINGS)
    assert "loaded" in capsys.readouterr().out and checkpoint.stat().st_mtime_ns == written
    assert same_weights(first, again)
    for changed in (dict(seed=1), dict(recipe=get_recipe(max_epochs=2)), dict(hidden_dim=12)):
        settings = {**SETTINGS, **changed}
        cli.train_or_load("mog", digits, tmp_path, **settings)
        assert "other settings; training again" in capsys.readouterr().out
        stored = load_extra(checkpoint)["settings"]
        assert stored == cli.training_settings(
            "mog", seed=settings["seed"], recipe=settings["recipe"], hidden_dim=settings["hidden_dim"]
        )
    assert not checkpoint.with_suffix(".json").exists()


def test_a_run_killed_while_caching_never_serves_the_wrong_model(tmp_path, digits, capsys, killed_mid_save):
    """The reported bug: a seed-1 checkpoint left under the name (and the seed-0 settings beside it)
    made a request for seed 0 load the seed-1 model."""
    seed1 = cli.train_or_load("mog", digits, tmp_path, **{**SETTINGS, "seed": 1})
    checkpoint = tmp_path / "checkpoints" / "mog.pt"
    # The old two-file cache: a .json saying "seed 0" next to it, as a killed old run left it.
    old_settings = cli.training_settings("mog", seed=0, recipe=SETTINGS["recipe"], hidden_dim=8)
    checkpoint.with_suffix(".json").write_text(json.dumps(old_settings))
    # Now a run for seed 0 is killed half-way through writing its checkpoint.
    with killed_mid_save():
        cli.train_or_load("mog", digits, tmp_path, **SETTINGS)
    assert load_extra(checkpoint)["settings"]["seed"] == 1  # the seed-1 file is whole and says so
    # A stray half-written temporary file, as a kill -9 (no cleanup) leaves it.
    (checkpoint.parent / ".mog.pt.x1y2z3.tmp").write_bytes(b"PK\x03\x04 half a checkpoint")
    capsys.readouterr()

    seed0 = cli.train_or_load("mog", digits, tmp_path, **SETTINGS)

    assert "other settings; training again" in capsys.readouterr().out
    assert not same_weights(seed0, seed1)
    fresh = vaelib.make_vae("mog", seed=0, hidden_dim=8, device="cpu")
    vaelib.fit(fresh, digits, recipe=SETTINGS["recipe"], seed=0, progress=False)
    assert same_weights(seed0, fresh)  # exactly the seed-0 model
    assert load_extra(checkpoint)["settings"] == old_settings
    assert not checkpoint.with_suffix(".json").exists()  # the stale settings file is gone


@pytest.mark.parametrize("damage", ["truncated", "empty", "text", "no-settings", "bytes-changed"])
def test_a_damaged_cache_entry_is_retrained_with_a_one_line_notice(tmp_path, digits, capsys, damage):
    cli.train_or_load("mog", digits, tmp_path, **SETTINGS)
    checkpoint = tmp_path / "checkpoints" / "mog.pt"
    good = checkpoint.read_bytes()
    if damage == "truncated":
        checkpoint.write_bytes(good[: len(good) // 3])
    elif damage == "empty":
        checkpoint.write_bytes(b"")
    elif damage == "text":
        checkpoint.write_text("<html>404 not found</html>")
    elif damage == "no-settings":  # a checkpoint saved by hand, without the settings
        vaelib.save(vaelib.load(checkpoint, device="cpu"), checkpoint)
    else:
        changed = bytearray(good)
        at = good.index(b"data/0") + 200
        changed[at : at + 32] = bytes(32)
        checkpoint.write_bytes(bytes(changed))
    capsys.readouterr()

    model = cli.train_or_load("mog", digits, tmp_path, **SETTINGS)

    notice = [line for line in capsys.readouterr().out.splitlines() if "training again" in line]
    assert len(notice) == 1 and notice[0].startswith("mog: the cached checkpoint")
    if damage == "no-settings":
        assert "does not record its training settings" in notice[0]
    else:
        assert "cannot be used" in notice[0] and str(checkpoint) in notice[0]
    assert load_extra(checkpoint)["settings"]["seed"] == 0
    assert same_weights(vaelib.load(checkpoint, device="cpu"), model)


# ---------------------------------------------------------------------------------------
# Bad options: one line, no traceback, nothing trained or written
# ---------------------------------------------------------------------------------------
NO_CUDA = not torch.cuda.is_available()

BAD_OPTIONS = [
    # (arguments, exit status, regex the one-line message must match)
    (["--grid", "1"], 2, r"argument --grid: expected an integer >= 2 \(grid points per side\), got 1"),
    (["--grid", "0"], 2, r"argument --grid: expected an integer >= 2.*got 0"),
    (["--grid", "fine"], 2, r"argument --grid: expected an integer >= 2.*got 'fine'"),
    (["--epochs", "0"], 2, r"argument --epochs: expected a positive integer, got 0"),
    (["--epochs", "2.5"], 2, r"argument --epochs: expected a positive integer, got '2.5'"),
    (["--iwae", "-5"], 2, r"argument --iwae: expected a positive integer, got -5"),
    (["--hidden-dim", "0"], 2, r"argument --hidden-dim: expected a positive integer, got 0"),
    (["--seed", "-1"], 2, r"argument --seed: expected an integer in 0\.\.2\*\*64-1, got -1"),
    (["--seed", str(2**64)], 2, r"argument --seed: expected an integer in 0\.\.2\*\*64-1, got 18446744073709551616"),
    (["--seed", "abc"], 2, r"argument --seed: expected an integer in 0\.\.2\*\*64-1, got 'abc'"),
    (["--formats", "jpg"], 2, r"argument --formats: invalid choice: 'jpg' \(choose from .*png.*pdf.*svg"),
    (["--priors", "gaussian"], 2, r"argument --priors: invalid choice: 'gaussian' \(choose from .*standard"),
    (["--recipe", "quick"], 2, r"argument --recipe: invalid choice: 'quick' \(choose from .*book.*fast"),
    (["--bogus"], 2, r"unrecognized arguments: --bogus"),
    (
        ["--device", "gpu"],
        1,
        r"--device: unknown device 'gpu'; use 'cpu', 'cuda', 'cuda:0', \.\.\. or leave --device out",
    ),
    pytest.param(
        ["--device", "cuda"],
        1,
        r"--device: device='cuda' but PyTorch sees no CUDA GPU.*use 'cpu' \(or leave --device out\)",
        marks=pytest.mark.skipif(not NO_CUDA, reason="this machine has CUDA"),
    ),
    (["--device", "cuda:99"], 1, r"--device: device='cuda:99' but (PyTorch sees no CUDA GPU|this machine has)"),
]


def snapshot(root: Path) -> dict:
    return {p: p.stat().st_mtime_ns for p in root.rglob("*")} if root.exists() else {}


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if anything loads the data or trains."""

    def refuse(*args, **kwargs):
        raise AssertionError("a bad option must be reported before any data is loaded or model trained")

    monkeypatch.setattr(vaelib, "fit", refuse)
    monkeypatch.setattr(vaelib, "load_digits", refuse)
    monkeypatch.setattr(vaelib, "make_vae", refuse)


def exit_status(argv) -> int:
    """cli.main's exit status, whether it returns it or argparse exits with it."""
    try:
        return cli.main(argv)
    except SystemExit as exit:
        return exit.code


@pytest.mark.parametrize("options, status, message", BAD_OPTIONS)
def test_a_bad_option_exits_with_one_line_before_anything_is_trained(
    tmp_path, capsys, no_training, options, status, message
):
    out = tmp_path / "figures"
    assert exit_status(["figures", "--out", str(out), *TINY, *options]) == status
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("vaelib figures: error: ") and "Traceback" not in captured.err
    assert re.search(message, lines[0]), lines[0]
    assert captured.out == ""
    assert not out.exists()  # nothing written, not even the output folder


@pytest.mark.parametrize("in_the_way", ["checkpoints/mog.pt", "contours-mog.png", "comparison.md", "checkpoints"])
def test_a_folder_where_a_file_goes_is_reported_before_training(tmp_path, capsys, no_training, in_the_way):
    out = tmp_path / "figures"
    (out / in_the_way).mkdir(parents=True) if in_the_way != "checkpoints" else None
    if in_the_way == "checkpoints":
        out.mkdir()
        (out / "checkpoints").write_text("a file where the checkpoints folder goes")
    before = snapshot(out)
    status = cli.main(["figures", "--out", str(out), "--priors", "mog", *TINY])
    error = capsys.readouterr().err
    assert status == 1 and len(error.splitlines()) == 1 and "Traceback" not in error
    assert "vaelib figures: error: cannot write" in error and in_the_way.split("/")[-1] in error
    assert snapshot(out) == before


def test_unwritable_output_directory_exits_with_a_message(tmp_path, capsys, no_training):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    status = cli.main(["figures", "--out", str(blocker / "figures"), *TINY])
    error = capsys.readouterr().err
    assert status == 1 and len(error.splitlines()) == 1
    assert "cannot write to" in error and "a-file" in error and "Traceback" not in error


def run_vaelib(*arguments) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    }
    return subprocess.run(
        [sys.executable, "-m", "vaelib", *arguments], capture_output=True, text=True, env=env, cwd=ROOT
    )


def test_bad_options_from_the_shell_get_one_line_and_no_traceback(tmp_path):
    out = tmp_path / "figures"
    for options, expected in (
        (["--priors", "standard", "gaussian"], "invalid choice: 'gaussian'"),
        (["--grid", "1"], "argument --grid: expected an integer >= 2"),
    ):
        result = run_vaelib("figures", "--out", str(out), *options)
        assert result.returncode == 2, result.stderr
        assert result.stderr.splitlines() == [
            f"vaelib figures: error: {result.stderr.split('error: ', 1)[1].strip()}"
        ], result.stderr
        assert expected in result.stderr and "Traceback" not in result.stderr
        assert not out.exists()  # nothing trained, nothing written


def test_help_describes_the_cache_as_it_is():
    text = cli.build_parser()._subparsers._group_actions[0].choices["figures"].format_help()
    assert ".json" not in text
    assert "checkpoints/PRIOR.pt" in text and "settings" in text
