"""One contender, one model size, one workload: time it, write JSON.

Launched by `benchmarks/speed.py`, one process per measurement, as
`python -P speed_worker.py --contender ... --out result.json`; it is not
meant to be run on its own (but can be, for debugging). Self-contained:
with `-P` nothing next to this file is importable.

Contenders (`--contender`):

* `transformers`: transformers' PyTorch ELECTRA, eager, sdpa attention;
  `--compile` wraps the model (or the pre-training loss) in
  `torch.compile`.
* `keras`: keras_electra on the backend of `KERAS_BACKEND`, with
  `--jit auto` (Keras' default) or `--jit true`.

Workloads (`--workload`):

* `inference`: the discriminator backbone on a batch (transformers:
  `ElectraModel` under `torch.inference_mode()`; ours:
  `ElectraBackbone.predict_on_batch`);
* `finetune`: one training step of a 2-class sequence classifier
  (transformers: `ElectraForSequenceClassification` + `torch.optim.AdamW`;
  ours: `ElectraClassifier(head="transformers")` compiled with
  `keras.optimizers.AdamW`, `train_on_batch`);
* `pretrain`: one replaced-token-detection step (ours:
  `ElectraPretrainer.compile()` + `train_on_batch`; transformers: the same
  step written with transformers modules, see `_hf_pretraining_step`).

Timing: the first call is timed on its own (trace / compile time), then
`warmup - 1` more untimed calls, then `steps` timed calls; each timed
call ends with its result on the host (`train_on_batch` / `predict_on_batch`
return NumPy values, torch calls end in `.item()` or a synchronize).
"""

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
import traceback

