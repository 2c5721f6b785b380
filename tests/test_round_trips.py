"""`save_to_preset` -> `from_preset` gives the same model, on every backend.

Same backend: outputs are bitwise identical. Across backends (one
subprocess per other backend loads the presets saved here): the weights
are bitwise identical and outputs agree to float32 round-off (1e-5), the
backends' kernels summing in different orders.
"""

import inspect
import json
import os
import subprocess
import sys
import warnings

import keras
import numpy as np
import pytest
from keras_hub.src.models.task import Task

import keras_electra
from tests.conftest import TINY_VOCAB
from tests.conftest import padded_batch

BACKENDS = ("tensorflow", "jax", "torch")
# Loaded under the other backends (one subprocess each; the backbone is in
# each of them): the pre-training heads (the generator's is tied to the
# embeddings) and a fine-tuning head.
CROSS_BACKEND = ("ElectraDiscriminator", "ElectraMaskedLM", "ElectraClassifier")
MASK_POSITIONS = np.array([[1, 2], [3, 4], [0, 5]], "int32")
SEQUENCE_LENGTH = 16


def _backbone():
    return keras_electra.ElectraBackbone(
        vocabulary_size=len(TINY_VOCAB), num_layers=2, num_heads=4,
        hidden_dim=32, embedding_dim=16, intermediate_dim=64,
        max_sequence_length=64,
    )


def _tokenizer():
    return keras_electra.ElectraTokenizer(vocabulary=TINY_VOCAB)


def _with_preprocessor(task_cls, **kwargs):
    preprocessor = task_cls.preprocessor_cls(
        tokenizer=_tokenizer(), sequence_length=SEQUENCE_LENGTH
    )
    return task_cls(backbone=_backbone(), preprocessor=preprocessor, **kwargs)


def _choices(batch):
    """Two choices per example: `[batch, 2, seq]`."""
    return {k: np.stack([v, v[::-1]], axis=1) for k, v in batch.items()}


# Every task class: how to build one, and its inputs from the backbone's.
TASKS = {
    "ElectraDiscriminator": (
        lambda: _with_preprocessor(keras_electra.ElectraDiscriminator), dict
    ),
    "ElectraMaskedLM": (
        lambda: _with_preprocessor(keras_electra.ElectraMaskedLM),
        lambda batch: {**batch, "mask_positions": MASK_POSITIONS},
    ),
    "ElectraClassifier": (
        lambda: _with_preprocessor(keras_electra.ElectraClassifier, num_classes=3),
        dict,
    ),
    "ElectraTokenClassifier": (
        lambda: _with_preprocessor(keras_electra.ElectraTokenClassifier, num_classes=3),
        dict,
    ),
    "ElectraQuestionAnswerer": (
        lambda: _with_preprocessor(keras_electra.ElectraQuestionAnswerer), dict
    ),
    "ElectraMultipleChoice": (
        lambda: _with_preprocessor(keras_electra.ElectraMultipleChoice), _choices
    ),
    # A decoder: no segment ids (transformers' ElectraForCausalLM uses 0).
    "ElectraCausalLM": (
        lambda: _with_preprocessor(keras_electra.ElectraCausalLM),
        lambda batch: {k: batch[k] for k in ("token_ids", "padding_mask")},
    ),
}


def _randomize(model, seed):
    """Random values everywhere: a weight lost on the way would show."""
    rng = np.random.default_rng(seed)
    for v in model.weights:
        noise = rng.normal(0, 0.1, size=v.shape).astype("float32")
        v.assign(noise + 1.0 if v.path.endswith("gamma") else noise)
    return model


def _models():
    backbone = _randomize(_backbone(), 0)
    models = {"ElectraBackbone": (backbone, dict)}
    for i, (name, (build, inputs)) in enumerate(TASKS.items()):
        models[name] = (_randomize(build(), i + 1), inputs)
    return models


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def _exported_tasks():
    from keras_electra import pretraining

    return {
        name
        for module in (keras_electra, pretraining)
        for name, obj in vars(module).items()
        if inspect.isclass(obj) and issubclass(obj, Task)
    }


