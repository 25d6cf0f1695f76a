"""SASRec (Kang & McAuley 2018): a causal self-attention encoder over a shopper's items.

Item embeddings (tied with the output layer) plus learned positional embeddings feed
`blocks` pre-norm Transformer blocks with causal attention; the hidden state at each
position scores every catalogue item by a dot product with its embedding. Sequences
are left-padded with index 0 and padding never takes part in attention.

`full_softmax_loss` is the exact cross-entropy over the whole catalogue, computed in
blocks of positions so the `[positions, items]` logits never exist at once: on CPU
that matrix does not fit in cache, and writing and re-reading it costs about half of
a training step.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

LOSS_CHUNK = 64


class _FullSoftmaxLoss(torch.autograd.Function):
    """Mean cross-entropy of `states @ weight.T` against `targets`, in row blocks.

    Forward keeps only each row's log-sum-exp; backward recomputes a block's logits,
    turns them into `softmax - onehot` and accumulates both gradients.
    """

    @staticmethod
    def forward(
        ctx: Any, states: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, chunk: int
    ) -> torch.Tensor:
        lse = torch.empty(states.shape[0], dtype=states.dtype)
        for start in range(0, states.shape[0], chunk):
            block = states[start : start + chunk] @ weight.T
            lse[start : start + chunk] = torch.logsumexp(block, dim=1)
        target_logits = (states * weight[targets]).sum(1)
        ctx.save_for_backward(states, weight, targets, lse)
        ctx.chunk = chunk
        return (lse - target_logits).mean()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> Any:
        states, weight, targets, lse = ctx.saved_tensors
        n = states.shape[0]
        grad_states = torch.empty_like(states)
        grad_weight = torch.zeros_like(weight)
        scale = grad / n
        for start in range(0, n, ctx.chunk):
            rows = states[start : start + ctx.chunk]
            probs = torch.exp(rows @ weight.T - lse[start : start + ctx.chunk, None])
            probs[torch.arange(rows.shape[0]), targets[start : start + ctx.chunk]] -= 1.0
            probs *= scale
            grad_states[start : start + ctx.chunk] = probs @ weight
            grad_weight.addmm_(probs.T, rows)
        return grad_states, grad_weight, None, None


def full_softmax_loss(
    states: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, chunk: int = LOSS_CHUNK
) -> torch.Tensor:
    """Mean cross-entropy over all items: the same value and gradients as
    `F.cross_entropy(states @ weight.T, targets)`, with far less memory traffic.

    Args:
        states: `[n, hidden]` hidden states.
        weight: `[n_items, hidden]` output embeddings.
        targets: `[n]` 0-based item columns.
        chunk: rows per block.
    """
    loss: torch.Tensor = _FullSoftmaxLoss.apply(states, weight, targets, chunk)
    return loss


class _Block(nn.Module):
    def __init__(self, hidden: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(hidden)
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.proj = nn.Linear(hidden, hidden)
        self.norm2 = nn.LayerNorm(hidden)
        self.ff1 = nn.Linear(hidden, hidden)
        self.ff2 = nn.Linear(hidden, hidden)
        self.dropout = nn.Dropout(dropout)
        self.attn_dropout = dropout

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, length, hidden = x.shape
        q, k, v = self.qkv(self.norm1(x)).split(hidden, dim=-1)
        shape = (batch, length, self.heads, hidden // self.heads)
        q, k, v = (t.reshape(shape).transpose(1, 2) for t in (q, k, v))
        attn = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=self.attn_dropout if self.training else 0.0
        )
        x = x + self.dropout(self.proj(attn.transpose(1, 2).reshape(batch, length, hidden)))
        h = self.ff2(self.dropout(F.gelu(self.ff1(self.norm2(x)))))
        return x + self.dropout(h)


class SASRec(nn.Module):
    """The sequential recommender network.

    Args:
        n_items: catalogue size (item indices 1..n_items; 0 is padding).
        hidden: embedding width.
        blocks: self-attention blocks.
        heads: attention heads.
        dropout: dropout rate.
        max_len: longest input sequence (positions).
    """

    def __init__(
        self, n_items: int, hidden: int, blocks: int, heads: int, dropout: float, max_len: int
    ) -> None:
        super().__init__()
        self.n_items = n_items
        self.max_len = max_len
        self.item_emb = nn.Embedding(n_items + 1, hidden, padding_idx=0)
        self.pos_emb = nn.Embedding(max_len, hidden)
        self.emb_dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(_Block(hidden, heads, dropout) for _ in range(blocks))
        self.norm = nn.LayerNorm(hidden)
        self.scale = math.sqrt(hidden)
        nn.init.normal_(self.item_emb.weight, std=hidden**-0.5)
        nn.init.normal_(self.pos_emb.weight, std=hidden**-0.5)
        with torch.no_grad():
            self.item_emb.weight[0].zero_()

    def encode(self, seqs: torch.Tensor) -> torch.Tensor:
        """Hidden states `[batch, length, hidden]` of left-padded index sequences.

        The state at a position depends only on the items up to it.
        """
        _, length = seqs.shape
        valid = seqs > 0
        positions = torch.arange(self.max_len - length, self.max_len, device=seqs.device)
        x = self.item_emb(seqs) * self.scale + self.pos_emb(positions)
        x = self.emb_dropout(x) * valid.unsqueeze(-1)
        causal = torch.ones(length, length, dtype=torch.bool, device=seqs.device).tril()
        # A query may see earlier real items, and always itself (so padding rows stay finite).
        mask = (causal & valid[:, None, :]) | torch.eye(length, dtype=torch.bool)
        mask = mask.unsqueeze(1)
        for block in self.blocks:
            x = block(x, mask)
        return self.norm(x)

    def loss(self, states: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Full softmax cross-entropy of states `[n, hidden]` against item indices `[n]`."""
        return full_softmax_loss(states, self.item_emb.weight[1:], targets - 1)

    def item_logits(self, states: torch.Tensor) -> torch.Tensor:
        """Scores `[..., n_items]` of items 1..n_items (column j is item j + 1)."""
        return states @ self.item_emb.weight[1:].T

    def last_state(self, seqs: torch.Tensor) -> torch.Tensor:
        """The hidden state after each sequence's last item, `[batch, hidden]`."""
        return self.encode(seqs)[:, -1]
