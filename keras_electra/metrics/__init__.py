"""Scores of ELECTRA's fine-tuning tasks, as their official scripts compute
them (plain Python, no Keras).

- `seqeval`: entity-level precision, recall and F1 of tagged sequences
  (conlleval's chunking rules, which the `seqeval` package uses);
- `squad`: SQuAD 1.1 and 2.0 exact match and F1, and `read_squad`, which
  flattens a SQuAD JSON for prediction.

`ElectraTokenClassifier.evaluate_entities` and
`ElectraQuestionAnswerer.predict_squad` use them; `keras_electra.finetuning`
exports them too.
"""

from keras_electra.metrics.seqeval import entity_scores
from keras_electra.metrics.seqeval import get_entities
from keras_electra.metrics.squad import evaluate_v1 as squad_v1_scores
from keras_electra.metrics.squad import evaluate_v2 as squad_v2_scores
from keras_electra.metrics.squad import read_squad
