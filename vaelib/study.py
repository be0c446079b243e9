"""When does the prior matter? Every prior at latent sizes 2..32 on Digits and MNIST-5k, 3 seeds each.

``python -m vaelib study --out DIR`` trains one VAE per (data set, latent size, prior, seed),
evaluates it on the test split and appends one row to DIR/study.csv as soon as it is done,
so an interrupted study loses at most the models in flight and a rerun with the same
settings continues where it stopped. At the end it writes DIR/summary.md (mean ± spread per
prior, and each prior's gain over the standard prior) and DIR/gain.png (the gain against
the latent size, one panel per data set). ``--quick`` runs a small subset in about a minute.

Training: the "fast" recipe with a patience of 10 epochs instead of 3 (STUDY_PATIENCE) and
no stop before epoch 60 (STUDY_MIN_EPOCHS). At L >= 16 the validation loss crosses a plateau
(about 110 nats on Digits, every latent unit inactive, about 9 nats above where it ends): a
patience of 3 stops the VampPrior there, and at L = 32 on Digits even a patience of 10 stopped
five of the six priors of seed 2 on it (epochs 18-29; the plateau lasts until about epoch 55).
Stopped there, the study would measure the recipe, not the prior. Every run's epochs, best
epoch and reason to stop are in the CSV, its validation curve in curves.jsonl.

Each model trains in a worker process of its own with one CPU thread (``workers`` processes
side by side): small models use two threads poorly, two one-thread models use both cores
fully (benchmarks/study_speed.py measures it). One thread per model also makes every row
repeatable: a rerun of one (data set, prior, L, seed) gives the same numbers on the same machine.
"""

from __future__ import annotations

import csv
import json
import math
import os
import platform
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from ._checks import check_choice, check_int
from ._files import written_whole
from .claims import SeedStats, noise

#: The data sets of the study, by the name its files use.
DATASETS = ("digits", "mnist5k")
#: Latent sizes L of the full study.
LATENT_SIZES = (2, 4, 8, 16, 32)
#: Every prior of the chapter, the reference first.
PRIORS = ("standard", "mog", "vampprior", "gtm", "gtm-vampprior", "flow")
REFERENCE = "standard"
SEEDS = (0, 1, 2)
#: Epochs without improvement before training stops (the fast recipe has 3; see the module doc) ...
STUDY_PATIENCE = 10
#: ... and never before this epoch: at L = 32 a patience of 10 still stopped some seeds on the plateau.
STUDY_MIN_EPOCHS = 60
STUDY_MAX_EPOCHS = 300
#: Minibatch size per data set. On MNIST-5k (3x the images of Digits) batch 256 is not faster than 128
#: (it trains more epochs) but ends 1.3 nats better in test -ELBO (benchmarks/study_speed.py).
BATCH_SIZES = {"digits": 128, "mnist5k": 256}
#: Importance samples of the -log p(x) estimate. The CSV also holds the estimate from the first
#: half of them: the change from K/2 to K shows whether K is settled. It is not on MNIST-5k at
#: large L (up to 0.6 nat; K = 4096 is 1.2-1.5 nats lower still), but the gain of one prior
#: over another moves far less with K (0.2 nat from 256 to 4096, benchmarks/study_speed.py).
IWAE_SAMPLES = 256
#: Posterior samples per test image for KL(q(z) || p(z)) by Monte Carlo (any latent size).
SURGERY_SAMPLES = 16
#: A latent unit is active when the variance over the test images of its posterior mean exceeds this
#: (Burda et al., 2016).
ACTIVE_UNIT_THRESHOLD = 0.01

#: Test images per data set: I(x; z) estimated over them is at most log of this (q(z) a mixture of them).
TEST_SIZES = {"digits": 447, "mnist5k": 1000}

#: The --quick subset: Digits, two priors, two latent sizes, two seeds (8 trainings).
QUICK = {"datasets": ("digits",), "latent_sizes": (2, 16), "priors": ("standard", "vampprior"), "seeds": (0, 1)}

#: Where the committed full run lives (the notebook reads it; `--out` writes a new one anywhere).
RESULTS_DIR = Path(__file__).resolve().parent.parent / "results" / "prior_study"

