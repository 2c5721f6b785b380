"""Google's original TF1 checkpoints -> Keras presets.

The reference is a pair of random transformers models (ElectraForPreTraining
and ElectraForMaskedLM sharing their embeddings, as Google's pre-training
does). Their weights are written as a TF1 checkpoint under Google's variable
names, derived here from transformers' naming (the reverse of transformers'
own TF1 loader, independent of our table), with optimizer slots and
`global_step` as in a real pre-training checkpoint.
"""

import json
import os
import re
import shutil

import keras
import numpy as np
import pytest

from keras_electra.conversion.google_tf1_loader import load_google_tf1_model
from keras_electra.pretraining import pair_preset
from tests.conftest import TINY_VOCAB
from tests.conftest import padded_batch
from tests.conftest import randomize_
from tests.conftest import tiny_hf_config
from tests.conftest import torch_inputs
from tools.convert_checkpoint import main as convert_main

GLOBAL_STEP = 1234
MASK_POSITIONS = np.array([[1, 4, 7], [2, 3, 5], [0, 1, 2]], "int32")


def tf1_name(hf_key, scope):
    """Google's variable name for a transformers parameter.

    Returns `(name, transpose)`, or `None` for the tied output matrix.
    """
    if hf_key == "generator_lm_head.weight":
        return None
    key = hf_key.replace("generator_lm_head.bias", "generator_predictions.output_bias")
    key = key.replace("dense_prediction", "dense_1")
    if key.startswith("electra.embeddings."):
        key = "electra/" + key[len("electra.") :]  # shared by both networks
    elif key.startswith("electra."):
        key = scope + "/" + key[len("electra.") :]
    key = re.sub(r"layer\.(\d+)", r"layer_\1", key).replace(".", "/")
    module, leaf = key.rsplit("/", 1)
    if module.endswith("LayerNorm"):
        return f"{module}/{ {'weight': 'gamma', 'bias': 'beta'}[leaf]}", False
    if module.endswith("_embeddings") or module.endswith("output_bias"):
        return (module if leaf == "weight" else key), False
    if leaf == "weight":
        return f"{module}/kernel", True
    return key, False


def write_tf1_checkpoint(directory, discriminator, generator, vocabulary):
    """Google's checkpoint layout, from two transformers models."""
    import tensorflow as tf

    tensors = {}
    for model, scope in ((discriminator, "electra"), (generator, "generator")):
        for key, value in model.state_dict().items():
            mapped = tf1_name(key, scope)
            if mapped is None or key.endswith("position_ids"):
                continue
            name, transpose = mapped
            value = value.detach().numpy()
            tensors[name] = np.ascontiguousarray(value.T if transpose else value)
    # Optimizer slots and the step counter: training state, not weights.
    rng = np.random.default_rng(0)
    for name in list(tensors)[:6]:
        tensors[f"{name}/adam_m"] = rng.normal(size=tensors[name].shape).astype("float32")
        tensors[f"{name}/adam_v"] = rng.normal(size=tensors[name].shape).astype("float32")
    tensors["global_step"] = np.int64(GLOBAL_STEP)
    os.makedirs(directory, exist_ok=True)
    prefix = os.path.join(directory, f"model.ckpt-{GLOBAL_STEP}")
    names = sorted(tensors)
    tf.raw_ops.SaveV2(
        prefix=prefix,
        tensor_names=names,
        shape_and_slices=[""] * len(names),
        tensors=[tf.constant(tensors[n]) for n in names],
    )
    with open(os.path.join(directory, "checkpoint"), "w") as f:
        f.write(f'model_checkpoint_path: "model.ckpt-{GLOBAL_STEP}"\n')
    with open(os.path.join(directory, "vocab.txt"), "w") as f:
        f.write("\n".join(vocabulary) + "\n")
    return directory


@pytest.fixture(scope="module")
def google_release(tmp_path_factory):
    """(checkpoint dir, HF discriminator, HF generator)."""
    import torch
    from transformers import ElectraForMaskedLM
    from transformers import ElectraForPreTraining

    disc = randomize_(ElectraForPreTraining(tiny_hf_config(16, 32)), seed=1).eval()
    # The generator: hidden 24 != embeddings 16, so it has its own
    # `generator/embeddings_project`; its embeddings are the discriminator's.
    gen = randomize_(ElectraForMaskedLM(tiny_hf_config(16, 24)), seed=2).eval()
    with torch.no_grad():
        gen.electra.embeddings.load_state_dict(disc.electra.embeddings.state_dict())
    directory = str(tmp_path_factory.mktemp("electra_tiny"))
    write_tf1_checkpoint(directory, disc, gen, TINY_VOCAB)
    return directory, disc, gen


def hf_discriminator_outputs(disc, batch):
    import torch

    with torch.no_grad():
        out = disc(**torch_inputs(batch), output_hidden_states=True)
    return out.hidden_states[-1].numpy(), out.logits.numpy()


