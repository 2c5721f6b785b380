"""Out to transformers (issue 31, item 4): `keras_electra.export_transformers`
and `keras-electra convert --to transformers` write every task, and a
pre-trained pair, as transformers checkpoints that transformers' own
`from_pretrained` loads and runs within 1e-5 of Keras (float32), with their
labels and tokenizer files; and what is written comes back with our
`from_preset`. Also: our presets pass keras-hub's `upload_preset` checks for
`hf://` and `kaggle://`, with the hub calls mocked."""

import os
import shutil

import huggingface_hub
import keras_hub
import numpy as np
import pytest
import torch
import transformers
from keras import ops

import keras_electra
from keras_electra.cli import main
from tests.conftest import TINY_VOCAB
from tests.conftest import padded_batch
from tests.conftest import torch_inputs

TOLERANCE = 1e-5
BUNDLED = "electra_tiny_gutenberg_en"
NAMES = ["neg", "neutral", "pos"]
SEQ = 12


def randomize(model, seed=0):
    """Random values for every weight (biases and LayerNorms included:
    Keras initializes them to 0 and 1, which would hide one misplaced),
    as `tests.conftest.randomize_` does to transformers models."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        noise = rng.normal(0, 0.1, variable.shape)
        if variable.path.endswith("gamma"):  # LayerNorm scales: about 1
            noise += 1.0
        variable.assign(noise.astype(variable.dtype))
    return model


def tiny_backbone():
    return keras_electra.ElectraBackbone(
        vocabulary_size=len(TINY_VOCAB), num_layers=2, num_heads=2,
        hidden_dim=16, embedding_dim=8, intermediate_dim=32,
        max_sequence_length=SEQ, dropout=0.0,
    )


def tokenizer():
    return keras_electra.ElectraTokenizer(vocabulary=TINY_VOCAB)


def build(kind):
    """A tiny task of `kind` with random weights, its preprocessor
    holding the tokenizer (whose files go out with it)."""
    backbone = tiny_backbone()
    if kind == "ElectraBackbone":
        return backbone
    task_cls = getattr(keras_electra, kind)
    preprocessor = task_cls.preprocessor_cls(tokenizer(), sequence_length=SEQ)
    extra = {
        "ElectraClassifier": dict(
            num_classes=3, label_names=NAMES, head="transformers"
        ),
        "ElectraTokenClassifier": dict(num_classes=3, label_names=NAMES),
    }.get(kind, {})
    return task_cls(backbone=backbone, preprocessor=preprocessor, **extra)


def keras_and_torch_inputs(kind):
    batch = padded_batch(len(TINY_VOCAB), batch=3, seq=SEQ)
    if kind == "ElectraMultipleChoice":
        # 2 rows of 3 choices (the 3 padded rows, in turn).
        batch = {
            k: np.stack([np.roll(v, i, axis=0) for i in range(2)])
            for k, v in batch.items()
        }
        return batch, {k: v for k, v in torch_inputs(batch).items()}
    if kind == "ElectraCausalLM":
        # A causal LM reads no segment ids (transformers': all 0).
        del batch["segment_ids"]
        hf_in = torch_inputs({**batch, "segment_ids": 0 * batch["token_ids"]})
        return batch, hf_in
    if kind == "ElectraMaskedLM":
        positions = np.tile(np.arange(SEQ, dtype="int32"), (3, 1))
        return {**batch, "mask_positions": positions}, torch_inputs(batch)
    return batch, torch_inputs(batch)


def hf_output(kind, out):
    if kind == "ElectraBackbone":
        return out.last_hidden_state.numpy()
    if kind == "ElectraQuestionAnswerer":
        return np.stack([out.start_logits.numpy(), out.end_logits.numpy()], 1)
    return out.logits.numpy()


ARCHITECTURES = {
    "ElectraBackbone": "ElectraModel",
    "ElectraDiscriminator": "ElectraForPreTraining",
    "ElectraMaskedLM": "ElectraForMaskedLM",
    "ElectraCausalLM": "ElectraForCausalLM",
    "ElectraClassifier": "ElectraForSequenceClassification",
    "ElectraTokenClassifier": "ElectraForTokenClassification",
    "ElectraQuestionAnswerer": "ElectraForQuestionAnswering",
    "ElectraMultipleChoice": "ElectraForMultipleChoice",
}


def assert_parity(kind, model, directory):
    """transformers' `from_pretrained(directory)` of `model`'s class
    computes what `model` computes, within 1e-5."""
    hf_cls = getattr(transformers, ARCHITECTURES[kind])
    hf = hf_cls.from_pretrained(directory).eval()
    ours_in, hf_in = keras_and_torch_inputs(kind)
    with torch.no_grad():
        reference = hf_output(kind, hf(**hf_in))
    ours = ops.convert_to_numpy(model(ours_in, training=False))
    assert ours.shape == reference.shape, (ours.shape, reference.shape)
    diff = np.abs(ours - reference).max()
    assert diff <= TOLERANCE, f"{kind}: max |diff| {diff:.3g}"
    return hf


@pytest.mark.parametrize("kind", list(ARCHITECTURES))
def test_every_task_goes_out_with_parity_labels_and_tokenizer(kind, tmp_path):
    model = randomize(build(kind))
    directory = str(tmp_path / "hf")
    assert keras_electra.export_transformers(model, directory) == directory
    hf = assert_parity(kind, model, directory)
    if kind in ("ElectraClassifier", "ElectraTokenClassifier"):
        assert hf.config.id2label == dict(enumerate(NAMES))
    if kind == "ElectraBackbone":
        return  # No tokenizer: a backbone holds none.
    hf_tokenizer = transformers.AutoTokenizer.from_pretrained(directory)
    assert hf_tokenizer.convert_ids_to_tokens(list(range(len(TINY_VOCAB)))) == (
        TINY_VOCAB
    )
    text = "the quick brown fox jumped over the lazy dog"
    ours = [int(i) for i in ops.convert_to_numpy(model.preprocessor.tokenizer(text))]
    assert hf_tokenizer(text, add_special_tokens=False)["input_ids"] == ours


def test_a_preset_directory_goes_out_and_comes_back(tmp_path):
    """A task preset (what `finetune` writes) by its path; then our own
    `from_preset` of the written directory gives the same outputs."""
    model = randomize(build("ElectraTokenClassifier"), seed=3)
    preset = str(tmp_path / "preset")
    model.save_to_preset(preset)
    directory = str(tmp_path / "hf")
    keras_electra.export_transformers(preset, directory)
    assert_parity("ElectraTokenClassifier", model, directory)
    back = keras_electra.ElectraTokenClassifier.from_preset(directory)
    assert back.label_names == NAMES
    batch, _ = keras_and_torch_inputs("ElectraTokenClassifier")
    np.testing.assert_allclose(
        ops.convert_to_numpy(back(batch)), ops.convert_to_numpy(model(batch)),
        atol=TOLERANCE,
    )


def bundled_texts(directory):
    """Text through transformers' tokenizer (read from the written files),
    as Keras inputs."""
    hf_tokenizer = transformers.AutoTokenizer.from_pretrained(directory)
    encoded = hf_tokenizer(
        ["It is a truth universally acknowledged.",
         "The Martians came [MASK] night, and the [MASK] burned."],
        padding=True, return_tensors="pt",
    )
    batch = {
        "token_ids": encoded["input_ids"].numpy().astype("int32"),
        "segment_ids": encoded["token_type_ids"].numpy().astype("int32"),
        "padding_mask": encoded["attention_mask"].numpy().astype("int32"),
    }
    return encoded, batch


def check_bundled_pair(directory, discriminator, generator):
    """Both written checkpoints, run by transformers, against our pair."""
    assert sorted(os.listdir(directory)) == [
        "discriminator", "generator", "pretraining_pair.json"
    ]
    encoded, batch = bundled_texts(os.path.join(directory, "discriminator"))
    real = batch["padding_mask"].astype(bool)
    length = batch["token_ids"].shape[1]
    positions = np.tile(np.arange(length, dtype="int32"), (len(real), 1))
    for member, hf_cls, ours in (
        ("discriminator", transformers.ElectraForPreTraining,
         discriminator(batch, training=False)),
        ("generator", transformers.ElectraForMaskedLM,
         generator({**batch, "mask_positions": positions}, training=False)),
    ):
        hf = hf_cls.from_pretrained(os.path.join(directory, member)).eval()
        assert hf.config.architectures == [hf_cls.__name__]
        with torch.no_grad():
            reference = hf(**encoded).logits.numpy()
        diff = np.abs(ops.convert_to_numpy(ours) - reference)[real].max()
        assert diff <= TOLERANCE, f"{member}: max |diff| {diff:.3g}"
    return batch, positions


@pytest.mark.slow
def test_the_bundled_pair_goes_out_and_comes_back(tmp_path):
    directory = str(tmp_path / "hf_pair")
    keras_electra.export_transformers(BUNDLED, directory)
    discriminator = keras_electra.ElectraDiscriminator.from_preset(BUNDLED)
    generator = keras_electra.ElectraMaskedLM.from_preset(BUNDLED)
    batch, positions = check_bundled_pair(directory, discriminator, generator)
    # And back: the written directory is a pair preset of ours too.
    pretrainer = keras_electra.ElectraPretrainer.from_preset(directory)
    for ours, theirs, x in (
        (pretrainer.discriminator, discriminator, batch),
        (pretrainer.generator, generator,
         {**batch, "mask_positions": positions}),
    ):
        np.testing.assert_allclose(
            ops.convert_to_numpy(ours(x, training=False)),
            ops.convert_to_numpy(theirs(x, training=False)),
            atol=TOLERANCE,
        )


def test_a_pretrainer_in_memory_goes_out_as_two_checkpoints(tmp_path):
    pretrainer = keras_electra.ElectraPretrainer.from_preset(BUNDLED)
    directory = str(tmp_path / "hf_pair")
    keras_electra.export_transformers(pretrainer, directory)
    check_bundled_pair(
        directory, pretrainer.discriminator, pretrainer.generator
    )


def test_convert_to_transformers_on_the_command_line(tmp_path, capsys):
    directory = str(tmp_path / "hf_pair")
    assert main(["convert", "--to", "transformers", BUNDLED,
                 "--output", directory]) == 0
    out = capsys.readouterr().out
    assert "ElectraForPreTraining" in out and "ElectraForMaskedLM" in out
    check_bundled_pair(
        directory,
        keras_electra.ElectraDiscriminator.from_preset(BUNDLED),
        keras_electra.ElectraMaskedLM.from_preset(BUNDLED),
    )
    # An existing output is not replaced without --force.
    assert main(["convert", "--to", "transformers", BUNDLED,
                 "--output", directory]) == 1
    assert "--force" in capsys.readouterr().err


def test_a_google_head_classifier_names_the_alternative(tmp_path):
    """Google's classification head (dense on [CLS]) has no transformers
    class: a named error, and no directory left behind."""
    backbone = tiny_backbone()
    classifier = keras_electra.ElectraClassifier(
        backbone, num_classes=2, preprocessor=None
    )
    directory = tmp_path / "hf"
    with pytest.raises(ValueError, match="head='transformers'"):
        keras_electra.export_transformers(classifier, str(directory))
    assert not directory.exists()


# === keras-hub's `upload_preset`, hub calls mocked ===


@pytest.fixture()
def mocked_hubs(tmp_path, monkeypatch):
    """`hf://` and `kaggle://` uploads land in a local folder; `hf://`
    downloads are served from it (as in tests/utils/test_preset_resolution)."""
    import kagglehub

    hub = tmp_path / "hub"
    uploads = []

    class Repo:
        def __init__(self, repo_id):
            self.repo_id = repo_id

    def upload_folder(repo_id, folder_path, **kwargs):
        uploads.append(("hf", repo_id, sorted(os.listdir(folder_path))))
        shutil.copytree(folder_path, hub / repo_id.replace("/", "--"))

    def model_upload(handle, local_model_dir, **kwargs):
        uploads.append(("kaggle", handle, sorted(os.listdir(local_model_dir))))

    def snapshot_download(repo_id, allow_patterns=None, **kwargs):
        return str(hub / repo_id.replace("/", "--"))

    monkeypatch.setattr(huggingface_hub, "create_repo",
                        lambda repo_id, **kwargs: Repo(repo_id))
    monkeypatch.setattr(huggingface_hub, "file_exists",
                        lambda repo_id, filename, **kwargs: False)
    monkeypatch.setattr(huggingface_hub, "upload_folder", upload_folder)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    monkeypatch.setattr(kagglehub, "model_upload", model_upload)
    return uploads


def test_our_presets_pass_upload_preset_checks(tmp_path, mocked_hubs):
    """A fine-tuned task preset and each member of the bundled pair:
    keras-hub validates them, writes its model card for `hf://` (and
    removes it again), and what was uploaded loads back by its handle."""
    classifier = randomize(build("ElectraClassifier"), seed=5)
    presets = {"classifier": str(tmp_path / "classifier")}
    classifier.save_to_preset(presets["classifier"])
    bundled = keras_electra.presets.bundled_preset_dir(BUNDLED)
    for member in ("discriminator", "generator"):
        presets[member] = str(tmp_path / member)
        # A copy: the model card is written into the directory uploaded.
        shutil.copytree(os.path.join(bundled, member), presets[member])
    for name, preset in presets.items():
        before = sorted(os.listdir(preset))
        keras_hub.upload_preset(f"hf://someone/{name}", preset)
        keras_hub.upload_preset(f"kaggle://someone/{name}/keras/tiny", preset)
        assert sorted(os.listdir(preset)) == before  # model card removed
    uploaded = {(hub, handle): files for hub, handle, files in mocked_hubs}
    for name, preset in presets.items():
        files = uploaded[("hf", f"someone/{name}")]
        assert "README.md" in files and "config.json" in files, files
        assert "model.weights.h5" in files and "task.json" in files, files
        assert uploaded[("kaggle", f"someone/{name}/keras/tiny")] == sorted(
            os.listdir(preset)
        )
    # Back by the `hf://` handle, through our download path.
    back = keras_electra.ElectraClassifier.from_preset("hf://someone/classifier")
    assert back.label_names == NAMES
    batch, _ = keras_and_torch_inputs("ElectraClassifier")
    np.testing.assert_allclose(
        ops.convert_to_numpy(back(batch)),
        ops.convert_to_numpy(classifier(batch)),
        atol=TOLERANCE,
    )
