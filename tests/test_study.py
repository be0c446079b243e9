"""The prior study (vaelib.study, `python -m vaelib study`): its rows, its summaries, resuming,
and the committed full run that notebook 10 shows."""

from __future__ import annotations

import json
import math

import pytest
import torch

import vaelib
from vaelib import study
from vaelib.claims import SeedStats
from vaelib.cli import main

#: A study small enough for a test: tiny networks, 2 epochs, few importance samples.
TINY = dict(
    datasets=("digits",),
    latent_sizes=(2, 4),
    priors=("standard", "vampprior"),
    seeds=(0, 1),
    max_epochs=2,
    iwae_samples=8,
    surgery_samples=4,
    hidden_dim=8,
)


def test_settings_reject_bad_values_by_name():
    with pytest.raises(ValueError, match="prior"):
        study.StudySettings(priors=("standard", "gaussian"))
    with pytest.raises(ValueError, match="must include 'standard'"):
        study.StudySettings(priors=("mog", "flow"))
    with pytest.raises(ValueError, match="latent sizes must be even.*got 3"):
        study.StudySettings(latent_sizes=(2, 3))
    with pytest.raises(ValueError, match="at least 2 seeds"):
        study.StudySettings(seeds=(0,))
    with pytest.raises(ValueError, match="dataset"):
        study.StudySettings(datasets=("cifar",))


def test_full_settings_are_what_the_issue_asks_for():
    settings = study.StudySettings()
    assert set(settings.priors) == set(vaelib.PRIORS)
    assert settings.latent_sizes == (2, 4, 8, 16, 32)
    assert settings.datasets == ("digits", "mnist5k")
    assert len(settings.seeds) >= 3
    tasks = settings.tasks()
    assert len(tasks) == len(set(tasks)) == 6 * 5 * 2 * len(settings.seeds)


def test_early_stop_follows_fits_rule():
    curve = {"val_epochs": list(range(1, 11)), "val_loss": [10, 8, 7, 7.5, 7.2, 7.1, 6.0, 6.5, 6.6, 6.7]}
    assert study.early_stop(curve, patience=2) == (3, 7)  # epochs 4-5 do not improve on 7: stop after 5
    assert study.early_stop(curve, patience=3) == (7, 6.0)  # epoch 7 comes in time (7 - 3 is not > 3)


def test_active_units_counts_units_whose_mean_varies():
    model = vaelib.make_vae("standard", latent_dim=4, seed=0)
    with torch.no_grad():  # units 2 and 3 ignore the image: their posterior mean is a constant
        last = model.encoder.net[-1]
        last.weight[2:4] = 0.0
        last.bias[2:4] = 0.5
    x = vaelib.load_digits().test
    mean, _ = model.encoder(x)
    assert mean[:, 2:4].std() == 0
    assert study.active_units(model, x, threshold=0.0) == 2
    assert study.active_units(model, x, threshold=1e9) == 0


def rows_for(values: dict) -> list[dict]:
    """Study rows with given -log p(x) per (prior, L): values {(prior, L): [per seed]}."""
    return [
        {"dataset": "digits", "prior": prior, "latent_dim": L, "seed": s, "neg_log_likelihood": v}
        for (prior, L), seeds in values.items()
        for s, v in enumerate(seeds)
    ]


def test_gain_is_the_reference_minus_the_prior_with_the_larger_spread():
    rows = rows_for({("standard", 2): [100.0, 101.0, 102.0], ("flow", 2): [97.0, 97.5, 98.0]})
    g = study.gain(rows, "digits", "flow", 2)
    assert g.mean == pytest.approx(101.0 - 97.5)
    assert g.spread == pytest.approx(max(SeedStats([100, 101, 102]).spread, SeedStats([97, 97.5, 98]).spread))
    assert g.counts
    same = study.gain(rows_for({("standard", 2): [100, 101, 102], ("mog", 2): [100.5, 101, 101.5]}), "digits", "mog", 2)
    assert not same.counts and format(same, ".1f") == "+0.0 ± 1.0"
    with pytest.raises(KeyError, match="no 'gtm' runs at L=2"):
        study.gain(rows, "digits", "gtm", 2)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    settings = study.StudySettings(**TINY)
    record = study.run_study(out, settings, workers=1, say=lambda _: None)
    return out, settings, record


def test_a_run_writes_every_row_summary_figure_and_record(tiny_run):
    out, settings, record = tiny_run
    rows = study.read_rows(out / "study.csv")
    assert {study._row_key(r) for r in rows} == set(settings.tasks())
    for row in rows:
        assert row["epochs"] <= 2 and row["stopped"] == "max epochs"
        # The IWAE bound is tighter than the ELBO and grows with K (the same samples' first half).
        assert row["neg_log_likelihood"] <= row["neg_log_likelihood_half"] + 1e-9
        assert row["neg_log_likelihood"] < row["neg_elbo"]
        assert row["active_units"] <= row["latent_dim"]
        # ELBO surgery's two terms add up to the average KL (Monte Carlo, same samples).
        assert row["average_kl"] == pytest.approx(row["mutual_information"] + row["marginal_kl"], abs=1e-3)
    vamp = [r for r in rows if r["prior"] == "vampprior"]
    assert all(r["prior_parameters"] > 0 for r in vamp)
    assert set(study.read_curves(out / "curves.jsonl")) == set(settings.tasks())
    assert record["settings"] == settings.to_json() and record["seconds"] > 0 and record["runs"] == 1
    assert json.loads((out / "run.json").read_text())["seconds"] == record["seconds"]
    summary = (out / "summary.md").read_text()
    assert summary.count("| vampprior |") == 2 and "gain over standard" in summary
    assert (out / "gain.png").stat().st_size > 10_000


