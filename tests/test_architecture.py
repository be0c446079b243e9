"""The shape of the package: a seventh prior plugs in, modules import only downwards,
any VAE can be saved, library calls leave the caller's random stream alone."""

from __future__ import annotations

import ast
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.distributions import Independent, Normal

import vaelib
from vaelib.priors import MixturePrior, Prior, SizeOption

pytestmark = pytest.mark.usefixtures("single_thread")

PACKAGE = Path(vaelib.__file__).parent

#: Which vaelib module may import which: a module imports only from layers below its own
#: (never from its own layer), so data flows one way. The README's "Architecture" section
#: says the same in words. A new module must be placed here.
LAYERS = (
    {"_checks", "_files", "_version", "claims"},  # foundations: argument checks, files, version, claim checks
    {"seeding", "threads", "nets"},  # policies (random numbers, CPU threads) and the network builder
    {"data", "priors"},  # the data set, and the priors (which know nothing of the data)
    {"model"},  # encoder, decoder, VAE: plugs any prior in
    {"train", "evaluate"},  # fit; -ELBO and IWAE
    {"batched"},  # several seeds of one prior
    {"checkpoint"},  # save and load (rebuilds a VAE, restores its History)
    {"latent"},  # latent-plane geometry: grids and extents
    {"analysis"},  # aggregated posterior, ELBO surgery, holes, the comparison table
    {"plots"},  # figures: take a model and tensors, never train
    {"study"},  # the prior study: trains many models, summarises and draws its results
    {"widgets", "cli", "exercises"},  # what a person clicks or types; the checks a student calls on an answer
    {"__init__", "__main__"},  # the package's face
)


