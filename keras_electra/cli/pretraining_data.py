"""Pack pre-training text into fixed-length token-id batches.

A small adapter for the command line: documents (lists of paragraphs) are
WordPiece-tokenized, each document's tokens are concatenated and cut into
windows of `sequence_length - 2` tokens, each framed as `[CLS] ... [SEP]`
(one segment) and padded. Windows never cross a document boundary.
"""

import numpy as np


def pack_documents(documents, tokenizer, sequence_length, batch_size=1024):
    """Token ids, segment ids and padding mask of packed `documents`.

    Args:
        documents: a list of documents, each a list of strings.
        tokenizer: an `ElectraTokenizer`.
        sequence_length: int. Length of every packed sequence.

    Returns:
        A dict of int32 numpy arrays `[num_sequences, sequence_length]`:
        `"token_ids"`, `"segment_ids"`, `"padding_mask"`.
    """
    if sequence_length < 3:
        raise ValueError(
            f"`sequence_length` must be at least 3. Received: {sequence_length}"
        )
    lines, owners = [], []
    for d, document in enumerate(documents):
        lines += list(document)
        owners += [d] * len(document)
    body = sequence_length - 2
    windows = []
    current, current_doc = [], None
    for start in range(0, len(lines), batch_size):
        ids = tokenizer(lines[start : start + batch_size])
        ids = ids.to_list() if hasattr(ids, "to_list") else list(ids)
        for owner, row in zip(owners[start : start + batch_size], ids):
            if owner != current_doc:
                windows += _cut(current, body)
                current, current_doc = [], owner
            current.extend(int(t) for t in row)
    windows += _cut(current, body)
    if not windows:
        raise ValueError("The pre-training text is empty.")
    token_ids = np.full(
        (len(windows), sequence_length), tokenizer.pad_token_id, "int32"
    )
    padding_mask = np.zeros_like(token_ids)
    for i, window in enumerate(windows):
        row = [tokenizer.cls_token_id] + window + [tokenizer.sep_token_id]
        token_ids[i, : len(row)] = row
        padding_mask[i, : len(row)] = 1
    return {
        "token_ids": token_ids,
        "segment_ids": np.zeros_like(token_ids),
        "padding_mask": padding_mask,
    }


def _cut(tokens, body):
    # Drop a last window shorter than a quarter of the body (mostly padding).
    return [
        tokens[i : i + body]
        for i in range(0, len(tokens), body)
        if len(tokens[i : i + body]) >= max(1, body // 4)
    ]