def test_every_task_is_covered():
    covered = set(TASKS) | {"ElectraPretrainer"}  # the pair: its own test
    assert _exported_tasks() <= covered, (
        "add the new task to TASKS in tests/test_round_trips.py"
    )


def test_pretrainer_round_trip(tmp_path):
    """The generator + discriminator pair, saved as two presets."""
    from keras_electra.pretraining import ElectraPretrainer

    def build():
        return ElectraPretrainer(
            _backbone(), tokenizer=_tokenizer(), seed=0,
            generator_hidden_fraction=0.5,
        )

    pretrainer = build()
    # The generator's own embeddings are unused while pre-training (the
    # discriminator's are shared); saving writes the shared ones there.
    unused = {id(v) for v in pretrainer.generator.backbone.embeddings.weights}
    rng = np.random.default_rng(7)
    for v in pretrainer.weights:
        if id(v) not in unused:
            noise = rng.normal(0, 0.1, size=v.shape).astype("float32")
            v.assign(noise + 1.0 if v.path.endswith("gamma") else noise)
    pretrainer.save_to_preset(str(tmp_path / "pair"))
    loaded = type(pretrainer).from_preset(str(tmp_path / "pair"), seed=0)
    assert len(loaded.weights) == len(pretrainer.weights)
    for before, after in zip(pretrainer.weights, loaded.weights):
        if id(before) not in unused:
            np.testing.assert_array_equal(_numpy(after), _numpy(before))
    # (A full pre-training step samples; the weights decide it. The
    # discriminator's output is checked as the other tasks' are.)
    batch = padded_batch(len(TINY_VOCAB))
    np.testing.assert_array_equal(
        _numpy(loaded.discriminator(batch)), _numpy(pretrainer.discriminator(batch))
    )


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Presets of every model, with the inputs and outputs computed here."""
    root = tmp_path_factory.mktemp("round_trips")
    batch = padded_batch(len(TINY_VOCAB))
    manifest = []
    for name, (model, make_inputs) in _models().items():
        directory = str(root / name)
        model.save_to_preset(directory)
        if name == "ElectraBackbone":
            _tokenizer().save_to_preset(directory)
        inputs = make_inputs(batch)
        np.savez(os.path.join(directory, "_inputs.npz"), **inputs)
        cls = type(model)
        manifest.append(
            {
                "name": name,
                "module": cls.__module__,
                "class": cls.__name__,
                "dir": directory,
                "output": _numpy(model(inputs)),
                "weights": [_numpy(w) for w in model.weights],
                "preprocessor": getattr(model, "preprocessor", None)
                and model.preprocessor.get_config(),
            }
        )
    return root, manifest


def test_round_trip_on_this_backend(saved):
    _, manifest = saved
    for item in manifest:
        cls = getattr(__import__(item["module"], fromlist=[item["class"]]), item["class"])
        loaded = cls.from_preset(item["dir"])
        assert type(loaded) is cls
        inputs = dict(np.load(os.path.join(item["dir"], "_inputs.npz")))
        np.testing.assert_array_equal(_numpy(loaded(inputs)), item["output"], err_msg=item["name"])
        for before, after in zip(item["weights"], loaded.weights):
            np.testing.assert_array_equal(_numpy(after), before)
        if item["preprocessor"]:
            assert loaded.preprocessor.get_config() == item["preprocessor"]
            assert loaded.preprocessor.tokenizer.get_vocabulary() == TINY_VOCAB
    tokenizer = keras_electra.ElectraTokenizer.from_preset(manifest[0]["dir"])
    assert tokenizer.get_vocabulary() == TINY_VOCAB


# Runs under another backend: loads every preset, writes outputs + weights.
WORKER = """
import importlib, json, sys
import numpy as np
import keras
manifest = json.load(open(sys.argv[1]))
out = {}
for item in manifest:
    cls = getattr(importlib.import_module(item["module"]), item["class"])
    model = cls.from_preset(item["dir"])
    inputs = dict(np.load(item["dir"] + "/_inputs.npz"))
    out[item["name"] + "/output"] = keras.ops.convert_to_numpy(model(inputs))
    for i, w in enumerate(model.weights):
        out[f"{item['name']}/weight{i}"] = keras.ops.convert_to_numpy(w)