CLS_ID = 101
SEP_ID = 102
MASK_ID = 103
PAD_ID = 0
# BERT's uncased WordPieces from here on are ordinary tokens.
FIRST_ORDINARY_ID = 1000
MASK_PROBABILITY = 0.15
MASK_TOKEN_RATE = 0.85
DISCRIMINATOR_WEIGHT = 50.0
GUMBEL_EPSILON = 1e-9
LOSS_EPSILON = 1e-6
NUM_CLASSES = 2


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--contender", choices=["transformers", "keras"], required=True)
    p.add_argument("--compile", action="store_true",
                   help="transformers: wrap in torch.compile")
    p.add_argument("--jit", choices=["auto", "true"], default="auto",
                   help="keras: jit_compile setting")
    p.add_argument("--loop", choices=["batch", "fit"], default="batch",
                   help="keras training: time `train_on_batch` calls, or "
                   "`fit` over --fit-batches copies of the batch (seconds "
                   "per batch either way)")
    p.add_argument("--fit-batches", type=int, default=5)
    p.add_argument("--workload", choices=["inference", "finetune", "pretrain"],
                   required=True)
    p.add_argument("--model", required=True,
                   help="JSON: vocabulary_size, num_layers, hidden_dim, "
                   "num_heads, embedding_dim, intermediate_dim, "
                   "max_sequence_length, generator_hidden_fraction, "
                   "optional dropout (default 0.1)")
    p.add_argument("--batch-size", type=int, required=True)
    p.add_argument("--seq-len", type=int, required=True)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--precision", choices=["float32", "mixed_bfloat16"],
                   default="float32")
    p.add_argument("--quantize", choices=["int8"], default=None,
                   help="keras inference: `backbone.quantize(...)` first")
    p.add_argument("--device", default="cpu",
                   help="transformers: torch device (cpu, cuda)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="where to write the JSON")
    return p.parse_args(argv)


def make_batch(model, batch_size, seq_len, seed):
    """Random ids: [CLS] ordinary tokens [SEP], one segment, no padding."""
    import numpy as np

    rng = np.random.default_rng(seed)
    ids = rng.integers(
        FIRST_ORDINARY_ID, model["vocabulary_size"], (batch_size, seq_len)
    ).astype("int32")
    ids[:, 0] = CLS_ID
    ids[:, -1] = SEP_ID
    return {
        "token_ids": ids,
        "segment_ids": np.zeros_like(ids),
        "padding_mask": np.ones_like(ids),
        "labels": rng.integers(0, NUM_CLASSES, (batch_size,)).astype("int32"),
    }


def num_predictions(seq_len):
    """Google's `max_predictions_per_seq`: int((0.15 + 0.005) * seq)."""
    return max(1, min(seq_len, int((MASK_PROBABILITY + 0.005) * seq_len)))


def generator_dims(model):
    hidden = int(round(model["hidden_dim"] * model["generator_hidden_fraction"]))
    return hidden, max(1, hidden // 64), 4 * hidden


# === transformers ===


def hf_config(model, hidden=None, heads=None, intermediate=None):
    from transformers import ElectraConfig

    return ElectraConfig(
        vocab_size=model["vocabulary_size"],
        embedding_size=model["embedding_dim"],
        hidden_size=hidden or model["hidden_dim"],
        num_hidden_layers=model["num_layers"],
        num_attention_heads=heads or model["num_heads"],
        intermediate_size=intermediate or model["intermediate_dim"],
        max_position_embeddings=model["max_sequence_length"],
        type_vocab_size=2,
        num_labels=NUM_CLASSES,
        hidden_dropout_prob=model.get("dropout", 0.1),
        attention_probs_dropout_prob=model.get("dropout", 0.1),
    )


def hf_build(cls, config, device):
    model = cls._from_config(config, attn_implementation="sdpa")
    return model.to(device)


def hf_setup(args, model, batch):
    import torch
    from transformers import ElectraForMaskedLM
    from transformers import ElectraForPreTraining
    from transformers import ElectraForSequenceClassification
    from transformers import ElectraModel

    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    ids = torch.as_tensor(batch["token_ids"], dtype=torch.long, device=device)
    seg = torch.as_tensor(batch["segment_ids"], dtype=torch.long, device=device)
    pad = torch.as_tensor(batch["padding_mask"], dtype=torch.long, device=device)
    labels = torch.as_tensor(batch["labels"], dtype=torch.long, device=device)
    bf16 = args.precision == "mixed_bfloat16"

    def autocast():
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    info = {"torch_threads": torch.get_num_threads(), "device": str(device)}
    config = hf_config(model)

    if args.workload == "inference":
        net = hf_build(ElectraModel, config, device).eval()
        info["attn_implementation"] = net.config._attn_implementation
        forward = torch.compile(net) if args.compile else net

        def step():
            with torch.inference_mode(), autocast():
                out = forward(
                    input_ids=ids, attention_mask=pad, token_type_ids=seg
                ).last_hidden_state
            sync()
            return out

        return step, info

    if args.workload == "finetune":
        net = hf_build(ElectraForSequenceClassification, config, device).train()
        info["attn_implementation"] = net.config._attn_implementation
        optimizer = torch.optim.AdamW(net.parameters(), lr=5e-5)
        forward = torch.compile(net) if args.compile else net

        def step():
            optimizer.zero_grad(set_to_none=True)
            with autocast():
                loss = forward(
                    input_ids=ids,
                    attention_mask=pad,
                    token_type_ids=seg,
                    labels=labels,
                ).loss
            loss.backward()
            optimizer.step()
            return loss.item()

        return step, info

    # Pre-training: a 1/4-width generator sharing the discriminator's
    # embeddings (and its output layer tied to the word table).
    g_hidden, g_heads, g_inter = generator_dims(model)
    discriminator = hf_build(ElectraForPreTraining, config, device).train()
    generator = hf_build(
        ElectraForMaskedLM, hf_config(model, g_hidden, g_heads, g_inter), device
    ).train()
    generator.electra.embeddings = discriminator.electra.embeddings
    generator.generator_lm_head.weight = (
        discriminator.electra.embeddings.word_embeddings.weight
    )
    info["attn_implementation"] = discriminator.config._attn_implementation
    params, seen = [], set()
    for p in list(discriminator.parameters()) + list(generator.parameters()):
        if id(p) not in seen:
            seen.add(id(p))
            params.append(p)
    info["parameters"] = sum(p.numel() for p in params)
    optimizer = torch.optim.AdamW(params, lr=5e-4, weight_decay=0.01)
    loss_fn = _hf_pretraining_step(
        generator, discriminator, num_predictions(ids.shape[1])
    )
    if args.compile:
        loss_fn = torch.compile(loss_fn)

    def step():
        optimizer.zero_grad(set_to_none=True)
        with autocast():
            loss = loss_fn(ids, seg, pad)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        return loss.item()

    return step, info


def _hf_pretraining_step(generator, discriminator, num_slots):
    """keras_electra's `ReplacedTokenDetection.step`, in torch.

    Mask (15% of the non-special tokens, top-k of uniform noise, [MASK] on
    85% of them) -> generator logits only at the masked positions ->
    Gumbel-max sample (float32, no gradient) -> discriminator on the
    corrupted ids -> generator cross-entropy + 50 x discriminator sigmoid
    cross-entropy, each averaged as keras_electra does.
    """
    import torch
    import torch.nn.functional as F

    special = torch.tensor([CLS_ID, SEP_ID, MASK_ID, PAD_ID])

    def loss_fn(ids, seg, pad):
        batch_size, seq_len = ids.shape
        device = ids.device
        # === mask ===
        is_real = pad.bool()
        candidates = is_real & ~torch.isin(ids, special.to(device))
        num_tokens = is_real.sum(-1).float()
        to_predict = torch.round(num_tokens * MASK_PROBABILITY).long()
        to_predict = to_predict.clamp(1, num_slots)
        noise = torch.rand(batch_size, seq_len, device=device)
        scores = torch.where(candidates, noise, torch.full_like(noise, -1.0))
        top, positions = torch.topk(scores, num_slots, dim=-1)
        slot = torch.arange(num_slots, device=device)[None, :]
        used = (slot < to_predict[:, None]) & (top >= 0)
        positions = torch.where(used, positions, torch.zeros_like(positions))
        mask_ids = torch.where(
            used, ids.gather(1, positions), torch.zeros_like(positions)
        )
        weights = used.float()
        put_mask = used & (
            torch.rand(batch_size, num_slots, device=device) < MASK_TOKEN_RATE
        )
        masked_here = torch.zeros_like(is_real).scatter(1, positions, put_mask)
        generator_ids = torch.where(
            masked_here, torch.full_like(ids, MASK_ID), ids
        )
        # === generator, logits at the masked positions only ===
        hidden = generator.electra(
            input_ids=generator_ids, attention_mask=pad, token_type_ids=seg
        ).last_hidden_state
        gathered = hidden.gather(
            1, positions[..., None].expand(-1, -1, hidden.shape[-1])
        )
        logits = generator.generator_lm_head(
            generator.generator_predictions(gathered)
        ).float()
        log_probs = F.log_softmax(logits, dim=-1)
        per_position = -log_probs.gather(-1, mask_ids[..., None]).squeeze(-1)
        gen_loss = (per_position * weights).sum() / (weights.sum() + LOSS_EPSILON)
        # === Gumbel-max sample, no gradient ===
        uniform = torch.rand(logits.shape, device=device)
        gumbel = -torch.log(
            -torch.log(uniform + GUMBEL_EPSILON) + GUMBEL_EPSILON
        )
        sampled = torch.argmax(logits.detach() + gumbel, dim=-1)
        at_masked = torch.zeros_like(is_real).scatter(1, positions, used)
        samples = torch.zeros_like(ids).scatter(1, positions, sampled)
        corrupted = torch.where(at_masked, samples, ids)
        replaced = (at_masked & (corrupted != ids)).float()
        # === discriminator ===
        disc_logits = discriminator(
            input_ids=corrupted, attention_mask=pad, token_type_ids=seg
        ).logits.float()
        per_token = F.binary_cross_entropy_with_logits(
            disc_logits, replaced, reduction="none"
        )
        real = pad.float()
        disc_loss = (per_token * real).sum() / (real.sum() + LOSS_EPSILON)
        return gen_loss + DISCRIMINATOR_WEIGHT * disc_loss

    return loss_fn


# === keras_electra ===


def keras_setup(args, model, batch):
    import keras

    import keras_electra

    if args.precision == "mixed_bfloat16":
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    keras.utils.set_random_seed(args.seed)
    jit = {"auto": "auto", "true": True}[args.jit]
    x = {k: batch[k] for k in ("token_ids", "segment_ids", "padding_mask")}
    backbone = keras_electra.ElectraBackbone(
        vocabulary_size=model["vocabulary_size"],
        num_layers=model["num_layers"],
        num_heads=model["num_heads"],
        hidden_dim=model["hidden_dim"],
        embedding_dim=model["embedding_dim"],
        intermediate_dim=model["intermediate_dim"],
        max_sequence_length=model["max_sequence_length"],
        dropout=model.get("dropout", 0.1),
    )
    info = {"backend": keras.backend.backend(), "device": _keras_device()}

    if args.workload == "inference":
        net = backbone
        if getattr(args, "quantize", None):
            net(x)  # Keras quantizes built layers only
            net.quantize(args.quantize)
            info["quantize"] = args.quantize
        if jit is True:
            net.compile(jit_compile=True)

        def step():
            return net.predict_on_batch(x)

    elif args.workload == "finetune":
        net = keras_electra.ElectraClassifier(
            backbone,
            num_classes=NUM_CLASSES,
            preprocessor=None,
            head="transformers",
        )
        net.compile(
            optimizer=keras.optimizers.AdamW(learning_rate=5e-5),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=None,
            jit_compile=jit,
        )
        y = batch["labels"]
        step = _training_call(net, args, x, y)

    else:
        from keras_electra import data as bundled
        from keras_electra.pretraining import ElectraPretrainer

        tokenizer = keras_electra.ElectraTokenizer(
            vocabulary=bundled.vocabulary()
        )
        net = ElectraPretrainer(
            backbone,
            tokenizer=tokenizer,
            generator_hidden_fraction=model["generator_hidden_fraction"],
            seed=args.seed,
        )
        net.compile(jit_compile=jit)
        info["parameters"] = int(
            sum(int(_size(w.shape)) for w in _unique(net.trainable_weights))
        )

        step = _training_call(net, args, x)

    info["jit_compile"] = net.jit_compile
    info["mode"] = f"jit_compile={net.jit_compile} (asked: {args.jit})"
    if args.loop == "fit" and args.workload != "inference":
        info["mode"] += f", fit ({args.fit_batches} batches per call)"
        info["batches_per_call"] = args.fit_batches
    return step, info


def _training_call(net, args, x, y=None):
    """One `train_on_batch`, or one `fit` epoch of `--fit-batches` copies.

    `train_on_batch` pays Keras' per-call bookkeeping every step (on JAX it
    gathers and re-tracks every variable of the model); `fit` keeps the
    training state between the steps of an epoch, as a user's training
    does.
    """
    if args.loop == "batch" or args.workload == "inference":
        return lambda: net.train_on_batch(x, y)
    import numpy as np

    n = args.fit_batches
    xs = {k: np.concatenate([v] * n) for k, v in x.items()}
    ys = None if y is None else np.concatenate([y] * n)

    def step():
        return net.fit(xs, ys, batch_size=args.batch_size, epochs=1,
                       shuffle=False, verbose=0)

    return step


def _unique(weights):
    seen, out = set(), []
    for w in weights:
        if id(w) not in seen:
            seen.add(id(w))
            out.append(w)
    return out


def _size(shape):
    n = 1
    for d in shape:
        n *= int(d)
    return n


def _keras_device():
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "jax":
            import jax

            return str(jax.devices()[0].platform)
        if backend == "torch":
            from keras.src.backend.torch.core import get_device

            return str(get_device())
        if backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            return "gpu" if gpus else "cpu"
    except Exception as e:  # noqa: BLE001 - informational only
        return f"unknown ({e})"
    return "unknown"


# === measuring ===


def rusage():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "user_s": r.ru_utime,
        "system_s": r.ru_stime,
        "minor_faults": r.ru_minflt,
        "major_faults": r.ru_majflt,
        "max_rss_kb": r.ru_maxrss,
    }


def measure(step, steps, warmup):
    start = time.perf_counter()
    step()
    first_call_s = time.perf_counter() - start
    for _ in range(max(0, warmup - 1)):
        step()
    before = rusage()
    times = []
    wall_start = time.perf_counter()
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    wall = time.perf_counter() - wall_start
    after = rusage()
    user = after["user_s"] - before["user_s"]
    system = after["system_s"] - before["system_s"]
    return {
        "first_call_s": first_call_s,
        "step_times_s": times,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "timed_wall_s": wall,
        "user_s": user,
        "system_s": system,
        "system_share": system / (user + system) if user + system else None,
        "cpu_per_wall": (user + system) / wall if wall else None,
        "minor_faults_per_step": (after["minor_faults"] - before["minor_faults"])
        / steps,
        "major_faults_per_step": (after["major_faults"] - before["major_faults"])
        / steps,
    }


def _reason(error):
    """`Type: first line`, and the same for the error's cause(s)."""
    parts, seen = [], set()
    while error is not None and id(error) not in seen and len(parts) < 3:
        seen.add(id(error))
        text = str(error).strip().splitlines()
        parts.append(f"{type(error).__module__}.{type(error).__name__}: "
                     + (text[0] if text else ""))
        error = error.__cause__ or error.__context__
    return " <- caused by ".join(parts)


def main(argv=None):
    args = parse_args(argv)
    if args.steps < 1 or args.warmup < 1:
        raise SystemExit("--steps and --warmup must be at least 1")
    model = json.loads(args.model)
    result = {
        "status": "ok",
        "argv": sys.argv[1:],
        "python": platform.python_version(),
        "pid": os.getpid(),
    }
    start = time.perf_counter()
    try:
        batch = make_batch(model, args.batch_size, args.seq_len, args.seed)
        setup = hf_setup if args.contender == "transformers" else keras_setup
        step, info = setup(args, model, batch)
        result["setup_s"] = time.perf_counter() - start
        result.update(info)
        result.update(measure(step, args.steps, args.warmup))
        per_call = info.get("batches_per_call", 1)
        if per_call > 1:  # one call ran several batches: per batch
            for key in ("median_s", "min_s", "minor_faults_per_step",
                        "major_faults_per_step"):
                result[key] /= per_call
            result["step_times_s"] = [t / per_call
                                      for t in result["step_times_s"]]
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        reason = _reason(e)
        result["status"] = "failed"
        result["reason"] = reason[:300]
        result["traceback"] = traceback.format_exc()[-4000:]
    result["max_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open(args.out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
