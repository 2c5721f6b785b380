"""Serving speed: an ELECTRA-small classifier, raw text in, labels out.

Run by hand, never by CI. Side by side in one run, each contender in a
fresh process of its own (round-robin passes, as `speed.py` runs its
workers, whose helpers this script imports):

    python benchmarks/serving.py                 # the table, a few minutes
    python benchmarks/serving.py --quick         # fewer calls, one pass
    python benchmarks/serving.py --contenders transformers,savedmodel
    python benchmarks/serving.py --accuracy      # int8 accuracy, author task

The model: ELECTRA-small's sizes (`speed.py`'s `small`), a 2-class
`ElectraForSequenceClassification` with random weights, saved by
transformers with BERT's uncased vocabulary (the bundled one) and loaded by
`ElectraClassifier.from_preset(<dir>)` as a user would (so its
preprocessor has `sequence_length` 512). A preparing process (TensorFlow
backend) writes the checkpoint, our SavedModel (`classifier.export`), our
ONNX export and its ONNX Runtime dynamic int8 quantization, and tries the
SavedModel of `classifier.quantize("int8")`.

Workloads (texts from the bundled novels, fixed seed): one 12-word
sentence; one 128-word passage; 32 passages of 100 words. Per request:
p50 and p90 latency, throughput (sequences/s), the first call apart; per
process: peak RSS. Ratio = transformers' p50 / the row's p50 (> 1: faster
than transformers). Thread settings are each library's default, recorded.

`--accuracy`: the quick start's fine-tuning of the bundled
`electra_tiny_gutenberg_en` on the bundled author task, then test accuracy
of the float model, of Keras' `quantize("int8")` and of ONNX Runtime's
dynamic int8 quantization of our ONNX export, and their argmax agreement
with the float model.
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time

# speed.py's helpers (machine description, worker launch, combining passes)
# and speed_worker.py's measurements: siblings, beside this script on
# `sys.path` as for any script run by path (workers too).
import speed  # noqa: E402
import speed_worker  # noqa: E402

SEED = 0
BASELINE = "transformers"
WORKLOADS = (
    # name, batch, words per text, 12-word text is a whole sentence
    ("1 x 12-word sentence", 1, 12),
    ("1 x 128-word passage", 1, 128),
    ("32 x 100-word passages", 32, 100),
)
TF, JAX, TORCH = "tensorflow", "jax", "torch"
# name: (KERAS_BACKEND or None, how it runs)
CONTENDERS = {
    "transformers": (None, "eager PyTorch, sdpa, inference_mode; fast "
                     "tokenizer, padding=True"),
    "savedmodel": (None, "tf.saved_model.load + tensorflow_text, "
                   "serving_default(text=...); classifier.export(path): "
                   "graph, no XLA (the default)"),
    "savedmodel-xla": (None, "as savedmodel, exported with "
                       "jit_compile=True: the model's part XLA-compiled"),
    "savedmodel-ids": (None, "token_ids signature of savedmodel; fast "
                       "tokenizer, padding=True"),
    # The same model call in process, with and without XLA.
    "tf_function": (TF, "tf.function(classifier(ids)); fast tokenizer, "
                    "padding=True"),
    "tf_function-xla": (TF, "tf.function(classifier(ids), jit_compile=True);"
                        " fast tokenizer, padding=True"),
    "savedmodel-int8": (None, "SavedModel of classifier.quantize('int8'), "
                        "serving_default"),
    "onnx": (None, "ONNX Runtime, CPU EP, float32; fast tokenizer, "
             "padding=True"),
    "onnx-int8": (None, "ONNX Runtime, quantize_dynamic QInt8 weights"),
    **{f"predict-{b}": (b, "classifier.predict(texts)") for b in (TF, JAX,
                                                                   TORCH)},
    **{f"predict_labels-{b}": (b, "classifier.predict_labels(texts)")
       for b in (TF, JAX, TORCH)},
    "predict_labels-xla-tensorflow": (TF, "classifier.jit_compile = True, "
                                      "then predict_labels(texts)"),
    "predict_labels-int8-tensorflow": (TF, "classifier.quantize('int8'), "
                                       "then predict_labels(texts)"),
}


def workload_texts(seed=SEED):
    """The texts of every workload, from the bundled novels."""
    from keras_electra import data as bundled

    rng = random.Random(seed)
    chapters = [c for _, stem in bundled.NOVELS for c in bundled.chapters(stem)]
    sentences = [s for c in chapters for p in c for s in bundled.sentences(p)
                 if len(s.split()) == 12]
    texts = {}
    for name, batch, words in WORKLOADS:
        pool = sentences if words == 12 else bundled.passages(chapters, words)
        texts[name] = rng.sample(pool, batch)
    return texts


# === preparing: checkpoint, exports ===


def prepare(directory):
    """Write the checkpoint and every export to `directory` (TF backend)."""
    import torch
    import transformers

    import keras_electra
    from keras_electra import data as bundled

    info = {"texts": workload_texts()}
    # ELECTRA-small's sizes, 2 labels, as speed.py builds it.
    config = speed_worker.hf_config(speed.model_sizes()[0]["small"])
    torch.manual_seed(SEED)
    checkpoint = os.path.join(directory, "checkpoint")
    transformers.ElectraForSequenceClassification(config).save_pretrained(
        checkpoint)
    # transformers 5's fast tokenizers ignore `vocab_file=`.
    vocab = {token: i for i, token in enumerate(bundled.vocabulary())}
    transformers.ElectraTokenizerFast(vocab=vocab, do_lower_case=True
                                      ).save_pretrained(checkpoint)
    classifier = keras_electra.ElectraClassifier.from_preset(checkpoint)
    info["sequence_length"] = classifier.preprocessor.sequence_length
    classifier.export(os.path.join(directory, "savedmodel"))
    classifier.export(os.path.join(directory, "savedmodel-xla"),
                      jit_compile=True)
    onnx_path = os.path.join(directory, "model.onnx")
    keras_electra.export.export_onnx(classifier, onnx_path)
    from onnxruntime.quantization import QuantType
    from onnxruntime.quantization import quantize_dynamic

    quantize_dynamic(onnx_path, os.path.join(directory, "model-int8.onnx"),
                     weight_type=QuantType.QInt8)
    try:
        classifier.quantize("int8")
        classifier.export(os.path.join(directory, "savedmodel-int8"))
    except Exception as e:  # noqa: BLE001 - reported in the table
        info["int8_export_error"] = speed_worker._reason(e)[:300]
    return info


# === one contender ===


def softmax(logits):
    import numpy as np

    logits = np.asarray(logits, "float64")
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def fast_tokenizer(directory):
    from transformers import ElectraTokenizerFast

    tokenizer = ElectraTokenizerFast.from_pretrained(
        os.path.join(directory, "checkpoint"))

    def tokenize(texts, dtype):
        batch = tokenizer(texts, padding=True, truncation=True,
                          max_length=512, return_tensors="np")
        return {"token_ids": batch["input_ids"].astype(dtype),
                "segment_ids": batch["token_type_ids"].astype(dtype),
                "padding_mask": batch["attention_mask"].astype(dtype)}

    return tokenize


def transformers_runner(directory, name):
    import torch
    from transformers import ElectraForSequenceClassification

    model = ElectraForSequenceClassification.from_pretrained(
        os.path.join(directory, "checkpoint"), attn_implementation="sdpa"
    ).eval()
    tokenize = fast_tokenizer(directory)

    def run(texts):
        x = tokenize(texts, "int64")
        with torch.inference_mode():
            logits = model(input_ids=torch.from_numpy(x["token_ids"]),
                           token_type_ids=torch.from_numpy(x["segment_ids"]),
                           attention_mask=torch.from_numpy(x["padding_mask"])
                           ).logits
        return softmax(logits.numpy())

    return run, {"threads": f"torch {torch.get_num_threads()} "
                            f"(interop {torch.get_num_interop_threads()})"}


def onnx_runner(directory, name):
    import onnxruntime

    path = "model-int8.onnx" if name.endswith("int8") else "model.onnx"
    options = onnxruntime.SessionOptions()
    # --threads (speed.thread_env's OMP_NUM_THREADS); 0: ORT's default.
    options.intra_op_num_threads = int(os.environ.get("OMP_NUM_THREADS", 0))
    session = onnxruntime.InferenceSession(
        os.path.join(directory, path), options,
        providers=["CPUExecutionProvider"])
    tokenize = fast_tokenizer(directory)

    def run(texts):
        (logits,) = session.run(None, tokenize(texts, "int32"))
        return softmax(logits)

    return run, {"threads": f"onnxruntime intra_op "
                            f"{options.intra_op_num_threads} (0 = default: "
                            f"one per physical core)"}


def savedmodel_runner(directory, name):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401 - registers the WordPiece ops

    path = {"int8": "savedmodel-int8", "xla": "savedmodel-xla"}.get(
        name.rsplit("-", 1)[-1], "savedmodel")
    if not os.path.isdir(os.path.join(directory, path)):
        with open(os.path.join(directory, "prepared.json")) as f:
            raise RuntimeError(json.load(f).get("int8_export_error", "?"))
    served = tf.saved_model.load(os.path.join(directory, path))
    threads = {"threads": "tensorflow intra_op "
               f"{tf.config.threading.get_intra_op_parallelism_threads()}, "
               f"inter_op {tf.config.threading.get_inter_op_parallelism_threads()}"
               " (0 = default: all cores)"}
    ids = "-ids" in name
    signature = served.signatures["token_ids" if ids else "serving_default"]
    tokenize = fast_tokenizer(directory) if ids else None

    def run(texts):
        if ids:
            inputs = {k: tf.constant(v)
                      for k, v in tokenize(texts, "int32").items()}
        else:
            inputs = {"text": tf.constant(texts)}
        return signature(**inputs)["probabilities"].numpy()

    # The loaded object owns the variables: it lives as long as `run`.
    run.served = served
    return run, threads


def tf_function_runner(directory, name):
    import tensorflow as tf

    import keras_electra

    classifier = keras_electra.ElectraClassifier.from_preset(
        os.path.join(directory, "checkpoint"))
    forward = tf.function(lambda x: classifier(x, training=False),
                          jit_compile=name.endswith("xla"))
    tokenize = fast_tokenizer(directory)

    def run(texts):
        x = {k: tf.constant(v) for k, v in tokenize(texts, "int32").items()}
        return softmax(forward(x).numpy())

    return run, {"threads": keras_threads()}


def keras_runner(directory, name):
    import keras
    import numpy as np

    import keras_electra

    classifier = keras_electra.ElectraClassifier.from_preset(
        os.path.join(directory, "checkpoint"))
    if "int8" in name:
        classifier.quantize("int8")
    if "-xla" in name:
        # Keras' "auto" turns XLA off for TensorFlow on CPU.
        classifier.jit_compile = True

    def run(texts):
        if name.startswith("predict_labels"):
            # top_k=1: (label, probability) per text; 2 classes.
            second = (classifier.label_names or ["0", "1"])[1]
            out = classifier.predict_labels(texts)
            p1 = [p if label == second else 1 - p for label, p in out]
            return np.stack([1 - np.asarray(p1), p1], -1)
        logits = classifier.predict(texts, verbose=0)
        return softmax(keras.ops.convert_to_numpy(logits))

    def info():
        # After the calls: "auto" resolved by the first predict.
        return {"jit_compile": str(getattr(classifier, "jit_compile", None)),
                "threads": keras_threads()}

    return run, info


def keras_threads():
    import keras

    if keras.backend.backend() == TORCH:
        import torch

        return f"torch {torch.get_num_threads()}"
    if keras.backend.backend() == TF:
        import tensorflow as tf

        return (f"tensorflow intra_op "
                f"{tf.config.threading.get_intra_op_parallelism_threads()} "
                "(0 = default: all cores)")
    return "XLA:CPU default (Eigen pool, all cores)"


RUNNERS = {"transformers": transformers_runner, "onnx": onnx_runner,
           "tf": tf_function_runner,
           "savedmodel": savedmodel_runner, "predict": keras_runner}


def time_calls(run, texts, budget_s, min_calls, max_calls):
    """First call apart, one more warm-up, then timed calls until both
    `min_calls` and `budget_s` are reached (or `max_calls`)."""
    start = time.perf_counter()
    probabilities = run(texts)
    first = time.perf_counter() - start
    run(texts)
    times, begun = [], time.perf_counter()
    while len(times) < max_calls and (
            len(times) < min_calls or time.perf_counter() - begun < budget_s):
        start = time.perf_counter()
        run(texts)
        times.append(time.perf_counter() - start)
    p90 = statistics.quantiles(times, n=10, method="inclusive")[8]
    return {"first_call_s": first, "median_s": statistics.median(times),
            "p90_s": p90, "calls": len(times),
            "sequences_per_s": len(texts) * len(times) / sum(times),
            "probabilities": [list(map(float, p)) for p in probabilities]}


def worker(args):
    result = {"status": "ok", "rows": {}}
    try:
        with open(os.path.join(args.artefacts, "prepared.json")) as f:
            texts = json.load(f)["texts"]
        kind = args.worker.split("-")[0].split("_")[0]
        run, info = RUNNERS[kind](args.artefacts, args.worker)
        for name, _, _ in WORKLOADS:
            result["rows"][name] = time_calls(run, texts[name], args.budget,
                                              args.min_calls, 500)
        result.update(info() if callable(info) else info)
    except Exception as e:  # noqa: BLE001 - reported in the table
        result = {"status": "failed", "reason": speed_worker._reason(e)[:300]}
    result["max_rss_kb"] = speed_worker.rusage()["max_rss_kb"]
    with open(args.out, "w") as f:
        json.dump(result, f)


# === int8 accuracy on the author task ===


def accuracy(args):
    """Fine-tune as the quick start does, then float vs int8 accuracy."""
    os.environ.setdefault("KERAS_BACKEND", TF)
    import numpy as np
    import onnxruntime
    from onnxruntime.quantization import QuantType
    from onnxruntime.quantization import quantize_dynamic

    import keras_electra
    from keras_electra import data as bundled
    from keras_electra.cli import finetune
    from keras_electra.cli.shared import QUICKSTART as Q
    from keras_electra.finetuning import create_optimizer

    task = bundled.author_task(train_per_class=Q["train_per_class"],
                               test_per_class=Q["test_per_class"],
                               train_seed=SEED)
    texts, labels = (list(c) for c in zip(*task["train"]))
    test_texts, test_labels = (list(c) for c in zip(*task["test"]))
    classifier = finetune.build_classifier(
        Q["preset"], len(task["label_names"]), SEED, False,
        Q["sequence_length"], label_names=list(task["label_names"]))
    epochs, batch = Q["finetune_epochs"], Q["finetune_batch_size"]
    classifier.compile(optimizer=create_optimizer(
        classifier, learning_rate=Q["finetune_learning_rate"],
        num_train_steps=epochs * -(-len(texts) // batch)),
        metrics=["accuracy"])
    start = time.perf_counter()
    classifier.fit(texts, np.asarray(labels), batch_size=batch,
                   epochs=epochs, verbose=0)
    result = {"fine_tune_s": time.perf_counter() - start,
              "backend": os.environ["KERAS_BACKEND"],
              "train": len(texts), "test": len(test_texts),
              "model": Q["preset"], "sequence_length": Q["sequence_length"]}
    x = {k: np.asarray(v, "int32") for k, v in
         classifier.preprocessor(test_texts).items()}
    predictions = {"float (Keras)": finetune.predict_classes(
        classifier, test_texts, 64)}
    with tempfile.TemporaryDirectory() as tmp:
        path = keras_electra.export.export_onnx(
            classifier, os.path.join(tmp, "model.onnx"))
        quantize_dynamic(path, path + ".int8", weight_type=QuantType.QInt8)
        for label, file in (("float (ONNX Runtime)", path),
                            ("int8 (ONNX Runtime quantize_dynamic)",
                             path + ".int8")):
            session = onnxruntime.InferenceSession(
                file, providers=["CPUExecutionProvider"])
            predictions[label] = softmax(session.run(None, x)[0])
    classifier.quantize("int8")
    predictions["int8 (Keras quantize)"] = finetune.predict_classes(
        classifier, test_texts, 64)
    float_ids = np.argmax(predictions["float (Keras)"], -1)
    rows = []
    for label, logits in predictions.items():
        ids = np.argmax(np.asarray(logits), -1)
        rows.append({"model": label,
                     "accuracy": float(np.mean(ids == test_labels)),
                     "agreement_with_float": float(np.mean(ids == float_ids)),
                     "max_abs_prob_diff": float(np.max(np.abs(
                         np.asarray(logits) - predictions["float (Keras)"])))})
    result["rows"] = rows
    print(f"## int8 accuracy: {Q['preset']} fine-tuned on the author task "
          f"({len(texts)} training passages, {epochs} epochs, "
          f"{len(test_texts)} test passages, {Q['sequence_length']} "
          f"tokens)\n")
    print("| model | test accuracy | argmax agreement with float | "
          "max abs probability difference |\n| --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['model']} | {r['accuracy']:.4f} | "
              f"{r['agreement_with_float']:.4f} | "
              f"{r['max_abs_prob_diff']:.4f} |")
    return result


# === the driver ===


def launch(args, name, tmp, extra):
    backend = CONTENDERS.get(name, (TF,))[0] or TF
    env = dict(os.environ, KERAS_BACKEND=backend)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.update(speed.thread_env(args.threads, env))
    speed.set_hugepages(env, False)
    out = os.path.join(tmp, f"{name}.json")
    if os.path.exists(out):
        os.remove(out)
    cmd = [sys.executable, os.path.abspath(__file__), *extra,
           "--out", out, "--budget", str(args.budget),
           "--min-calls", str(args.min_calls)]
    result, stderr = speed.launch(cmd, env, tmp, out, args.timeout)
    if result.get("status") != "ok" and args.verbose:
        result["stderr_tail"] = stderr[-4000:]
    return result


def rows_of(name, result):
    """One row per workload from a worker's result."""
    rows = []
    for workload, _, _ in WORKLOADS:
        row = {"contender": name, "workload": workload,
               "process_wall_s": result["process_wall_s"]}
        if result.get("status") == "ok":
            row.update(result["rows"][workload], status="ok",
                       max_rss_kb=result["max_rss_kb"],
                       threads=result.get("threads"),
                       jit_compile=result.get("jit_compile"))
        else:
            row.update(status="failed", reason=result.get("reason"))
        rows.append(row)
    return rows


