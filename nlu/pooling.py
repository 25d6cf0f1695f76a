"""Mean pooling: the sentence embedding the base encoder was trained to produce.

The packaged all-MiniLM-L6-v2 is a sentence-transformers model: its useful output is
the mean of the last layer's token vectors, not the `[CLS]` pooler a
`BertForSequenceClassification` head reads by default. Models trained with
`pooling="mean"` keep the standard `save_pretrained` layout (encoder plus a linear
`classifier`), and their head reads the unit-length mean-pooled embedding instead.
Imports torch: load this module only where torch is needed anyway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from transformers.modeling_outputs import SequenceClassifierOutput

if TYPE_CHECKING:
    from transformers import PreTrainedModel


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean of the token vectors of each message, padding excluded."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)


def mean_pooled_logits(
    model: PreTrainedModel, enc: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (logits, mean-pooled features) of a tokenised batch."""
    hidden = model.base_model(**enc).last_hidden_state
    pooled = mean_pool(hidden, enc["attention_mask"])
    head: torch.nn.Module = model.classifier  # type: ignore[assignment]
    return head(torch.nn.functional.normalize(pooled, dim=-1)), pooled


def supports_mean_pooling(model: PreTrainedModel) -> bool:
    """Whether `model.classifier` is a single linear layer over the hidden size."""
    head = getattr(model, "classifier", None)
    hidden = int(getattr(model.config, "hidden_size", -1))
    return isinstance(head, torch.nn.Linear) and head.in_features == hidden


class ModelView(torch.nn.Module):
    """A module around a sequence classifier, held as `self.model`.

    Training (`MeanPoolingClassifier`) and the ONNX export (`nlu.export`) each give the
    classifier their own `forward`; the parameters keep their `model.` names.
    """

    def __init__(self, model: PreTrainedModel) -> None:
        super().__init__()
        self.model = model

    @staticmethod
    def encoder_inputs(
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None,
    ) -> dict[str, torch.Tensor]:
        """The encoder's keyword arguments; `token_type_ids` only where the tokenizer makes them."""
        enc = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            enc["token_type_ids"] = token_type_ids
        return enc


class MeanPoolingClassifier(ModelView):
    """Training view of a sequence classifier whose head reads the mean-pooled embedding.

    The Trainer optimises this wrapper; the wrapped model is what gets saved.
    """

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
    ) -> SequenceClassifierOutput:
        enc = self.encoder_inputs(input_ids, attention_mask, token_type_ids)
        logits, _ = mean_pooled_logits(self.model, enc)
        loss = None if labels is None else torch.nn.functional.cross_entropy(logits, labels)
        return SequenceClassifierOutput(loss=loss, logits=logits)