def module_name(path: Path) -> str:
    """The top-level vaelib module a file belongs to (packages count as one: priors, plots)."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def vaelib_imports(path: Path) -> set[str]:
    """The top-level vaelib modules a file imports, anywhere in it (function bodies included)."""
    tree = ast.parse(path.read_text(), str(path))
    package = path.relative_to(PACKAGE).parent.parts  # () for vaelib/x.py, ("priors",) for vaelib/priors/x.py
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if node.module and node.module.split(".")[0] == "vaelib":
                    names = node.module.split(".")[1:] or [alias.name for alias in node.names]
                    found.add(names[0])
                continue
            base = list(package[: len(package) - (node.level - 1)])
            target = base + (node.module.split(".") if node.module else [])
            if target:
                found.add(target[0])
            else:  # "from . import x": x is a module of vaelib, or a name from its __init__
                for alias in node.names:
                    is_module = (PACKAGE / f"{alias.name}.py").exists() or (PACKAGE / alias.name).is_dir()
                    found.add(alias.name if is_module else "__init__")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "vaelib" and len(parts) > 1:
                    found.add(parts[1])
    return found


def test_every_module_imports_only_from_the_layers_below_it():
    layer_of = {name: i for i, layer in enumerate(LAYERS) for name in layer}
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        assert name in layer_of, f"{path.relative_to(PACKAGE)}: place module {name!r} in a layer of LAYERS"
        for imported in sorted(vaelib_imports(path) - {name}):
            if imported not in layer_of:
                problems.append(f"{path.relative_to(PACKAGE)} imports unknown vaelib module {imported!r}")
            elif layer_of[imported] >= layer_of[name]:
                problems.append(f"{path.relative_to(PACKAGE)} ({name}) imports {imported}, which is not below it")
    assert not problems, "\n".join(problems)


def test_the_contract_test_sees_relative_and_lazy_imports():
    # A check that cannot fail proves nothing: it must find the imports that exist.
    assert {"_checks", "nets"} <= vaelib_imports(PACKAGE / "priors" / "base.py")
    assert "data" in vaelib_imports(PACKAGE / "model.py")  # also the one inside _training_images
    assert "model" in vaelib_imports(PACKAGE / "checkpoint.py")  # imported inside load()
    assert "widgets" in vaelib_imports(PACKAGE / "__init__.py")  # the lazy import by name
    assert vaelib_imports(PACKAGE / "__main__.py") == {"cli"}


def test_import_vaelib_loads_no_widget_library():
    code = (
        "import sys, vaelib, vaelib.cli; assert 'ipywidgets' not in sys.modules, 'ipywidgets imported'; "
        "vaelib.Playground; assert 'ipywidgets' in sys.modules"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_public_face_lists_what_notebooks_use_and_keeps_internals_in_their_modules():
    assert set(vaelib.__all__) <= set(dir(vaelib))
    for name in ("make_vae", "fit", "load_digits", "negative_elbo", "PRIORS", "ComparisonTable", "live_fit"):
        assert name in vaelib.__all__
    for internal in ("Encoder", "Decoder", "minibatches", "default_device"):
        assert internal not in vaelib.__all__
    from vaelib._checks import default_device, resolve_device  # noqa: F401
    from vaelib.data import minibatches  # noqa: F401  (still importable from its module)
    from vaelib.model import Decoder, Encoder  # noqa: F401


# ---------------------------------------------------------------------------------------
# A seventh prior touches its own file and one registry line
# ---------------------------------------------------------------------------------------
class RingPrior(MixturePrior):
    """Equal Gaussians on a circle of learnable radius (a made-up prior for this test)."""

    size_option = SizeOption("num_components", "points on the ring", 2, 12)

    def __init__(self, latent_dim: int = 2, num_components: int = 6, radius: float = 2.0):
        super().__init__(latent_dim)
        self.save_hyperparameters()
        self.log_radius = nn.Parameter(torch.tensor(math.log(radius)))
        self.logvars = nn.Parameter(torch.zeros(num_components, latent_dim))
        self.mixture_logits = nn.Parameter(torch.zeros(num_components), requires_grad=False)

    def mixture_parameters(self):
        angles = torch.arange(self.num_components) * (2 * math.pi / self.num_components)
        circle = torch.stack([angles.cos(), angles.sin()], dim=1).to(self.log_radius.device)
        means = torch.zeros_like(self.logvars)
        means[:, :2] = torch.exp(self.log_radius) * circle
        return self.mixture_logits, means, self.logvars


@pytest.fixture
def ring(monkeypatch):
    monkeypatch.setitem(vaelib.PRIORS, "ring", RingPrior)  # the one registry line
    return "ring"


def test_a_seventh_prior_is_in_the_playground_trains_draws_and_is_saved(ring, digits, tmp_path):
    from vaelib.widgets import Playground

    playground = Playground(digits)
    assert ring in playground.prior.options
    playground.prior.value = ring
    assert (playground.size.description, playground.size.value) == ("points on the ring", 6)
    playground.size.value = 4
    playground.epochs.value = 10
    playground.train(wait=True)
    assert playground.status.value.startswith("Done: ring"), playground.status.value
    row = playground.results[-1]
    assert row["prior"] == ring and row["setting"] == "points on the ring 4" and math.isfinite(row["neg_elbo"])

    model = vaelib.make_vae(ring, num_components=4, hidden_dim=16, seed=0, device="cpu")
    vaelib.fit(model, digits, max_epochs=2, seed=0, progress=False)
    figure = vaelib.plots.prior_contours(model, digits.test[:50])
    assert figure.axes[0].get_title().startswith("ring prior")
    loaded = vaelib.load(vaelib.save(model, tmp_path / "ring.pt"), device="cpu")
    assert isinstance(loaded.prior, RingPrior) and loaded.prior_name == ring
    z = torch.randn(7, 2)
    assert torch.allclose(loaded.prior.log_prob(z), model.prior.log_prob(z))


# ---------------------------------------------------------------------------------------
# Modules record their own configuration
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(vaelib.PRIORS))
def test_the_config_rebuilds_the_same_architecture(name):
    model = vaelib.make_vae(name, hidden_dim=16, device="cpu")
    rebuilt = vaelib.VAE.from_config(model.config)
    assert rebuilt.config == model.config
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {k: v.shape for k, v in model.state_dict().items()}


def test_a_vae_assembled_by_hand_can_be_saved_and_loaded(tmp_path):
    base = vaelib.make_vae("standard", hidden_dim=32, device="cpu")
    prior = vaelib.priors.GTMPrior(2, grid_size=3, hidden_dim=8)  # not what make_vae would build
    model = vaelib.VAE(base.encoder, base.decoder, prior)
    loaded = vaelib.load(vaelib.save(model, tmp_path / "assembled.pt"), device="cpu")
    assert loaded.config["prior"] == {
        "name": "gtm",
        "options": dict(latent_dim=2, grid_size=3, grid_range=10.0, hidden_dim=8),
    }
    z = torch.randn(5, 2)
    assert torch.allclose(loaded.prior.log_prob(z), model.prior.log_prob(z))


def test_a_hyper_parameter_that_is_not_plain_data_is_refused():
    class Odd(Prior):
        def __init__(self, latent_dim: int = 2, table=None):
            super().__init__(latent_dim)
            self.save_hyperparameters()

        def distribution(self):
            return Independent(Normal(torch.zeros(2), torch.ones(2)), 1)

    assert Odd(2).hparams == {"latent_dim": 2, "table": None}
    with pytest.raises(TypeError, match=r"Odd: hyper-parameter table=\[1, 2\] is not a plain number or string"):
        Odd(2, table=[1, 2])


# ---------------------------------------------------------------------------------------
# One random-number policy
# ---------------------------------------------------------------------------------------
def test_fit_with_a_seed_leaves_the_callers_random_stream_untouched(digits):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    model = vaelib.make_vae("vampprior", hidden_dim=16, seed=0, device="cpu")
    vaelib.fit(model, digits, max_epochs=2, seed=0, progress=False)
    assert torch.equal(torch.rand(3), expected)


def test_a_seeded_fit_does_not_depend_on_the_callers_random_state(digits):
    results = []
    for outer in (1, 2):
        torch.manual_seed(outer)
        model = vaelib.make_vae("mog", hidden_dim=16, seed=0, device="cpu")
        history = vaelib.fit(model, digits, max_epochs=2, seed=3, progress=False)
        results.append((history.train_loss, model.prior.means.detach().clone()))
    assert results[0][0] == results[1][0] and torch.equal(results[0][1], results[1][1])


def test_stop_reasons_are_typed_and_read_as_text(digits):
    model = vaelib.make_vae("standard", hidden_dim=8, device="cpu")
    history = vaelib.fit(model, digits, max_epochs=1, progress=False)
    assert history.stopped is vaelib.StopReason.MAX_EPOCHS
    assert history.stopped == "max epochs" and f"{history.stopped}" == "max epochs" == str(history.stopped)
    assert {reason.value for reason in vaelib.StopReason} == {
        "early stopping",
        "max epochs",
        "interrupted",
        "callback",
        "diverged",
    }
    assert vaelib.History.from_dict(history.to_dict()) == history