def annotate(rows):
    import numpy as np

    base = {r["workload"]: r for r in rows
            if r["contender"] == BASELINE and r["status"] == "ok"}
    for r in rows:
        b = base.get(r["workload"])
        if r["status"] != "ok" or not b:
            continue
        r["ratio"] = b["median_s"] / r["median_s"]
        mine, theirs = (np.asarray(x["probabilities"]) for x in (r, b))
        r["max_abs_prob_diff"] = float(np.max(np.abs(mine - theirs)))
        r["argmax_agreement"] = float(np.mean(
            mine.argmax(-1) == theirs.argmax(-1)))


def table(rows):
    lines = ["| workload | contender | p50 ms | p90 ms | sequences/s | "
             "ratio (transformers p50 / p50) | first call s | calls | "
             "peak RSS MiB | max abs prob. diff vs transformers | "
             "passes: p50 ms |", "|" + " --- |" * 11]
    for r in rows:
        cells = [r["workload"], r["contender"]]
        if r["status"] == "ok":
            cells += [speed.fmt(1e3 * r["median_s"], ".1f"),
                      speed.fmt(1e3 * r["p90_s"], ".1f"),
                      speed.fmt(r["sequences_per_s"], ".1f"),
                      speed.fmt(r.get("ratio"), ".2f"),
                      speed.fmt(r["first_call_s"], ".2f"), str(r["calls"]),
                      speed.fmt(r["max_rss_kb"] / 1024, ".0f"),
                      speed.fmt(r.get("max_abs_prob_diff"), ".1e"),
                      " / ".join(f"{1e3 * t:.1f}"
                                 for t in r["pass_medians_s"])]
        else:
            cells += [speed.failure(r)] + [""] * 8
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def modes(rows):
    seen, lines = set(), ["| contender | how | jit / XLA | threads |",
                          "| --- | --- | --- | --- |"]
    for r in rows:
        name = r["contender"]
        if name in seen:
            continue
        seen.add(name)
        backend, how = CONTENDERS[name]
        # Keras' jit_compile=True is XLA on TensorFlow and JAX.
        xla = name.endswith("xla") or "-xla-" in name or (
            r.get("jit_compile") == "True")
        jit = ("XLA" if xla else "no XLA") + (
            f" (Keras jit_compile={r['jit_compile']})"
            if r.get("jit_compile") else "")
        lines.append(f"| {name} | {how} | {jit} | {r.get('threads') or ''} |")
    return "\n".join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Contenders: " + ", ".join(CONTENDERS))
    p.add_argument("--contenders", default=",".join(CONTENDERS),
                   type=lambda v: speed.parse_list(v, tuple(CONTENDERS),
                                                   "contender"))
    p.add_argument("--passes", type=int, default=2,
                   help="round-robin passes over the contenders; a row is "
                   "the pass with the median p50 (default 2)")
    p.add_argument("--budget", type=float, default=3.0,
                   help="seconds of timed calls per workload (default 3)")
    p.add_argument("--min-calls", type=int, default=10,
                   help="timed calls per workload at least (default 10)")
    p.add_argument("--quick", action="store_true",
                   help="one pass, 3 calls, 0.5 s per workload")
    p.add_argument("--accuracy", action="store_true",
                   help="int8 accuracy on the author task instead of speed")
    p.add_argument("--threads", type=int, default=None,
                   help="limit every contender to N compute threads "
                   "(speed.py's --threads); default: each library's own")
    p.add_argument("--timeout", type=float, default=900,
                   help="seconds per process (default 900)")
    p.add_argument("--json", metavar="PATH", help="write every row here")
    p.add_argument("--verbose", action="store_true",
                   help="keep failed processes' stderr in the JSON")
    # Internal: the preparing and the contenders' processes.
    p.add_argument("--prepare", metavar="DIR", help=argparse.SUPPRESS)
    p.add_argument("--worker", choices=tuple(CONTENDERS), help=argparse.SUPPRESS)
    p.add_argument("--artefacts", metavar="DIR",
                   help="prepare the checkpoint and exports in DIR, or "
                   "reuse those already there (made by the same "
                   "keras_electra only; default: a temporary directory, "
                   "prepared anew)")
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.passes, args.min_calls, args.budget = 1, 3, 0.5
    if args.passes < 1 or args.min_calls < 2:
        p.error("--passes must be >= 1 and --min-calls >= 2")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.prepare:
        result = prepare(args.prepare)
        with open(args.out, "w") as f:
            json.dump(result, f)
        return 0
    if args.worker:
        worker(args)
        return 0
    m, text = speed.machine_summary()
    print(text + "\n", flush=True)
    if args.accuracy:
        output = {"machine": m, "accuracy": accuracy(args)}
    else:
        output = {"machine": m, "args": vars(args), "rows": measure(args)}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(output, f, indent=1, default=str)
        print(f"\n(wrote {args.json})")
    return 0


