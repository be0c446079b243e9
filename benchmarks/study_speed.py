"""The speed levers of the prior study (`python -m vaelib study`), each measured against its alternative.

    python benchmarks/study_speed.py              # about 4 minutes on 2 cores; run it on a quiet machine

1. Workers: the same 4 Digits trainings (standard and VampPrior, L = 8, seeds 0 and 1) run
   one after another in one process with 2 threads, and as 2 worker processes with 1 thread
   each (what the study does). Wall time of each way and the ratio.
2. MNIST-5k batch size: the standard prior at L = 16, seed 0, with the study's recipe at
   batch 128 and at 256 (what the study uses): epochs, wall time, test -ELBO. A larger batch
   halves the steps per epoch; it is kept only if the model it gives is as good.
3. Importance samples: from the committed study (results/prior_study/study.csv), the largest
   change of the mean -log p(x) estimate from K/2 to K samples over all models; then, for the
   models where it is largest (MNIST-5k, L = 32), the standard prior and the MoG trained again
   and scored with K = 256, 1024 and 4096 (nested samples): how far K = 256 is from larger K,
   and whether the MoG's gain over the standard prior moves with K.

Measured 2026-12-02 on the quiet 2-core machine (torch 2.13.0, CPU), one run:
1. 4 Digits trainings: one process with 2 threads 21.8 s, 2 workers with 1 thread 16.4 s: 1.33x.
   Kept: the study trains 2 models side by side, one thread each (27.5 min for all 180 models).
2. MNIST-5k, standard, L = 16: batch 128 ran 64 epochs in 16.0 s to test -ELBO 113.29; batch 256
   ran 91 epochs in 18.6 s to 111.98. Not a speed lever here: 256 trains longer and ends 1.3
   nats better; the study keeps 256 for that.
3. K = 256: the largest K/2 -> K change over the 180 models is 0.60 nat (MNIST-5k, MoG, L = 32).
   On MNIST-5k at L = 32, seed 0: standard 103.66 / 102.96 / 102.41 and MoG 99.58 / 98.74 / 98.13
   at K = 256 / 1024 / 4096, so K = 256 is 1.2-1.5 nats above K = 4096; the MoG's gain over the
   standard is +4.09 / +4.23 / +4.28: the comparison moves 0.2 nat. Kept: K = 256 (16x cheaper
   than 4096), with the K/2 -> K change in every row and the caveat in summary.md and notebook 10.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from vaelib import study  # noqa: E402
from vaelib.evaluate import negative_elbo  # noqa: E402

TASKS = [("digits", prior, 8, seed) for prior in ("standard", "vampprior") for seed in (0, 1)]


def train(task, settings):
    model = study.train_one(task, settings)
    return negative_elbo(model, study.load(task[0]).test), model.history.epochs


def sequential_two_threads(settings):
    return [_train_with_threads(task, settings, 2) for task in TASKS]


def _train_with_threads(task, settings, count):
    from vaelib.model import make_vae
    from vaelib.train import fit

    data = study.load(task[0])
    model = make_vae(task[1], latent_dim=task[2], data=data, seed=task[3])
    fit(model, data, recipe=study.recipe(task[0], settings), seed=task[3], progress=False, threads=count)
    return negative_elbo(model, data.test), model.history.epochs


def workers_lever(settings) -> None:
    start = time.perf_counter()
    sequential_two_threads(settings)
    one = time.perf_counter() - start
    start = time.perf_counter()
    with ProcessPoolExecutor(2, initializer=study._worker_start, mp_context=study._spawn()) as pool:
        list(pool.map(train, TASKS, [settings] * len(TASKS)))
    two = time.perf_counter() - start
    print(
        f"1. {len(TASKS)} Digits trainings: 1 process x 2 threads {one:.1f} s, 2 workers x 1 thread {two:.1f} s "
        f"(workers include their start-up): ratio {one / two:.2f}"
    )


def batch_lever(settings) -> None:
    torch.set_num_threads(1)
    for batch in (128, 256):
        changed = study.StudySettings(batch_sizes={**settings.batch_sizes, "mnist5k": batch})
        start = time.perf_counter()
        neg_elbo, epochs = train(("mnist5k", "standard", 16, 0), changed)
        seconds = time.perf_counter() - start
        print(
            f"2. MNIST-5k, standard, L=16, batch {batch}: {epochs} epochs, {seconds:.1f} s (1 thread), "
            f"test -ELBO {neg_elbo:.2f}"
        )


def iwae_samples_lever(settings) -> None:
    import math

    from vaelib.evaluate import log_importance_weights
    from vaelib.seeding import fixed_seed

    torch.set_num_threads(1)
    data = study.load("mnist5k")
    estimates = {}
    for prior in ("standard", "mog"):
        model = study.train_one(("mnist5k", prior, 32, 0), settings, data=data)
        with fixed_seed(0):
            weights = log_importance_weights(model, data.test, 4096).double()
        estimates[prior] = {
            k: -float((torch.logsumexp(weights[:k], 0) - math.log(k)).mean()) for k in (256, 1024, 4096)
        }
        print(
            f"3. MNIST-5k, L=32, {prior}, seed 0: -log p(x) "
            + ", ".join(f"K={k}: {v:.2f}" for k, v in estimates[prior].items())
        )
    for k in (256, 1024, 4096):
        print(f"   K={k}: gain of mog over standard {estimates['standard'][k] - estimates['mog'][k]:+.2f} nat")


def iwae_lever() -> None:
    path = study.RESULTS_DIR / "study.csv"
    if not path.exists():
        print(f"3. no committed study at {path}")
        return
    rows = study.read_rows(path)
    change = max(rows, key=lambda r: r["neg_log_likelihood_half"] - r["neg_log_likelihood"])
    print(
        f"3. K = {study.IWAE_SAMPLES}: the largest change of -log p(x) from K/2 to K over {len(rows)} models is "
        f"{change['neg_log_likelihood_half'] - change['neg_log_likelihood']:.3f} nat "
        f"({change['dataset']}, {change['prior']}, L={change['latent_dim']}, seed {change['seed']})"
    )


if __name__ == "__main__":
    settings = study.StudySettings()
    workers_lever(settings)
    batch_lever(settings)
    iwae_lever()
    iwae_samples_lever(settings)