def test_a_row_is_what_the_model_gives(tiny_run):
    """One row recomputed in this process: the training and every column repeat exactly."""
    out, settings, _ = tiny_run
    rows = {study._row_key(r): r for r in study.read_rows(out / "study.csv")}
    again = study.run_one(("digits", "vampprior", 4, 1), settings)
    for key in ("neg_elbo", "neg_log_likelihood", "marginal_kl", "active_units", "parameters"):
        assert again[key] == pytest.approx(rows[("digits", "vampprior", 4, 1)][key], abs=1e-3), key


def test_an_interrupted_run_continues_where_it_stopped(tiny_run, tmp_path):
    out, settings, _ = tiny_run
    lines = (out / "study.csv").read_text().splitlines(keepends=True)
    (tmp_path / "study.csv").write_text("".join(lines[:-2]))  # the last two models never finished
    for name in ("run.json", "curves.jsonl"):
        (tmp_path / name).write_text((out / name).read_text())
    said = []
    record = study.run_study(tmp_path, settings, workers=1, say=said.append)
    assert said[0].endswith("2 to train with 1 workers")
    first_record = json.loads((out / "run.json").read_text())
    assert record["runs"] == 2 and record["seconds"] > first_record["seconds"]  # both runs' time counts
    assert "2 runs: an interrupted run was continued" in (tmp_path / "summary.md").read_text()
    # A third run finds nothing to train and leaves the record alone.
    assert study.run_study(tmp_path, settings, workers=1, say=said.append) == record
    resumed = {study._row_key(r): r for r in study.read_rows(tmp_path / "study.csv")}
    first = {study._row_key(r): r for r in study.read_rows(out / "study.csv")}
    assert resumed.keys() == first.keys()
    for key in first:
        assert resumed[key]["neg_log_likelihood"] == pytest.approx(first[key]["neg_log_likelihood"], abs=1e-3)


def test_a_run_refuses_a_folder_of_other_settings(tiny_run):
    out, settings, _ = tiny_run
    other = study.StudySettings(**{**TINY, "iwae_samples": 16})
    with pytest.raises(ValueError, match="other study settings"):
        study.run_study(out, other, workers=1, say=lambda _: None)


def test_the_command_line_names_bad_options(capsys, tmp_path):
    with pytest.raises(SystemExit) as stop:
        main(["study", "--out", str(tmp_path), "--workers", "0"])
    assert stop.value.code == 2
    assert "--workers: expected a positive integer, got 0" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------
# The committed full run (results/prior_study), which notebook 10 shows
# ---------------------------------------------------------------------------------------
COMMITTED = study.RESULTS_DIR


def committed_rows():
    return study.read_rows(COMMITTED / "study.csv")


def test_the_committed_study_is_complete():
    """All six priors, five latent sizes, both data sets, >= 3 seeds: every task exactly once."""
    record = json.loads((COMMITTED / "run.json").read_text())
    settings = study.StudySettings(**{k: tuple(v) if isinstance(v, list) else v for k, v in record["settings"].items()})
    assert settings == study.StudySettings()
    keys = [study._row_key(r) for r in committed_rows()]
    assert sorted(keys) == sorted(settings.tasks())
    assert set(study.read_curves(COMMITTED / "curves.jsonl")) == set(keys)
    assert record["seconds"] <= 30 * 60, "the full study must finish within 30 minutes"
    for name in ("summary.md", "gain.png"):
        assert (COMMITTED / name).stat().st_size > 0


def test_every_committed_run_converged():
    """No run ran out of epochs, and each one's best epoch is in its curve (it trained to the end)."""
    curves = study.read_curves(COMMITTED / "curves.jsonl")
    for row in committed_rows():
        assert row["stopped"] == "early stopping", row
        curve = curves[study._row_key(row)]
        assert min(curve["val_loss"]) == pytest.approx(curve["val_loss"][curve["val_epochs"].index(row["best_epoch"])])
        assert math.isfinite(row["neg_log_likelihood"])


def test_the_committed_summary_states_how_settled_the_iwae_estimate_is():
    """summary.md quotes the largest change from K/2 to K per data set, as the rows give it."""
    rows = committed_rows()
    summary = (COMMITTED / "summary.md").read_text()
    for dataset in study.DATASETS:
        change = study.iwae_change(rows, dataset)
        assert change >= 0  # more samples never loosen the bound (same samples, nested)
        assert f"{change:.2f} nat on {dataset}" in summary


@pytest.mark.slow
def test_quick_mode_reproduces_the_committed_rows(tmp_path):
    """`python -m vaelib study --quick` trains a subset again: its rows match the committed run's."""
    assert main(["study", "--quick", "--out", str(tmp_path)]) == 0
    quick = {study._row_key(r): r for r in study.read_rows(tmp_path / "study.csv")}
    committed = {study._row_key(r): r for r in committed_rows()}
    assert len(quick) == 8 and set(quick) <= set(committed)
    for key, row in quick.items():
        for column in ("neg_elbo", "neg_log_likelihood", "marginal_kl"):
            assert row[column] == pytest.approx(committed[key][column], abs=0.05), (key, column)
        assert row["epochs"] == committed[key]["epochs"], key


def test_test_sizes_are_the_data_sets():
    for dataset, size in study.TEST_SIZES.items():
        assert len(study.load(dataset).test) == size