def prepared_artefacts(args, directory):
    """Write the checkpoint and exports to `directory`, or reuse them."""
    path = os.path.join(directory, "prepared.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    os.makedirs(directory, exist_ok=True)
    print("... preparing the checkpoint and exports", file=sys.stderr,
          flush=True)
    prepared = launch(args, "prepare", directory, ["--prepare", directory])
    if "texts" not in prepared:
        raise SystemExit(f"preparing failed: {prepared.get('reason')}")
    with open(path, "w") as f:
        json.dump(prepared, f)
    print(f"    {prepared['process_wall_s']:.0f} s; preprocessor "
          f"sequence_length {prepared['sequence_length']}"
          + (f"; int8 SavedModel: {prepared['int8_export_error']}"
             if "int8_export_error" in prepared else ""),
          file=sys.stderr, flush=True)
    return prepared


def measure(args):
    passes = {name: [] for name in args.contenders}
    with tempfile.TemporaryDirectory(prefix="electra_serving_") as tmp:
        tmp = args.artefacts or tmp
        prepared = prepared_artefacts(args, tmp)
        # Round robin: the machine's speed drifts between passes.
        for i in range(args.passes):
            for name in args.contenders:
                result = launch(args, name, tmp,
                                ["--worker", name, "--artefacts", tmp])
                print(f"... {name} (pass {i + 1}/{args.passes}): "
                      + (" / ".join(f"{1e3 * r['median_s']:.1f} ms"
                                    for r in result["rows"].values())
                         if result.get("status") == "ok"
                         else speed.failure(result))
                      + f" ({result['process_wall_s']:.0f} s)",
                      file=sys.stderr, flush=True)
                passes[name].append(result)
    rows = []
    for workload, _, _ in WORKLOADS:
        for name in args.contenders:
            rows.append(speed.combine([
                r for result in passes[name] for r in rows_of(name, result)
                if r["workload"] == workload]))
    annotate(rows)
    print(f"## Serving: ELECTRA-small classifier, preprocessor "
          f"sequence_length {prepared['sequence_length']}; threads: "
          + (", ".join(f"{k}={v}" for k, v in
                       speed.thread_env(args.threads, {}).items())
             if args.threads else "each library's default") + "\n")
    print(table(rows) + "\n\n" + modes(rows))
    return rows


if __name__ == "__main__":
    sys.exit(main())