import keras_electra
tokenizer = keras_electra.ElectraTokenizer.from_preset(manifest[0]["dir"])
out["token_ids"] = keras.ops.convert_to_numpy(tokenizer("the quick brown fox"))
np.savez(sys.argv[2], backend=keras.backend.backend(), **out)
"""


def _load_on_the_other_backends(root, manifest):
    """Runs `WORKER` under each other backend (both at once: startup
    dominates) on the presets of `manifest`; its results by backend."""
    path = os.path.join(root, "manifest.json")
    with open(path, "w") as f:
        json.dump([{k: v for k, v in m.items() if k in ("name", "module", "class", "dir")} for m in manifest], f)
    others = [b for b in BACKENDS if b != keras.backend.backend()]
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    procs = {}
    for backend in others:
        env = {**os.environ, "KERAS_BACKEND": backend}
        result = os.path.join(root, f"{backend}.npz")
        procs[backend] = (
            subprocess.Popen(
                [sys.executable, "-c", WORKER, path, result],
                env=env, cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            ),
            result,
        )
    results = {}
    for backend, (proc, result) in procs.items():
        log, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, log.decode()[-3000:]
        results[backend] = np.load(result)
        assert str(results[backend]["backend"]) == backend
    return results


def _check_other_backends(results, manifest, atol, of_largest=False):
    """Weights bitwise equal; outputs within `atol` (with `of_largest`, a
    share of the largest output's magnitude)."""
    for backend, got in results.items():
        for item in manifest:
            name = item["name"]
            for i, before in enumerate(item["weights"]):
                np.testing.assert_array_equal(got[f"{name}/weight{i}"], before)
            largest = np.max(np.abs(item["output"]))
            diff = np.max(np.abs(got[f"{name}/output"] - item["output"]))
            print(f"\n{keras.backend.backend()} -> {backend} {name}: max abs diff {diff:.3g} (largest output {largest:.3g})")
            np.testing.assert_allclose(
                got[f"{name}/output"], item["output"], rtol=0,
                atol=atol * largest if of_largest else atol,
                err_msg=f"{name} on {backend}",
            )


@pytest.mark.slow  # two subprocesses: this feature's end-to-end test
def test_presets_load_on_the_other_backends(saved):
    root, manifest = saved
    manifest = [m for m in manifest if m["name"] in CROSS_BACKEND]
    results = _load_on_the_other_backends(root, manifest)
    _check_other_backends(results, manifest, atol=1e-5)
    expected_ids = _numpy(keras_electra.ElectraTokenizer.from_preset(manifest[0]["dir"])("the quick brown fox"))
    for got in results.values():
        np.testing.assert_array_equal(got["token_ids"], expected_ids)


# === int8: `task.quantize("int8")` then save and load ===


def without_gc_collect():
    """Keras runs `gc.collect()` each time a quantized layer drops its float
    kernel: about 2 s each (16 per task) in a test process holding
    TensorFlow, JAX and PyTorch. The tests skip it."""
    import gc
    from unittest import mock

    return mock.patch.object(gc, "collect", lambda *args: 0)


@pytest.fixture(scope="module")
def saved_int8(tmp_path_factory):
    """Every task quantized to int8 (before its preprocessor ever ran) and
    saved, with its inputs and outputs computed here."""
    root = tmp_path_factory.mktemp("int8")
    batch = padded_batch(len(TINY_VOCAB))
    manifest = []
    for i, (name, (build, make_inputs)) in enumerate(TASKS.items()):
        model = _randomize(build(), i + 1)
        with without_gc_collect(), warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            model.quantize("int8")
        directory = str(root / name)
        model.save_to_preset(directory)
        inputs = make_inputs(batch)
        np.savez(os.path.join(directory, "_inputs.npz"), **inputs)
        manifest.append(
            {
                "name": name,
                "module": type(model).__module__,
                "class": type(model).__name__,
                "dir": directory,
                "output": _numpy(model(inputs)),
                "weights": [_numpy(w) for w in model.weights],
                "quantized": sorted(
                    layer.path for layer in model._flatten_layers()
                    if layer.quantization_mode == "int8"
                ),
                "warnings": [str(x.message) for x in w],
            }
        )
    return root, manifest


@pytest.mark.slow  # quantizing the seven tasks
@pytest.mark.parametrize("name", list(TASKS))
def test_int8_round_trip_on_this_backend(saved_int8, name):
    _, manifest = saved_int8
    (item,) = [m for m in manifest if m["name"] == name]
    # The head is quantized too, not only the backbone.
    assert any(not p.startswith("electra_backbone") for p in item["quantized"])
    # Quietly: no notice for each layer that holds nothing to quantize.
    assert not [m for m in item["warnings"] if "`quantize` method" in m]
    loaded = getattr(keras_electra, item["class"]).from_preset(item["dir"])
    assert sorted(
        layer.path for layer in loaded._flatten_layers()
        if layer.quantization_mode == "int8"
    ) == item["quantized"]
    assert len(loaded.weights) == len(item["weights"])
    for before, after in zip(item["weights"], loaded.weights):
        np.testing.assert_array_equal(_numpy(after), before)
    inputs = dict(np.load(os.path.join(item["dir"], "_inputs.npz")))
    np.testing.assert_array_equal(_numpy(loaded(inputs)), item["output"])


@pytest.mark.slow  # two subprocesses, each loading the seven int8 tasks
def test_int8_presets_load_on_the_other_backends(saved_int8):
    """The int8 weights and scales come back bitwise. The outputs agree to
    the backends' int8 arithmetic: an int8 layer quantizes its input rows
    on the fly (abs-max scale), and float32 round-off between backends
    can move a value across a rounding boundary, one step (1/127 of the
    row's largest value) off, so they agree to 1% of the largest output,
    not to float32's 1e-5 (seen: 5e-3 on outputs of about 1)."""
    root, manifest = saved_int8
    results = _load_on_the_other_backends(root, manifest)
    _check_other_backends(results, manifest, atol=0.01, of_largest=True)


# === LoRA: adapters train, and a preset carries base + adapters ===


@pytest.mark.parametrize("name", list(TASKS))
def test_lora_trains_adapters_and_head_and_round_trips(tmp_path, name):
    build, make_inputs = TASKS[name]
    task = _randomize(build(), 1)
    inputs = make_inputs(padded_batch(len(TINY_VOCAB)))
    base_output = _numpy(task(inputs))
    backbone_weights = {id(w) for w in task.backbone.weights}
    task.backbone.enable_lora(2)
    # Non-zero adapters, so that they change the outputs.
    rng = np.random.default_rng(3)
    adapters = [w for w in task.backbone.weights if "lora_kernel" in w.path]
    assert adapters
    for w in adapters:
        w.assign(rng.normal(0, 0.5, size=w.shape).astype("float32"))
    head = [
        w for w in task.weights
        if id(w) not in backbone_weights and "lora_kernel" not in w.path
    ]
    # Exactly the adapters and the task's own weights train.
    assert {id(w) for w in task.trainable_weights} == {
        id(w) for w in adapters + [w for w in head if w.trainable]
    }
    output = _numpy(task(inputs))
    assert np.max(np.abs(output - base_output)) > 1e-3

    task.save_to_preset(str(tmp_path))
    assert os.path.isfile(tmp_path / "adapter.lora.h5")
    loaded = type(task).from_preset(str(tmp_path))
    np.testing.assert_array_equal(_numpy(loaded(inputs)), output)
    assert {w.path for w in loaded.trainable_weights} == {
        w.path for w in task.trainable_weights
    }
    # The preset's backbone weights are the base, unmerged: keras-hub's
    # own loader (which knows nothing of the adapters) reads the base.
    from keras_hub.models import Backbone

    base = Backbone.from_preset(str(tmp_path))
    assert not any("lora" in w.path for w in base.weights)
    for before, after in zip(
        [w for w in task.backbone.weights if "lora_kernel" not in w.path],
        base.weights,
    ):
        np.testing.assert_array_equal(_numpy(after), _numpy(before))
