"""`ElectraCausalLM` against transformers' `ElectraForCausalLM`.

The reference is transformers on the same (random) weights: logits with
padding (<= 1e-5), weights written back, and greedy generation compared
with a plain greedy loop over transformers' model.
"""

import numpy as np
import pytest
import torch
import transformers
from keras import ops

import keras_electra
from keras_electra.conversion.transformers_loader import (
    export_transformers_weights,
)
from keras_electra.conversion.transformers_loader import (
    save_transformers_checkpoint,
)
from tests.conftest import TINY_VOCAB
from tests.conftest import padded_batch
from tests.conftest import randomize_
from tests.conftest import save_hf_checkpoint
from tests.conftest import tiny_hf_config

TOLERANCE = 1e-5


def hf_causal_lm(embedding_size=16, seed=0):
    config = tiny_hf_config(embedding_size=embedding_size)
    config.is_decoder = True
    return randomize_(transformers.ElectraForCausalLM(config).eval(), seed)


def hf_logits(hf, batch):
    with torch.no_grad():
        return hf(
            input_ids=torch.tensor(batch["token_ids"], dtype=torch.long),
            attention_mask=torch.tensor(batch["padding_mask"], dtype=torch.long),
            use_cache=False,
        ).logits.numpy()


def our_logits(lm, batch):
    x = {"token_ids": batch["token_ids"], "padding_mask": batch["padding_mask"]}
    return ops.convert_to_numpy(lm(x, training=False))


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    hf = hf_causal_lm()
    directory = save_hf_checkpoint(hf, str(tmp_path_factory.mktemp("clm")))
    return hf, keras_electra.ElectraCausalLM.from_preset(directory)


@pytest.mark.parametrize("embedding_size", [16, 32], ids=["E16-H32", "E32-H32"])
def test_logits_match_transformers_with_padding(embedding_size, tmp_path):
    hf = hf_causal_lm(embedding_size, seed=embedding_size)
    assert hf.config.is_decoder
    lm = keras_electra.ElectraCausalLM.from_preset(
        save_hf_checkpoint(hf, str(tmp_path / "clm"))
    )
    assert isinstance(lm.preprocessor, keras_electra.ElectraCausalLMPreprocessor)
    batch = padded_batch(len(TINY_VOCAB), batch=3, seq=12)
    reference = hf_logits(hf, batch)
    ours = our_logits(lm, batch)
    diff = np.abs(ours - reference)
    print(f"ElectraForCausalLM E={embedding_size}: max |diff| {diff.max():.3g}")
    assert ours.shape == reference.shape == (3, 12, len(TINY_VOCAB))
    assert diff.max() <= TOLERANCE


def test_causal_mask_later_tokens_do_not_change_earlier_logits(loaded):
    hf, lm = loaded
    batch = padded_batch(len(TINY_VOCAB), batch=1, seq=10, seed=3)
    changed = {k: v.copy() for k, v in batch.items()}
    changed["token_ids"][0, 6:] = 7
    a, b = our_logits(lm, batch), our_logits(lm, changed)
    np.testing.assert_allclose(a[0, :6], b[0, :6], atol=1e-6)
    assert np.abs(a[0, 6:] - b[0, 6:]).max() > 1e-3


def test_weights_and_checkpoint_go_back_to_transformers(loaded, tmp_path):
    hf, lm = loaded
    exported = export_transformers_weights(lm)
    state = hf.state_dict()
    # Every tensor of transformers' model except the tied output matrix.
    assert set(exported) == set(state) - {"generator_lm_head.weight"}
    for key, value in exported.items():
        np.testing.assert_allclose(value, state[key].numpy(), atol=0)
    directory = save_transformers_checkpoint(lm, str(tmp_path / "hf"))
    reloaded = transformers.ElectraForCausalLM.from_pretrained(directory).eval()
    assert reloaded.config.is_decoder
    batch = padded_batch(len(TINY_VOCAB), batch=2, seq=9, seed=1)
    np.testing.assert_allclose(
        hf_logits(reloaded, batch), hf_logits(hf, batch), atol=1e-6
    )


def test_keras_preset_round_trip(loaded, tmp_path):
    hf, lm = loaded
    lm.save_to_preset(str(tmp_path / "keras"))
    again = keras_electra.ElectraCausalLM.from_preset(str(tmp_path / "keras"))
    batch = padded_batch(len(TINY_VOCAB), batch=2, seq=8, seed=2)
    diff = np.abs(our_logits(again, batch) - hf_logits(hf, batch)).max()
    assert diff <= TOLERANCE


def hf_greedy(hf, ids, max_length):
    """Greedy decoding, one full forward pass per token, no cache."""
    ids = list(ids)
    with torch.no_grad():
        while len(ids) < max_length:
            logits = hf(
                input_ids=torch.tensor([ids]), use_cache=False
            ).logits[0, -1]
            ids.append(int(logits.argmax()))
    return ids


def generate_ids(lm, sampler, token_ids):
    """`lm.generate` on token ids (the preprocessor detached meanwhile)."""
    preprocessor = lm.preprocessor
    lm.preprocessor = None
    try:
        lm.compile(sampler=sampler)
        out = lm.generate(
            {"token_ids": token_ids, "padding_mask": (token_ids != 0)},
            stop_token_ids=None,
        )
    finally:
        lm.preprocessor = preprocessor
        lm.compile(sampler="greedy")
    return np.asarray(out["token_ids"]).tolist()


def test_greedy_generate_equals_a_greedy_loop_over_transformers(loaded):
    hf, lm = loaded
    tokenizer = lm.preprocessor.tokenizer
    max_length = 9
    prompts = [
        [tokenizer.cls_token_id] + [int(t) for t in tokenizer("the quick")],
        [tokenizer.cls_token_id] + [int(t) for t in tokenizer("a cat sat on")],
    ]
    expected = [hf_greedy(hf, p, max_length) for p in prompts]

    # Token ids in, token ids out (no preprocessor), prompts of two lengths.
    token_ids = np.zeros((2, max_length), "int32")
    for i, p in enumerate(prompts):
        token_ids[i, : len(p)] = p
    assert generate_ids(lm, "greedy", token_ids) == expected

    # Strings in and out through the preprocessor (greedy by default).
    text = lm.generate("the quick", max_length=max_length, stop_token_ids=None)
    special = {tokenizer.cls_token_id, tokenizer.sep_token_id,
               tokenizer.pad_token_id}
    words = [tokenizer.id_to_token(t) for t in expected[0] if t not in special]
    assert text.split() == " ".join(words).replace(" ##", "").split()


def test_top_k_sampling_draws_from_transformers_top_k(loaded):
    import keras_hub

    hf, lm = loaded
    tokenizer = lm.preprocessor.tokenizer
    prompt = [tokenizer.cls_token_id] + [int(t) for t in tokenizer("the dog")]
    max_length = 8
    token_ids = np.zeros((1, max_length), "int32")
    token_ids[0, : len(prompt)] = prompt
    sampler = keras_hub.samplers.TopKSampler(k=3, seed=7)
    out = generate_ids(lm, sampler, token_ids)[0]
    assert out[: len(prompt)] == prompt
    with torch.no_grad():
        logits = hf(input_ids=torch.tensor([out]), use_cache=False).logits[0]
    for position in range(len(prompt), max_length):
        top3 = torch.topk(logits[position - 1], 3).indices.tolist()
        assert out[position] in top3
