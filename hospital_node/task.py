"""Plain PyTorch: the models, local training and evaluation, and model arrays in and out."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from hospital_node.data.tabular import EncodedTable


class TabularNet(nn.Module):
    """A small MLP for an encoded EHR table, with one logit out (binary label)."""

    def __init__(self, n_features: int, hidden: int = 16) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits, shape (batch,)."""
        out: torch.Tensor = self.layers(x).squeeze(-1)
        return out


def build_model(n_features: int, seed: int = 0) -> TabularNet:
    """The consortium's model, initialised the same way everywhere for a given seed."""
    torch.manual_seed(seed)
    return TabularNet(n_features)


def get_arrays(model: nn.Module) -> OrderedDict[str, np.ndarray]:
    """The model's parameters and buffers as numpy arrays, in state-dict order."""
    return OrderedDict(
        (name, tensor.detach().cpu().numpy().copy()) for name, tensor in model.state_dict().items()
    )


def set_arrays(model: nn.Module, arrays: dict[str, np.ndarray]) -> None:
    """Load arrays (as from :func:`get_arrays`) into the model; names and shapes must match."""
    model.load_state_dict(
        OrderedDict((name, torch.from_numpy(np.asarray(a))) for name, a in arrays.items()), strict=True
    )


def train(
    model: nn.Module, data: EncodedTable, *, epochs: int, lr: float, batch_size: int, seed: int
) -> float:
    """Train in place with Adam on binary cross-entropy; returns the mean loss of the last epoch."""
    generator = torch.Generator().manual_seed(seed)
    features, labels = torch.from_numpy(data.features), torch.from_numpy(data.labels)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.BCEWithLogitsLoss()
    model.train()
    last = 0.0
    for _ in range(epochs):
        order = torch.randperm(len(labels), generator=generator)
        total = 0.0
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(features[batch]), labels[batch])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        last = total / max(1, len(labels))
    return last


def evaluate(model: nn.Module, data: EncodedTable) -> dict[str, float]:
    """Loss, accuracy (threshold 0.5) and AUROC on ``data``."""
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(data.features))
        labels = torch.from_numpy(data.labels)
        loss = float(nn.functional.binary_cross_entropy_with_logits(logits, labels))
        scores = torch.sigmoid(logits).numpy()
    accuracy = float(((scores >= 0.5) == (data.labels >= 0.5)).mean()) if len(data) else 0.0
    return {"loss": loss, "accuracy": accuracy, "auroc": auroc(data.labels, scores)}


def auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half); 0.5 when one class is absent."""
    positives, negatives = scores[labels >= 0.5], scores[labels < 0.5]
    if len(positives) == 0 or len(negatives) == 0:
        return 0.5
    greater = (positives[:, None] > negatives[None, :]).sum()
    ties = (positives[:, None] == negatives[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(positives) * len(negatives)))
