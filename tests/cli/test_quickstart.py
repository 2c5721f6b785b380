"""One small end-to-end run of `keras-electra quickstart`, then the other
subcommands on what it wrote."""

import json
import os

import numpy as np
import pytest

from keras_electra.cli import main

# The default path (the bundled pre-trained model), at a tiny budget.
TINY = [
    "--seeds", "2",
    "--pretrain-steps", "4", "--log-every", "2", "--pretrain-batch-size", "8",
    "--sequence-length", "32",
    "--train-per-class", "4", "--test-per-class", "3",
    "--finetune-epochs", "1", "--finetune-batch-size", "8",
    "--seed", "3", "--quiet",
]


def run_cli(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def recomputed_accuracy(preset, texts, true_labels):
    """A saved classifier's accuracy on `texts`, from its own logits."""
    import keras_electra

    classifier = keras_electra.ElectraClassifier.from_preset(str(preset))
    names = classifier.label_names
    logits = classifier.predict(list(texts), verbose=0)
    predicted = [names[i] for i in np.argmax(logits, -1)]
    return float(np.mean([p == t for p, t in zip(predicted, true_labels)]))


def check_fill_mask(out, text, generator_preset, top_k):
    """`fill-mask` printed the generator's most likely tokens at the mask,
    most likely first, with their softmax probabilities."""
    import re

    import keras
    import keras_electra

    lines = out.splitlines()
    line = lines[lines.index(text) + 1]
    assert line.startswith("  [MASK] 1: "), out
    shown = re.findall(r"(\S+) \((\d\.\d\d)\)", line.split(": ", 1)[1])
    assert len(shown) == top_k, out
    generator = keras_electra.ElectraMaskedLM.from_preset(str(generator_preset))
    tokenizer = generator.preprocessor.tokenizer
    ids = [tokenizer.cls_token_id]
    ids += [int(i) for i in keras.ops.convert_to_numpy(tokenizer(text))]
    ids += [tokenizer.sep_token_id]
    position = ids.index(tokenizer.mask_token_id)
    logits = generator(
        {
            "token_ids": np.array([ids], "int32"),
            "segment_ids": np.zeros((1, len(ids)), "int32"),
            "padding_mask": np.ones((1, len(ids)), "int32"),
            "mask_positions": np.array([[position]], "int32"),
        }
    )
    logits = keras.ops.convert_to_numpy(logits).astype("float64")[0, 0]
    probabilities = np.exp(logits - logits.max())
    probabilities /= probabilities.sum()
    best = np.sort(probabilities)[::-1][:top_k]
    of_shown = [probabilities[tokenizer.token_to_id(t)] for t, _ in shown]
    # The shown tokens hold the top-k probabilities, in order (equal up to
    # float rounding where two tokens tie).
    np.testing.assert_allclose(of_shown, best, rtol=1e-4)
    np.testing.assert_allclose(
        [float(p) for _, p in shown], of_shown, atol=0.005 + 1e-6
    )


@pytest.mark.slow
def test_quickstart_end_to_end_then_each_subcommand(tmp_path, capsys):
    run = tmp_path / "run"
    logdir = tmp_path / "logs"
    out = run_cli(
        ["quickstart", *TINY, "--output-dir", str(run), "--logdir", str(logdir)],
        capsys,
    )
    assert "== Results" in out
    assert "not pre-trained" in out

    # The run directory holds what the issue asks for.
    config = json.loads((run / "config.json").read_text())
    assert config["options"]["pretrain_steps"] == 4
    assert config["options"]["preset"] == "electra_tiny_gutenberg_en"
    results = json.loads((run / "results.json").read_text())
    # Replaced token detection on held-out chapters: the bundled weights
    # against random ones, then after the continued pre-training; the
    # table prints what results.json holds.
    rtd = results["replaced_token_detection"]
    assert rtd["held_out_tokens"] > 1000
    # The bundled model's weak but real detection (held-out AUC about
    # 0.58; tests/presets/test_bundled_preset.py) and its generator.
    assert rtd["pretrained"]["discriminator_auc"] > 0.55
    assert (
        rtd["pretrained"]["generator_accuracy"]
        > rtd["random"]["generator_accuracy"] + 0.1
    )
    for key, label in (
        ("pretrained", "pre-trained model"),
        ("random", "same model, random weights"),
        ("continued", "after continued pre-training"),
    ):
        row = next(line for line in out.splitlines() if line.strip().startswith(label))
        assert row.split()[-3:] == [
            f"{rtd[key]['discriminator_auc']:.3f}",
            f"{rtd[key]['context_auc']:.3f}",
            f"{rtd[key]['generator_accuracy']:.3f}",
        ], row
    assert results["pretraining"]["steps"] == 4
    tuned = results["finetuning"]
    assert [d["seed"] for d in tuned["draws"]] == [3, 4]
    first = tuned["draws"][0]
    assert first["not_pretrained"]["random_init"] is True
    # The summary is the mean and sd of the draws' accuracies.
    for key in ("pretrained", "not_pretrained"):
        values = [d[key]["test_accuracy"] for d in tuned["draws"]]
        assert tuned[key]["mean"] == pytest.approx(np.mean(values))
        assert tuned[key]["sd"] == pytest.approx(np.std(values, ddof=1))
    differences = [
        d["pretrained"]["test_accuracy"] - d["not_pretrained"]["test_accuracy"]
        for d in tuned["draws"]
    ]
    assert tuned["difference"]["mean"] == pytest.approx(np.mean(differences))
    # The reported accuracies are those of the saved classifiers on the
    # saved test split, recomputed here without the CLI's code; the
    # results table prints the same figures.
    test_tsv = (run / "data" / "test.tsv").read_text().splitlines()
    # Each draw has its own training passages; all share the test set.
    draw_files = [
        (run / "data" / f"train_draw{seed}.tsv").read_text() for seed in (3, 4)
    ]
    assert draw_files[0] != draw_files[1]
    assert test_tsv[0] == "label\ttext" and len(test_tsv) == 1 + 12
    true_labels, test_texts = zip(*(line.split("\t", 1) for line in test_tsv[1:]))
    table = {
        "pretrained": "ELECTRA, pre-trained",
        "not_pretrained": "same model, not pre-trained",
    }
    for key, directory in (
        ("pretrained", "classifier"),
        ("not_pretrained", "baseline_classifier"),
    ):
        accuracy = recomputed_accuracy(run / directory, test_texts, true_labels)
        assert first[key]["test_accuracy"] == pytest.approx(accuracy), key
    for key in table:
        row = next(line for line in out.splitlines() if table[key] in line)
        assert row.split()[-3:] == [
            f"{tuned[key]['mean']:.3f}", "+-", f"{tuned[key]['sd']:.3f}"
        ], row
    # The SavedModel agrees with Keras everywhere, so its accuracy is the
    # same.
    assert results["saved_model"]["test_accuracy"] == pytest.approx(
        first["pretrained"]["test_accuracy"]
    )
    # The SavedModel, reloaded with tf.saved_model.load, predicts what the
    # Keras model predicts.
    assert results["saved_model"]["agreement_with_keras"] == 1.0
    history = json.loads((run / "pretraining_history.json").read_text())
    assert [h["step"] for h in history] == [2, 4]
    for h in history:
        assert np.isfinite(h["generator_loss"]) and np.isfinite(
            h["discriminator_loss"]
        )
    png = (run / "pretraining_curves.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    assert (run / "saved_model" / "saved_model.pb").is_file()
    for member in ("discriminator", "generator"):
        assert (run / "pretrained" / member / "config.json").is_file()
    assert (run / "checkpoints" / "pretrain").is_dir()
    train_tsv = (run / "data" / "train.tsv").read_text().splitlines()
    assert train_tsv[0] == "label\ttext" and len(train_tsv) == 1 + 16
    for name in ("pretrain", "classifier_draw3", "baseline_classifier_draw4"):
        assert os.listdir(logdir / name), name  # TensorBoard event files

    # predict: from the SavedModel and from the Keras classifier agree.
    texts = ["The Martians came out of the cylinder.", "Mr. Darcy bowed."]
    from_saved = run_cli(
        ["predict", "--model", str(run / "saved_model"), "--json", *texts],
        capsys,
    )
    from_keras = run_cli(
        ["predict", "--model", str(run / "classifier"), "--json", *texts],
        capsys,
    )
    saved = [json.loads(line) for line in from_saved.splitlines()]
    keras_ = [json.loads(line) for line in from_keras.splitlines()]
    # The label names travel in the classifier's own config.
    task_json = json.loads((run / "classifier" / "task.json").read_text())
    names = task_json["config"]["label_names"]
    assert not (run / "classifier" / "label_names.json").exists()
    assert names == ["austen", "dickens", "verne", "wells"]
    assert [s["label"] for s in saved] == [k["label"] for k in keras_]
    assert all(s["label"] in names for s in saved)
    np.testing.assert_allclose(
        [s["score"] for s in saved], [k["score"] for k in keras_], atol=1e-4
    )

    # evaluate: the same accuracy as the quickstart's.
    report = tmp_path / "eval.json"
    run_cli(
        ["evaluate", "--model", str(run / "classifier"), "--test-per-class",
         "3", "--output", str(report), "--quiet"],
        capsys,
    )
    evaluated = json.loads(report.read_text())
    assert evaluated["examples"] == 12
    assert evaluated["accuracy"] == pytest.approx(
        first["pretrained"]["test_accuracy"]
    )

    # fill-mask and detect on the pre-trained pair.
    text = "the captain of the [MASK] ."
    out = run_cli(
        ["fill-mask", "--model", str(run / "pretrained"), "--top-k", "3", text],
        capsys,
    )
    check_fill_mask(out, text, run / "pretrained" / "generator", top_k=3)
    out = run_cli(
        ["detect", "--model", str(run / "pretrained"), "the sea was calm ."],
        capsys,
    )
    assert "replaced (p > 0.5)" in out

    # Rerunning with the same --output-dir resumes: the fine-tuning runs
    # are all recorded, so none is repeated, and the results are the same.
    again = run_cli(["quickstart", *TINY, "--output-dir", str(run)], capsys)
    assert "== Results" in again
    rerun = json.loads((run / "results.json").read_text())
    assert rerun["finetuning"]["draws"] == tuned["draws"]


@pytest.mark.slow
def test_pretrain_with_all_weights_tied(tmp_path, capsys):
    tiny = [
        "--log-every", "2", "--batch-size", "4", "--hidden-dim", "32",
        "--num-layers", "1", "--num-heads", "2", "--embedding-dim", "16",
        "--sequence-length", "32", "--seed", "3", "--quiet",
    ]
    first, second = tmp_path / "first", tmp_path / "second"
    out = run_cli(
        ["pretrain", *tiny, "--steps", "2", "--tie-all-weights",
         "--output-dir", str(first)],
        capsys,
    )
    assert "all weights tied" in out
    pair = json.loads((first / "pretrained" / "pretraining_pair.json").read_text())
    assert pair["tied_all_weights"] is True
    assert json.loads((first / "config.json").read_text())["options"][
        "tie_all_weights"
    ]
    # Continuing from the saved pair keeps it tied, with no flag needed.
    out = run_cli(
        ["pretrain", "--preset", str(first / "pretrained"), "--steps", "2",
         "--log-every", "2", "--batch-size", "4", "--quiet",
         "--output-dir", str(second)],
        capsys,
    )
    assert "all weights tied" in out
    pair = json.loads((second / "pretrained" / "pretraining_pair.json").read_text())
    assert pair["tied_all_weights"] is True

    # --tie-all-weights cannot tie a pair that was saved untied.
    untied = tmp_path / "untied"
    run_cli(["pretrain", *tiny, "--steps", "2", "--output-dir", str(untied)], capsys)
    code = main(
        ["pretrain", "--preset", str(untied / "pretrained"), "--tie-all-weights",
         "--steps", "2", "--output-dir", str(tmp_path / "retied"), "--quiet"]
    )
    _, err = capsys.readouterr()
    assert code == 2
    assert "--tie-all-weights" in err and "not a pair saved" in err
