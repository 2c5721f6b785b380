"""Packs a stream of tokenized lines into ELECTRA pre-training examples."""

# Google's `build_pretraining_dataset.py`: share of single-segment examples
# and of examples with a random (short) target length.
SINGLE_SEGMENT_RATE = 0.1
SHORT_TARGET_RATE = 0.05
# The smallest random target length (`random.randint(5, max_length)`).
MIN_SHORT_TARGET = 5


class ExampleBuilder:
    """Google's `ExampleBuilder`, on token ids, with an explicit RNG.

    Lines (paragraphs) are added one at a time. When the collected lines
    reach the target length, or a blank line ends a document, they become
    one example `[CLS] A [SEP] B [SEP]`:

    - 10% of examples have a single segment (`[CLS] A [SEP]`); otherwise
      segment A takes lines until it would pass half the target length
      (a line that would cross it goes to A with probability 0.5 if B is
      still empty), and the remaining lines form B;
    - A is cut to `max_length - 2` tokens and B to what is left after
      `[CLS]`, A and two `[SEP]`s;
    - after each example, the next target length is random in
      `[5, max_length]` with probability 0.05, else `max_length`.

    The RNG (a `random.Random`) is called in exactly the order of Google's
    code, so the same RNG state gives the same decisions.

    Args:
        max_length: int. The sequence length of the examples.
        cls_token_id: int.
        sep_token_id: int.
        rng: a `random.Random`.
    """

    def __init__(self, max_length, cls_token_id, sep_token_id, rng):
        if max_length < 3:
            raise ValueError(
                "`max_length` must be at least 3 ([CLS] A [SEP]). Received: "
                f"{max_length}"
            )
        self.max_length = max_length
        self.cls_token_id = cls_token_id
        self.sep_token_id = sep_token_id
        self.rng = rng
        self.sentences = []
        self.length = 0
        self.target_length = max_length

    def add_line(self, token_ids):
        """Add one tokenized line; `[]` is a blank line (document break).

        Returns:
            `None`, or an example `(token_ids, segment_ids)` (lists of at
            most `max_length` ints, not padded).
        """
        if not token_ids:
            if self.length != 0:
                return self._create_example()
            return None
        self.sentences.append(list(token_ids))
        self.length += len(token_ids)
        if self.length >= self.target_length:
            return self._create_example()
        return None

    def _create_example(self):
        if self.rng.random() < SINGLE_SEGMENT_RATE:
            first_target = 100000  # Everything goes to segment A.
        else:
            # -3 for the [CLS] and two [SEP] tokens still to come.
            first_target = (self.target_length - 3) // 2

        first, second = [], []
        for sentence in self.sentences:
            # To A if A is empty, if it stays under its target, or (half of
            # the time) for the sentence that crosses it while B is empty.
            if (
                not first
                or len(first) + len(sentence) < first_target
                or (
                    not second
                    and len(first) < first_target
                    and self.rng.random() < 0.5
                )
            ):
                first += sentence
            else:
                second += sentence

        first = first[: self.max_length - 2]
        second = second[: max(0, self.max_length - len(first) - 3)]

        self.sentences = []
        self.length = 0
        if self.rng.random() < SHORT_TARGET_RATE:
            self.target_length = self.rng.randint(
                MIN_SHORT_TARGET, self.max_length
            )
        else:
            self.target_length = self.max_length
        return self._pack(first, second)

    def _pack(self, first, second):
        token_ids = [self.cls_token_id] + first + [self.sep_token_id]
        segment_ids = [0] * len(token_ids)
        if second:
            token_ids += second + [self.sep_token_id]
            segment_ids += [1] * (len(second) + 1)
        return token_ids, segment_ids

    def get_state(self):
        """The pending lines and target length (not the RNG)."""
        return {
            "sentences": [list(s) for s in self.sentences],
            "length": self.length,
            "target_length": self.target_length,
        }

    def set_state(self, state):
        self.sentences = [list(s) for s in state["sentences"]]
        self.length = state["length"]
        self.target_length = state["target_length"]
