"""Presets under stress: concurrent first loads, files of the wrong kind,
empty weights, bad vocabularies."""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

import keras_electra
from keras_electra.presets.validation import PresetError
from keras_electra.presets.resolver import resolve_preset
from tests.conftest import TINY_VOCAB
from tests.conftest import save_hf_checkpoint
from tests.conftest import tiny_hf_config

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# A child process: waits for the `go` file, then resolves (converts) the
# preset into $KERAS_ELECTRA_CACHE, printing `converting` if it is the one
# that converts, then loads the result.
CHILD = r"""
import os, sys, time
checkpoint, go = sys.argv[1], sys.argv[2]
from keras_electra.conversion import transformers_loader
from keras_electra.presets import resolver
import keras_electra

convert = transformers_loader.convert_transformers_checkpoint

def announced(source, output):
    print("converting", flush=True)
    convert(source, output)

transformers_loader.convert_transformers_checkpoint = announced
open(go + ".ready-" + str(os.getpid()), "w").close()
while not os.path.exists(go):
    time.sleep(0.02)
path = resolver.resolve_preset(checkpoint)
backbone = keras_electra.ElectraBackbone.from_preset(checkpoint)
print("preset", path, backbone.count_params(), flush=True)
"""


@pytest.fixture(scope="module")
def hf_checkpoint(tmp_path_factory):
    from transformers import ElectraModel

    model = ElectraModel(tiny_hf_config())
    return save_hf_checkpoint(model, str(tmp_path_factory.mktemp("hf")))


def test_two_processes_convert_the_same_preset_at_once(hf_checkpoint, tmp_path):
    cache = tmp_path / "cache"
    env = dict(os.environ, KERAS_ELECTRA_CACHE=str(cache))
    env["PYTHONPATH"] = os.pathsep.join(
        [REPO] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    go = str(tmp_path / "go")
    children = [
        subprocess.Popen(
            [sys.executable, "-P", "-c", CHILD, hf_checkpoint, go],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    # Both are started (imports done) before either resolves the preset.
    deadline = time.time() + 600
    while len([n for n in os.listdir(tmp_path) if ".ready-" in n]) < 2:
        assert time.time() < deadline
        assert all(c.poll() is None for c in children), children[0].stdout.read()
        time.sleep(0.05)
    open(go, "w").close()
    outputs = []
    for child in children:
        output, _ = child.communicate(timeout=600)
        assert child.returncode == 0, output[-3000:]
        outputs.append(output)

    presets = [
        line.split()[1:] for o in outputs for line in o.splitlines()
        if line.startswith("preset ")
    ]
    assert len(presets) == 2 and presets[0] == presets[1]
    # One process converted; the other waited and took its result.
    assert sum(o.splitlines().count("converting") for o in outputs) == 1
    converted = cache / "converted"
    assert [n for n in os.listdir(converted) if not n.startswith(".")] == [
        os.path.basename(presets[0][0])
    ]
    assert [n for n in os.listdir(converted) if n.startswith(".tmp-")] == []
    # And the copy in the cache is whole.
    assert keras_electra.ElectraBackbone.from_preset(presets[0][0]).count_params() == int(
        presets[0][1]
    )


@pytest.fixture(scope="module")
def keras_preset(tmp_path_factory):
    backbone = keras_electra.ElectraBackbone(
        vocabulary_size=len(TINY_VOCAB), num_layers=1, num_heads=2,
        hidden_dim=16, embedding_dim=8, intermediate_dim=32,
        max_sequence_length=32,
    )
    directory = str(tmp_path_factory.mktemp("keras_preset"))
    backbone.save_to_preset(directory)
    keras_electra.ElectraTokenizer(vocabulary=TINY_VOCAB).save_to_preset(directory)
    return directory


TOKENIZER_CONFIG = {
    "do_lower_case": True,
    "tokenizer_class": "ElectraTokenizer",
    "model_max_length": 512,
}


@pytest.mark.parametrize("config", [TOKENIZER_CONFIG, ["a", "list"], 42, "text"])
def test_config_of_the_wrong_kind(keras_preset, hf_checkpoint, tmp_path, config):
    for source in (keras_preset, hf_checkpoint):
        directory = shutil.copytree(source, tmp_path / os.path.basename(source))
        with open(directory / "config.json", "w") as f:
            json.dump(config, f)
        with pytest.raises(PresetError) as info:
            keras_electra.ElectraBackbone.from_preset(str(directory))
        message = str(info.value)
        assert str(directory / "config.json") in message
        if config is TOKENIZER_CONFIG:
            assert "is not a model config" in message
            assert "looks like a tokenizer config" in message
        else:
            assert f"holds a JSON {type(config).__name__}" in message
        shutil.rmtree(directory)


def test_config_that_is_not_json(keras_preset, tmp_path):
    directory = shutil.copytree(keras_preset, tmp_path / "p")
    (directory / "config.json").write_bytes(b"\x89HDF\r\n\x1a\n\x00")
    with pytest.raises(PresetError, match=r"config\.json` is not a JSON file"):
        keras_electra.ElectraBackbone.from_preset(str(directory))


def test_empty_weights_file(keras_preset, hf_checkpoint, tmp_path):
    directory = shutil.copytree(keras_preset, tmp_path / "keras")
    (directory / "model.weights.h5").write_bytes(b"")
    with pytest.raises(PresetError, match=r"model\.weights\.h5` is empty \(0 bytes\)"):
        keras_electra.ElectraBackbone.from_preset(str(directory))

    directory = shutil.copytree(hf_checkpoint, tmp_path / "hf")
    (directory / "model.safetensors").write_bytes(b"")
    with pytest.raises(ValueError) as info:
        keras_electra.ElectraBackbone.from_preset(str(directory))
    assert "model.safetensors" in str(info.value)


@pytest.mark.parametrize(
    "vocabulary, message",
    [
        (TINY_VOCAB[:-1] + ["fox"], r"holds 'fox' twice \(lines 9 and 25\)"),
        ([t for t in TINY_VOCAB if t != "[MASK]"] + ["extra"], r"lacks the special token \[MASK\]"),
        (["[unused]"] + [t for t in TINY_VOCAB if t not in ("[CLS]",)], r"lacks the special token \[CLS\]"),
    ],
)
def test_bad_vocabularies_are_refused(
    keras_preset, hf_checkpoint, tmp_path, vocabulary, message
):
    assert len(vocabulary) == len(TINY_VOCAB)
    text = "\n".join(vocabulary) + "\n"
    hf = shutil.copytree(hf_checkpoint, tmp_path / "hf")
    (hf / "vocab.txt").write_text(text)
    keras = shutil.copytree(keras_preset, tmp_path / "keras")
    (keras / "assets" / "tokenizer" / "vocabulary.txt").write_text(text)
    for directory, name in ((hf, "vocab.txt"), (keras, "vocabulary.txt")):
        for cls in (keras_electra.ElectraBackbone, keras_electra.ElectraTokenizer):
            with pytest.raises(PresetError, match=message) as info:
                cls.from_preset(str(directory))
            assert name in str(info.value)
    # Nothing was converted into the cache from the bad checkpoint.
    with pytest.raises(PresetError):
        resolve_preset(str(hf))
