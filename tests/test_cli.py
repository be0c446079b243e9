"""``python -m vaelib figures`` writes every file it promises, reuses only matching caches, and fails clearly."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import vaelib
from vaelib import cli
from vaelib.train import get_recipe

pytestmark = pytest.mark.usefixtures("single_thread")

#: A budget small enough for a test: 2 epochs, 16 hidden units, a coarse grid, K = 10.
TINY = ["--epochs", "2", "--hidden-dim", "16", "--grid", "40", "--iwae", "10"]


def test_figures_command_writes_every_promised_file(tmp_path, capsys):
    priors = ["vampprior"]  # one prior keeps it quick; the comparison figure still draws
    status = cli.main(["figures", "--out", str(tmp_path), "--priors", *priors, *TINY])
    assert status == 0
    stems = [stem.format(prior=prior) for prior in priors for stem, _ in cli.PRIOR_FIGURES]
    stems += [stem for stem, _ in cli.SHARED_FIGURES]
    for stem in stems:
        assert (tmp_path / f"{stem}.png").read_bytes().startswith(b"\x89PNG"), stem
        assert (tmp_path / f"{stem}.pdf").read_bytes().startswith(b"%PDF"), stem
    table = (tmp_path / "comparison.md").read_text()
    assert all(f"| {prior} |" in table for prior in priors)
    assert len((tmp_path / "comparison.csv").read_text().splitlines()) == 1 + len(priors)
    for prior in priors:
        assert vaelib.load(tmp_path / "checkpoints" / f"{prior}.pt", device="cpu").history.epochs == 2
    assert "| vampprior |" in capsys.readouterr().out  # the table is printed too


def test_a_cached_model_is_reused_only_with_the_same_settings(tmp_path, digits, capsys):
    settings = dict(seed=0, recipe=get_recipe(max_epochs=1), hidden_dim=8, progress=False)
    first = cli.train_or_load("mog", digits, tmp_path, **settings)
    checkpoint = tmp_path / "checkpoints" / "mog.pt"
    written = checkpoint.stat().st_mtime_ns
    again = cli.train_or_load("mog", digits, tmp_path, **settings)
    assert "loaded" in capsys.readouterr().out and checkpoint.stat().st_mtime_ns == written
    assert all((a == b).all() for a, b in zip(first.state_dict().values(), again.state_dict().values()))
    for changed in (dict(seed=1), dict(recipe=get_recipe(max_epochs=2))):
        cli.train_or_load("mog", digits, tmp_path, **{**settings, **changed})
        assert "other settings; training again" in capsys.readouterr().out
        assert json.loads(checkpoint.with_suffix(".json").read_text())["seed"] == {**settings, **changed}["seed"]


def test_unknown_prior_exits_with_a_message_not_a_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "vaelib", "figures", "--out", str(tmp_path), "--priors", "standard", "gaussian"],
        capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 2
    assert "invalid choice: 'gaussian'" in result.stderr and "Traceback" not in result.stderr
    assert not any(tmp_path.iterdir())  # nothing trained, nothing written


def test_unwritable_output_directory_exits_with_a_message(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    status = cli.main(["figures", "--out", str(blocker / "figures"), *TINY])
    error = capsys.readouterr().err
    assert status == 1
    assert "cannot write to" in error and "a-file" in error and "Traceback" not in error