def hf_generator_logits(gen, batch):
    import torch

    with torch.no_grad():
        logits = gen(**torch_inputs(batch)).logits.numpy()
    return np.take_along_axis(logits, MASK_POSITIONS[..., None], axis=1)


def max_diff(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


def check_discriminator(model, disc, batch):
    hidden, logits = hf_discriminator_outputs(disc, batch)
    ours_hidden = keras.ops.convert_to_numpy(model.backbone(batch))
    ours_logits = keras.ops.convert_to_numpy(model(batch))
    diff = max(max_diff(ours_hidden, hidden), max_diff(ours_logits, logits))
    print(f"\nTF1 discriminator vs transformers ({keras.backend.backend()}): max abs diff {diff:.3g}")
    assert diff <= 1e-5


def check_generator(model, gen, batch):
    expected = hf_generator_logits(gen, batch)
    ours = keras.ops.convert_to_numpy(model({**batch, "mask_positions": MASK_POSITIONS}))
    diff = max_diff(ours, expected)
    print(f"\nTF1 generator vs transformers ({keras.backend.backend()}): max abs diff {diff:.3g}")
    assert diff <= 1e-5


def test_discriminator_and_generator_match_transformers(google_release):
    directory, disc, gen = google_release
    batch = padded_batch(len(TINY_VOCAB))
    model, tokenizer = load_google_tf1_model(directory, "discriminator", num_heads=4)
    assert type(model).__name__ == "ElectraDiscriminator"
    assert tokenizer.vocabulary_size() == len(TINY_VOCAB)
    check_discriminator(model, disc, batch)
    model, _ = load_google_tf1_model(directory, "generator", num_heads=4)
    assert type(model).__name__ == "ElectraMaskedLM"
    assert model.backbone.hidden_dim == 24
    assert model.backbone.embeddings_projection is not None
    check_generator(model, gen, batch)


def test_pair_cli_writes_two_presets_and_description(google_release, tmp_path):
    import keras_electra

    directory, disc, gen = google_release
    out = str(tmp_path / "pair")
    code = convert_main(
        ["--model", "pair", "--num-heads", "4", "--generator-num-heads", "4",
         "--output", out, directory]
    )
    assert code == 0
    with open(os.path.join(out, pair_preset.PAIR_FILE)) as f:
        pair = json.load(f)
    assert pair["format"] == pair_preset.PAIR_FORMAT
    assert pair["tied_embeddings"] is True
    assert pair["global_step"] == GLOBAL_STEP
    batch = padded_batch(len(TINY_VOCAB))
    check_discriminator(
        keras_electra.ElectraDiscriminator.from_preset(os.path.join(out, pair["discriminator"])),
        disc, batch,
    )
    generator = keras_electra.ElectraMaskedLM.from_preset(os.path.join(out, pair["generator"]))
    check_generator(generator, gen, batch)
    # Tied embeddings: the generator's table is the discriminator's.
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(generator.backbone.token_embedding.embeddings),
        disc.electra.embeddings.word_embeddings.weight.detach().numpy(),
    )


def test_cli_help(capsys):
    with pytest.raises(SystemExit) as info:
        convert_main(["--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--preset-name", "--model", "--output", "--num-heads", "tf1"):
        assert option in text


def test_heads_must_be_given_when_hidden_size_is_not_a_multiple_of_64(google_release):
    directory, _, _ = google_release
    with pytest.raises(ValueError, match="num-heads"):
        load_google_tf1_model(directory, "discriminator")


def test_wrong_vocabulary_size_is_named(google_release, tmp_path):
    directory, _, _ = google_release
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(TINY_VOCAB + ["extra"]) + "\n")
    with pytest.raises(ValueError, match=r"26 tokens.*25 rows"):
        load_google_tf1_model(directory, "discriminator", vocabulary=str(vocab), num_heads=4)


def test_truncated_checkpoint_is_named(google_release, tmp_path):
    directory, _, _ = google_release
    broken = shutil.copytree(directory, tmp_path / "broken")
    (data,) = [p for p in os.listdir(broken) if ".data-" in p]
    path = os.path.join(broken, data)
    with open(path, "rb") as f:
        content = f.read()
    with open(path, "wb") as f:
        f.write(content[: len(content) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load_google_tf1_model(str(broken), "discriminator", num_heads=4)


def test_missing_checkpoint_names_the_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"model\.ckpt-<step>\.index.*vocab\.txt"):
        load_google_tf1_model(str(tmp_path), "discriminator")


def test_preset_name_with_wrong_architecture_leaves_nothing(google_release, capsys):
    from keras_electra.presets import preset_path

    directory, _, _ = google_release
    name = "electra_small_discriminator_en"
    code = convert_main(["--preset-name", name, directory])
    assert code == 1
    err = capsys.readouterr().err
    assert "registered architecture" in err and "hidden_dim: got 32, expected 256" in err
    target = preset_path(name)
    assert not os.path.exists(target)
    parent = os.path.dirname(target)
    leftovers = [p for p in os.listdir(parent) if p.startswith(".tmp")]
    assert leftovers == []
