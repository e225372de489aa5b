"""Plain PyTorch: the models, local training and evaluation, and model arrays in and out."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from bcfl.learning.data.dataset import Examples, ModelSpec


class TabularNet(nn.Module):
    """A small MLP for an encoded EHR table, with one logit out (binary label)."""

    def __init__(self, n_features: int, hidden: int = 16) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits, shape (batch,)."""
        out: torch.Tensor = self.layers(x).squeeze(-1)
        return out


class PatchCNN(nn.Module):
    """A small CNN for square image patches: two conv blocks, then a linear classifier.

    One logit out for two classes, one per class otherwise.
    """

    def __init__(self, channels: int, size: int, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Linear(32 * (size // 4) ** 2, 1 if num_classes == 2 else num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits: shape (batch,) for two classes, (batch, classes) otherwise."""
        out: torch.Tensor = self.classifier(self.features(x).flatten(1))
        return out.squeeze(-1) if out.shape[-1] == 1 else out


def use_threads(threads: int) -> None:
    """Train and evaluate with ``threads`` intra-op threads in this process (the node's
    ``torch-threads``): several hospitals sharing a few cores each run fastest with one."""
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def build_model(spec: ModelSpec, seed: int = 0) -> nn.Module:
    """The consortium's model for ``spec``, initialised the same way everywhere for a given seed."""
    torch.manual_seed(seed)
    if len(spec.input_shape) == 1 and spec.num_classes == 2:
        return TabularNet(spec.input_shape[0])
    if len(spec.input_shape) == 3 and spec.input_shape[1] == spec.input_shape[2]:
        channels, size, _ = spec.input_shape
        return PatchCNN(channels, size, spec.num_classes)
    raise ValueError(f"no model for inputs {spec.input_shape} with {spec.num_classes} classes")


def loss_of(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean binary (one logit) or multi-class cross-entropy."""
    if logits.ndim == 1:
        return nn.functional.binary_cross_entropy_with_logits(logits, labels)
    return nn.functional.cross_entropy(logits, labels.long())


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


def train(model: nn.Module, data: Examples, *, epochs: int, lr: float, batch_size: int, seed: int) -> float:
    """Train in place with Adam on cross-entropy; returns the mean loss of the last epoch."""
    generator = torch.Generator().manual_seed(seed)
    features, labels = torch.from_numpy(data.features), torch.from_numpy(data.labels)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    last = 0.0
    for _ in range(epochs):
        order = torch.randperm(len(labels), generator=generator)
        total = 0.0
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = loss_of(model(features[batch]), labels[batch])
            torch.autograd.backward(loss)
            optimizer.step()
            total += loss.item() * len(batch)
        last = total / max(1, len(labels))
    return last


def evaluate(model: nn.Module, data: Examples) -> dict[str, float]:
    """Loss, accuracy and AUROC (one-vs-rest, macro-averaged over classes when more than two)."""
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(data.features))
        loss = float(loss_of(logits, torch.from_numpy(data.labels)))
    if logits.ndim == 1:
        scores = torch.sigmoid(logits).numpy()
        predicted = (scores >= 0.5).astype(np.float32)
        area = auroc(data.labels, scores)
    else:
        probabilities = torch.softmax(logits, dim=1).numpy()
        predicted = probabilities.argmax(axis=1).astype(np.float32)
        classes = range(probabilities.shape[1])
        area = float(
            np.mean([auroc((data.labels == k).astype(np.float32), probabilities[:, k]) for k in classes])
        )
    accuracy = float((predicted == data.labels).mean()) if len(data) else 0.0
    return {"loss": loss, "accuracy": accuracy, "auroc": area}


def auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half); 0.5 when one class is absent."""
    positives, negatives = scores[labels >= 0.5], scores[labels < 0.5]
    if len(positives) == 0 or len(negatives) == 0:
        return 0.5
    greater = (positives[:, None] > negatives[None, :]).sum()
    ties = (positives[:, None] == negatives[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(positives) * len(negatives)))