#: The columns of study.csv, in order.
COLUMNS = (
    "dataset",
    "prior",
    "latent_dim",
    "seed",
    "neg_elbo",  # test -ELBO (the one deterministic estimate, vaelib.negative_elbo)
    "neg_log_likelihood",  # test -log p(x), IWAE with IWAE_SAMPLES samples
    "neg_log_likelihood_half",  # the same from the first half of the samples
    "reconstruction",  # test E_q[log p(x|z)]
    "average_kl",  # test E_x KL(q(z|x) || p(z))
    "mutual_information",  # I_q(x; z), Monte Carlo
    "marginal_kl",  # KL(q(z) || p(z)), Monte Carlo, q(z) the mixture of the test images' posteriors
    "active_units",
    "parameters",  # of the whole VAE
    "prior_parameters",
    "epochs",
    "best_epoch",
    "stopped",
    "train_seconds",
    "eval_seconds",
)


@dataclass(frozen=True)
class StudySettings:
    """What the study runs; two runs with equal settings give the same rows on the same machine."""

    datasets: tuple = DATASETS
    latent_sizes: tuple = LATENT_SIZES
    priors: tuple = PRIORS
    seeds: tuple = SEEDS
    patience: int = STUDY_PATIENCE
    min_epochs: int = STUDY_MIN_EPOCHS
    max_epochs: int = STUDY_MAX_EPOCHS
    batch_sizes: dict = field(default_factory=lambda: dict(BATCH_SIZES))
    iwae_samples: int = IWAE_SAMPLES
    surgery_samples: int = SURGERY_SAMPLES
    hidden_dim: int = 256

    def __post_init__(self):
        for name, allowed in (("datasets", DATASETS), ("priors", PRIORS)):
            values = tuple(getattr(self, name))
            if not values:
                raise ValueError(f"{name} must name at least one of {', '.join(allowed)}")
            for value in values:
                check_choice(name[:-1], value, allowed)
            object.__setattr__(self, name, values)
        if REFERENCE not in self.priors:
            raise ValueError(f"priors must include {REFERENCE!r}: every gain is measured against it")
        object.__setattr__(self, "latent_sizes", tuple(check_int("latent size", L, 2) for L in self.latent_sizes))
        for L in self.latent_sizes:
            if L % 2:
                raise ValueError(f"latent sizes must be even (the flow prior splits z in halves), got {L}")
        object.__setattr__(self, "seeds", tuple(check_int("seed", s, 0) for s in self.seeds))
        if len(self.seeds) < 2:
            raise ValueError(f"the study needs at least 2 seeds for a spread, got {list(self.seeds)}")
        check_int("iwae_samples", self.iwae_samples, 2)
        check_int("surgery_samples", self.surgery_samples, 2)

    def tasks(self) -> list[tuple]:
        """(dataset, prior, latent_dim, seed) of every model, the costly data set and sizes first."""
        order = sorted(self.datasets, key=lambda d: -BATCH_SIZES[d])
        return [
            (d, p, L, s)
            for d in order
            for L in sorted(self.latent_sizes, reverse=True)
            for p in self.priors
            for s in self.seeds
        ]

    def to_json(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def quick_settings() -> StudySettings:
    return StudySettings(**QUICK)


def recipe(dataset: str, settings: StudySettings):
    """The study's training recipe for ``dataset``: "fast" with the study's patience and batch size."""
    from .train import get_recipe

    return get_recipe(
        "fast",
        patience=settings.patience,
        min_epochs=settings.min_epochs,
        max_epochs=settings.max_epochs,
        batch_size=settings.batch_sizes[dataset],
    )


def load(dataset: str):
    """The data set called ``dataset`` ("digits": categorical 0..16 pixels; "mnist5k": binarised)."""
    from .data import load_digits, load_mnist5k

    return {"digits": load_digits, "mnist5k": load_mnist5k}[check_choice("dataset", dataset, DATASETS)]()


@torch.no_grad()
def active_units(model, x, threshold: float = ACTIVE_UNIT_THRESHOLD) -> int:
    """How many latent units the encoder uses: Var over the images of E_q[z_d | x] > threshold."""
    mean, _ = model.encoder(model.check_images(x))
    return int((mean.double().var(0) > threshold).sum())


def train_one(task: tuple, settings: StudySettings | None = None, *, data=None):
    """Train the model of one study task as the study does (one thread); returns it (``.history`` set).

    task: (dataset, prior, latent_dim, seed); data: the loaded data set (default: load(dataset)).
    """
    from .model import make_vae
    from .train import fit

    settings = settings or StudySettings()
    dataset, prior, latent_dim, seed = task
    data = load(dataset) if data is None else data
    model = make_vae(prior, latent_dim=latent_dim, data=data, hidden_dim=settings.hidden_dim, seed=seed)
    fit(model, data, recipe=recipe(dataset, settings), seed=seed, progress=False, threads=1)
    return model


def run_one(task: tuple, settings: StudySettings | None = None) -> dict:
    """Train and evaluate one model; returns its row of study.csv. task: (dataset, prior, L, seed)."""
    from .analysis import elbo_surgery
    from .evaluate import elbo_parts, log_importance_weights
    from .seeding import fixed_seed

    settings = settings or StudySettings()
    dataset, prior, latent_dim, seed = task
    data = load(dataset)
    model = train_one(task, settings, data=data)
    history = model.history
    start = time.perf_counter()
    parts = elbo_parts(model, data.test)
    with fixed_seed(seed):
        weights = log_importance_weights(model, data.test, settings.iwae_samples).double()  # (K, N)
    k = settings.iwae_samples

    def nll(samples: int) -> float:
        return -float((torch.logsumexp(weights[:samples], 0) - math.log(samples)).mean())

    surgery = elbo_surgery(model, data.test, "monte-carlo", num_samples=settings.surgery_samples, seed=seed)
    return {
        "dataset": dataset,
        "prior": prior,
        "latent_dim": latent_dim,
        "seed": seed,
        "neg_elbo": -parts["elbo"],
        "neg_log_likelihood": nll(k),
        "neg_log_likelihood_half": nll(k // 2),
        "reconstruction": parts["reconstruction"],
        "average_kl": surgery.average_kl,
        "mutual_information": surgery.mutual_information,
        "marginal_kl": surgery.marginal_kl,
        "active_units": active_units(model, data.test),
        "parameters": sum(p.numel() for p in model.parameters()),
        "prior_parameters": model.prior.num_parameters(),
        "epochs": history.epochs,
        "best_epoch": history.best_epoch,
        "stopped": str(history.stopped),
        "train_seconds": history.seconds,
        "eval_seconds": time.perf_counter() - start,
        "curve": {"val_epochs": history.val_epochs, "val_loss": [round(v, 3) for v in history.val_loss]},
    }


def _worker_start() -> None:
    torch.set_num_threads(1)


def _row_key(row: dict) -> tuple:
    return (row["dataset"], row["prior"], int(row["latent_dim"]), int(row["seed"]))


def read_rows(path) -> list[dict]:
    """The rows of a study.csv with numbers as numbers."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no study results at {path}: run `python -m vaelib study --out {path.parent}`")
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    for row in rows:
        for key in COLUMNS:
            if key in ("dataset", "prior", "stopped"):
                continue
            value = float(row[key])
            row[key] = (
                int(value)
                if key
                in ("latent_dim", "seed", "active_units", "parameters", "prior_parameters", "epochs", "best_epoch")
                else value
            )
    return rows


def read_curves(path) -> dict:
    """{(dataset, prior, latent_dim, seed): {"val_epochs": [...], "val_loss": [...]}} from a curves.jsonl."""
    curves = {}
    with open(path) as file:
        for line in file:
            if line.strip():
                entry = json.loads(line)
                dataset, prior, latent_dim, seed = entry.pop("key")
                curves[(dataset, prior, int(latent_dim), int(seed))] = entry
    return curves


def early_stop(curve: dict, patience: int, min_epochs: int = 0) -> tuple[int, float]:
    """Where a recorded validation curve would have stopped with ``patience``: (best epoch, its loss).

    The same rule as fit: stop once the best validation is more than ``patience`` epochs old,
    but not before ``min_epochs``.
    """
    best_epoch, best = 0, math.inf
    for epoch, loss in zip(curve["val_epochs"], curve["val_loss"]):
        if loss < best:
            best_epoch, best = epoch, loss
        if epoch - best_epoch > patience and epoch >= min_epochs:
            break
    return best_epoch, best


def _format(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def run_study(out, settings: StudySettings | None = None, *, workers: int = 2, say=print) -> dict:
    """Run every task of ``settings`` not yet in OUT/study.csv; write the summary and the figure.

    Returns the run record also written to OUT/run.json (command settings, machine, total seconds).
    """
    settings = settings or StudySettings()
    check_int("workers", workers, 1)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, record_path, curves_path = out / "study.csv", out / "run.json", out / "curves.jsonl"
    done, previous = {}, {}
    if csv_path.exists():
        previous = json.loads(record_path.read_text()) if record_path.exists() else {}
        if previous.get("settings") != settings.to_json():
            raise ValueError(f"{out} holds results of other study settings; choose another --out or delete {csv_path}")
        done = {_row_key(row): row for row in read_rows(csv_path)}
    todo = [task for task in settings.tasks() if task not in done]
    say(
        f"{len(settings.tasks())} models: {len(done)} already in {csv_path}, "
        f"{len(todo)} to train with {workers} workers"
    )
    if todo:
        record = _train_all(todo, settings, workers, previous, csv_path, curves_path, record_path, say)
    else:  # nothing to train: the record of the runs that trained them stays as it is
        record = previous
    rows = read_rows(csv_path)
    write_summary(rows, out / "summary.md", record)
    draw_gain(rows).savefig(out / "gain.png", dpi=110)
    say(
        f"total: {record['seconds'] / 60:.1f} min of training and evaluation for {len(rows)} models; "
        f"wrote {csv_path}, {out / 'summary.md'}, {out / 'gain.png'}"
    )
    return record


def _write_record(record: dict, path: Path) -> None:
    with written_whole(path) as temporary:
        temporary.write_text(json.dumps(record, indent=1))


def _train_all(todo, settings, workers, previous, csv_path, curves_path, record_path, say) -> dict:
    """Train and evaluate ``todo``, appending each row as it finishes; returns the run record.

    The record's "seconds" is the wall time of every run that wrote rows to this folder
    (an interrupted run's time up to its last row included), updated after every row.
    """
    record = {
        "settings": settings.to_json(),
        "workers": workers,
        "threads_per_worker": 1,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "torch": torch.__version__,
        "started": previous.get("started", time.strftime("%Y-%m-%d %H:%M:%S %Z")),
        "seconds": previous.get("seconds", 0.0),
        "runs": previous.get("runs", 0) + 1,
    }
    before = record["seconds"]
    _write_record(record, record_path)
    start = time.perf_counter()
    new_file = not csv_path.exists()
    with open(csv_path, "a", newline="") as file, open(curves_path, "a") as curves:
        writer = csv.writer(file)
        if new_file:
            writer.writerow(COLUMNS)
        with ProcessPoolExecutor(workers, initializer=_worker_start, mp_context=_spawn()) as pool:
            futures = [pool.submit(run_one, task, settings) for task in todo]
            for number, future in enumerate(futures, 1):
                row = future.result()
                writer.writerow([_format(row[key]) for key in COLUMNS])
                curves.write(json.dumps({"key": list(_row_key(row)), **row["curve"]}) + "\n")
                for written in (curves, file):  # the curve first: a row in the CSV always has its curve
                    written.flush()
                    os.fsync(written.fileno())
                record["seconds"] = round(before + time.perf_counter() - start, 1)
                _write_record(record, record_path)
                say(
                    f"[{number}/{len(todo)}] {row['dataset']} L={row['latent_dim']} {row['prior']} seed {row['seed']}: "
                    f"-log p(x) {row['neg_log_likelihood']:.2f}, {row['epochs']} epochs ({row['stopped']}), "
                    f"{row['train_seconds']:.0f} s"
                )
    record["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    _write_record(record, record_path)
    return record


def _spawn():
    import multiprocessing

    return multiprocessing.get_context("spawn")


# ---------------------------------------------------------------------------------------
# Summaries
# ---------------------------------------------------------------------------------------
def stats(rows, dataset: str, prior: str, latent_dim: int, column: str) -> SeedStats:
    """``column`` over the seeds of one (dataset, prior, latent_dim), as SeedStats."""
    values = [r[column] for r in rows if (r["dataset"], r["prior"], r["latent_dim"]) == (dataset, prior, latent_dim)]
    if not values:
        raise KeyError(f"the study has no {prior!r} runs at L={latent_dim} on {dataset!r}")
    return SeedStats(values)


@dataclass(frozen=True)
class Gain:
    """How much lower a prior's test -log p(x) is than the standard prior's (positive: better)."""

    mean: float
    spread: float  # the larger of the two seed spreads (vaelib.claims.noise)

    @property
    def counts(self) -> bool:
        """True when the gain is larger than the seed spread: anything smaller is no difference."""
        return abs(self.mean) > self.spread

    def __format__(self, spec: str) -> str:
        spec = spec or ".2f"
        return f"{self.mean:+{spec}} ± {format(self.spread, spec)}"


def gain(rows, dataset: str, prior: str, latent_dim: int, column: str = "neg_log_likelihood") -> Gain:
    """The prior's gain over the standard prior in ``column`` (a loss: lower is better)."""
    reference = stats(rows, dataset, REFERENCE, latent_dim, column)
    other = stats(rows, dataset, prior, latent_dim, column)
    return Gain(reference.mean - other.mean, noise(reference, other))


def _values(rows, key):
    return sorted({r[key] for r in rows}, key=lambda v: (PRIORS.index(v) if v in PRIORS else 0, v))


def summary_table(rows, dataset: str) -> str:
    """A Markdown table of one data set: per L and prior, mean ± spread over seeds."""
    lines = [
        "| L | prior | test −log p(x) | gain over standard | test −ELBO | KL(q(z)‖p(z)) | active units | "
        "epochs | train s |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    subset = [r for r in rows if r["dataset"] == dataset]
    for L in _values(subset, "latent_dim"):
        for prior in _values(subset, "prior"):
            if not any(r["prior"] == prior and r["latent_dim"] == L for r in subset):
                continue

            def s(column, fmt=".2f", prior=prior, L=L):
                return format(stats(subset, dataset, prior, L, column), fmt)

            g = "" if prior == REFERENCE else format(gain(subset, dataset, prior, L), ".2f")
            lines.append(
                f"| {L} | {prior} | {s('neg_log_likelihood')} | {g} | {s('neg_elbo')} | {s('marginal_kl')} | "
                f"{s('active_units', '.1f')} | {s('epochs', '.0f')} | {s('train_seconds', '.0f')} |"
            )
    return "\n".join(lines)


def gain_table(rows, dataset: str, column: str = "neg_log_likelihood") -> str:
    """Markdown: each learned prior's gain over the standard prior per latent size (rows: priors,
    columns: L); a gain larger than the seed spread is in bold, anything else is no difference."""
    subset = [r for r in rows if r["dataset"] == dataset]
    sizes = _values(subset, "latent_dim")
    lines = ["| prior | " + " | ".join(f"L = {L}" for L in sizes) + " |", "|---|" + "---:|" * len(sizes)]
    for prior in _values(subset, "prior"):
        if prior == REFERENCE:
            continue
        cells = []
        for L in sizes:
            g = gain(subset, dataset, prior, L, column)
            cells.append(f"**{g:.1f}**" if g.counts else f"{g:.1f}")
        lines.append(f"| {prior} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def iwae_change(rows, dataset: str | None = None) -> float:
    """The largest change of a model's -log p(x) estimate from K/2 to K importance samples (nats):
    about how far the estimate at K still is from its K -> infinity limit."""
    return max(r["neg_log_likelihood_half"] - r["neg_log_likelihood"] for r in rows if dataset in (None, r["dataset"]))


def write_summary(rows, path, record: dict) -> Path:
    settings = record["settings"]
    k = settings["iwae_samples"]
    runs = record.get("runs", 1)
    text = [
        "# When does the prior matter? The study's results",
        "",
        f"`python -m vaelib study`, started {record.get('started', '?')}: {record.get('machine', '?')}, torch "
        f"{record.get('torch', '?')}, {record.get('workers', '?')} worker processes with 1 thread each; "
        f"{record.get('seconds', 0) / 60:.1f} min in all"
        + (f" ({runs} runs: an interrupted run was continued)" if runs > 1 else "")
        + ".",
        "",
        f"Each cell: mean ± spread (standard deviation) over seeds {settings['seeds']}. −log p(x): IWAE with "
        f"K = {k} samples. Gain: the standard prior's −log p(x) minus this prior's "
        "(positive: this prior is better), ± the larger of the two seed spreads; a gain smaller than that "
        "is no difference. KL(q(z)‖p(z)): Monte Carlo, q(z) the mixture of the test images' posteriors. "
        f"Training: the fast recipe with patience {settings['patience']}, no stop before epoch "
        f"{settings['min_epochs']}, batch sizes {settings['batch_sizes']}.",
        "",
        f"How settled is K = {k}? The largest change of one model's −log p(x) from K = {k // 2} to K = {k}: "
        + ", ".join(f"{iwae_change(rows, d):.2f} nat on {d}" for d in _values(rows, "dataset"))
        + ". Where that is well above 0.1 nat the estimates are not settled at this K: compare the priors "
        "with each other at the same K, not with published values (benchmarks/study_speed.py scores two "
        "models with K up to 4096).",
    ]
    for dataset in _values(rows, "dataset"):
        text += ["", f"## {dataset}", "", summary_table(rows, dataset)]
    path = Path(path)
    with written_whole(path) as temporary:
        temporary.write_text("\n".join(text) + "\n")
    return path


def draw_gain(rows, column: str = "neg_log_likelihood"):
    """The figure: each prior's gain over the standard prior against L, a panel per data set."""
    from matplotlib.figure import Figure

    datasets = _values(rows, "dataset")
    figure = Figure(figsize=(5.2 * len(datasets), 4.2), layout="constrained")
    axes = figure.subplots(1, len(datasets), squeeze=False, sharey=False)[0]
    for ax, dataset in zip(axes, datasets):
        subset = [r for r in rows if r["dataset"] == dataset]
        sizes = _values(subset, "latent_dim")
        reference = [stats(subset, dataset, REFERENCE, L, column).spread for L in sizes]
        ax.fill_between(sizes, [-s for s in reference], reference, color="0.88", label="standard's seed spread")
        ax.axhline(0, color="0.4", lw=1)
        priors = [p for p in _values(subset, "prior") if p != REFERENCE]
        for offset, prior in enumerate(priors):
            gains = [gain(subset, dataset, prior, L, column) for L in sizes]
            shift = 2 ** ((offset - (len(priors) - 1) / 2) * 0.04)  # spread the error bars apart
            ax.errorbar(
                [L * shift for L in sizes],
                [g.mean for g in gains],
                yerr=[g.spread for g in gains],
                marker="o",
                ms=4,
                capsize=3,
                color=_prior_color(prior),
                label=prior,
            )
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [str(L) for L in sizes])
        ax.set_xlabel("latent size L")
        ax.set_ylabel("gain over standard in test −log p(x) (nats)")
        ax.set_title(
            {"digits": "Digits (8x8, 1000 train)", "mnist5k": "MNIST-5k (28x28, 3000 train)"}.get(dataset, dataset)
        )
    axes[0].legend(fontsize=8, loc="best")
    return figure


def _prior_color(prior: str):
    import matplotlib

    return matplotlib.colormaps["tab10"].colors[PRIORS.index(prior) if prior in PRIORS else 9]


TRENDS = (
    ("mutual_information", "I(x; z) (nats)"),
    ("marginal_kl", "KL(q(z) ‖ p(z)) (nats)"),
    ("active_units", "active units"),
)


def draw_trends(rows, columns=TRENDS):
    """Per data set (columns of panels) and per quantity (rows): its mean ± spread against L, a line per prior."""
    from matplotlib.figure import Figure

    datasets = _values(rows, "dataset")
    figure = Figure(figsize=(5.0 * len(datasets), 3.4 * len(columns)), layout="constrained")
    axes = figure.subplots(len(columns), len(datasets), squeeze=False)
    for j, dataset in enumerate(datasets):
        subset = [r for r in rows if r["dataset"] == dataset]
        sizes = _values(subset, "latent_dim")
        for i, (column, label) in enumerate(columns):
            ax = axes[i, j]
            for prior in _values(subset, "prior"):
                values = [stats(subset, dataset, prior, L, column) for L in sizes]
                ax.errorbar(
                    sizes,
                    [v.mean for v in values],
                    yerr=[v.spread for v in values],
                    marker="o",
                    ms=3,
                    capsize=2,
                    color=_prior_color(prior),
                    label=prior,
                )
            if column == "active_units":
                ax.plot(sizes, sizes, ls=":", color="0.5", label="all units (L)")
            if column == "mutual_information":
                ceiling = math.log(TEST_SIZES[dataset])
                ax.axhline(ceiling, ls=":", color="0.5", label=f"log N = {ceiling:.1f} (its ceiling)")
                ax.legend(fontsize=7, frameon=False, loc="lower right", handles=ax.get_lines()[-1:])
            ax.set_xscale("log", base=2)
            ax.set_xticks(sizes, [str(L) for L in sizes])
            ax.set_xlabel("latent size L")
            ax.set_ylabel(label)
            ax.set_title(f"{dataset}: {label}", fontsize=10)
    axes[0, 0].legend(fontsize=7, frameon=False)
    return figure


def draw_curves(curves: dict, keys, patience: int | None = None):
    """Validation -ELBO per epoch of the runs ``keys`` ((dataset, prior, L, seed) each); with
    ``patience``, a cross where that patience would have stopped each run."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.0, 3.6), layout="constrained")
    ax = figure.subplots()
    for key in keys:
        curve = curves[tuple(key)]
        line = ax.plot(curve["val_epochs"], curve["val_loss"], lw=1.2, label=f"{key[1]}, L={key[2]}, seed {key[3]}")[0]
        if patience is not None:
            epoch, loss = early_stop(curve, patience)
            ax.plot([epoch], [loss], "x", ms=9, mew=2, color=line.get_color())
    low = min(min(curves[tuple(k)]["val_loss"]) for k in keys)
    ax.set_ylim(low - 2, low + 25)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation −ELBO (nats)")
    if patience is not None:
        ax.set_title(f"×: where a patience of {patience} would have stopped", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    return figure


@torch.no_grad()
def draw_projection(models: dict, x, num_prior_samples: int = 2000, seed: int = 0):
    """Latent spaces of any size, seen in 2-D: per model, the codes of ``x`` (one sample of each
    q(z|x)) and samples of the prior, both projected on the codes' first two principal axes."""
    from matplotlib.figure import Figure

    from .seeding import fixed_seed

    figure = Figure(figsize=(3.6 * len(models), 3.6), layout="constrained")
    axes = figure.subplots(1, len(models), squeeze=False)[0]
    for ax, (name, model) in zip(axes, models.items()):
        with fixed_seed(seed, model.device):
            codes = model.encode(model.check_images(x)).double()
            prior_samples = model.prior.sample(num_prior_samples).double()
        centre = codes.mean(0)
        _, _, axes_t = torch.linalg.svd(codes - centre, full_matrices=False)
        basis = axes_t[:2].T  # (L, 2): the two directions in which the codes spread most
        p, c = (prior_samples - centre) @ basis, (codes - centre) @ basis
        ax.scatter(p[:, 0], p[:, 1], s=2, color="tab:orange", alpha=0.35, label="prior samples", rasterized=True)
        ax.scatter(c[:, 0], c[:, 1], s=2, color="black", alpha=0.6, label="codes of test images", rasterized=True)
        ax.set_title(f"{name} (L = {model.latent_dim})", fontsize=10)
        ax.set_xlabel("principal axis 1")
        ax.set_ylabel("principal axis 2")
        ax.set_aspect("equal", adjustable="datalim")
    axes[0].legend(fontsize=7, markerscale=4, frameon=False, loc="upper right")
    return figure


@torch.no_grad()
def unit_activity(model, x) -> torch.Tensor:
    """Per latent unit, the variance over the images of its posterior mean (sorted, largest first). -> (L,)"""
    mean, _ = model.encoder(model.check_images(x))
    return mean.double().var(0).sort(descending=True).values


def draw_unit_activity(models: dict, x, threshold: float = ACTIVE_UNIT_THRESHOLD):
    """Bars of :func:`unit_activity` per model, on a log scale, with the active-unit threshold."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(3.6 * len(models), 3.0), layout="constrained")
    axes = figure.subplots(1, len(models), squeeze=False, sharey=True)[0]
    for ax, (name, model) in zip(axes, models.items()):
        activity = unit_activity(model, x).clamp_min(1e-6)
        active = int((activity > threshold).sum())
        ax.bar(range(1, len(activity) + 1), activity, color=["tab:blue" if a > threshold else "0.7" for a in activity])
        ax.axhline(threshold, color="tab:red", lw=1, ls="--")
        ax.set_yscale("log")
        ax.set_title(f"{name}: {active} of {len(activity)} units active", fontsize=10)
        ax.set_xlabel("latent unit (sorted)")
    axes[0].set_ylabel("Var over images of E[z_d | x]")
    return figure
