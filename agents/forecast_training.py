"""Training the forecasters: windows and chronological splits, the weighted-MSE fit loop with early stopping, batched prediction."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

try:
    import torch
    from torch import nn
except ImportError as exc:  # pragma: no cover
    raise ImportError('oran_gym.agents.forecast_training needs torch: pip install torch==2.13.0 && pip install "oran-gym[agents]"') from exc



def weighted_mse(pred: torch.Tensor, target: torch.Tensor, mean: float) -> torch.Tensor:
    """Seed 000's weighted MSE: weights exp(|y - mean(y)|) emphasise rare, extreme targets."""
    return torch.mean(torch.exp(torch.abs(target - mean)) * (pred - target) ** 2)


def pinball_loss(pred: torch.Tensor, target: torch.Tensor, quantile: float) -> torch.Tensor:
    """Quantile (pinball) loss: its minimiser is the `quantile`-th quantile of the target given the input."""
    diff = target - pred
    return torch.mean(torch.maximum(quantile * diff, (quantile - 1.0) * diff))


def fit_torch_regressor(
    model: nn.Module,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    optimizer: str = "adam",
    lr: float = 1e-3,
    patience: int = 5,
    loss: str = "mse",
    seed: int = 0,
    scheduler: bool = False,
    report: Any = None,
    quantile: float = 0.5,
) -> dict[str, Any]:
    """Train with early stopping on the validation loss; restores the best weights.

    `loss="weighted"` uses seed 000's weighted MSE, `loss="pinball"` the quantile loss at
    `quantile` (a quantile forecaster). `report(epoch, val_loss)` is called every
    epoch (Optuna pruning raises from it).
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    xt, yt = torch.as_tensor(x_train, dtype=torch.float32), torch.as_tensor(y_train, dtype=torch.float32)
    xv, yv = torch.as_tensor(x_val, dtype=torch.float32), torch.as_tensor(y_val, dtype=torch.float32)
    losses = ("mse", "weighted", "pinball")
    if loss not in losses:
        raise ValueError(f"loss must be one of {losses}, got {loss!r}")
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must lie in (0, 1), got {quantile!r}")
    opts = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "rmsprop": torch.optim.RMSprop, "sgd": torch.optim.SGD}
    if optimizer not in opts:
        raise ValueError(f"optimizer must be one of {sorted(opts)}, got {optimizer!r}")
    opt = opts[optimizer](model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2) if scheduler else None
    mean = float(yt.mean())

    def loss_fn(p, t):
        if loss == "pinball":
            return pinball_loss(p, t, quantile)
        return weighted_mse(p, t, mean) if loss == "weighted" else torch.mean((p - t) ** 2)

    best, best_state, wait = math.inf, None, 0
    history = {"train": [], "val": []}
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for k in range(0, len(xt), batch_size):
            idx = perm[k : k + batch_size]
            if len(idx) < 2 and any(isinstance(m, nn.BatchNorm1d) for m in model.modules()):
                continue  # batch norm needs two samples
            opt.zero_grad()
            batch_loss = loss_fn(model(xt[idx]), yt[idx])
            batch_loss.backward()
            opt.step()
            total += float(batch_loss.detach()) * len(idx)
        model.eval()
        with torch.no_grad():
            val = float(loss_fn(model(xv), yv)) if len(xv) else total / len(xt)
        history["train"].append(total / len(xt))
        history["val"].append(val)
        if sched:
            sched.step(val)
        if report:
            report(epoch, val)
        if val < best - 1e-12:
            best, wait = val, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            wait += 1
            if wait >= patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    history["best_val"] = best
    history["epochs_run"] = len(history["val"])
    return history


@torch.no_grad()
def predict(model: nn.Module, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """Batched inference."""
    model.eval()
    out = [model(torch.as_tensor(x[k : k + batch_size], dtype=torch.float32)).numpy() for k in range(0, len(x), batch_size)]
    return np.concatenate(out) if out else np.zeros(0)


def make_windows(values: np.ndarray, target: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`X[i] = values[i : i + window]`, `y[i] = target[i + window]`; also returns the target index.

    No look-ahead: every input row precedes its target.
    """
    values, target = np.asarray(values), np.asarray(target)
    n = len(values) - window
    if n <= 0:
        raise ValueError(f"series of {len(values)} samples is too short for window {window}")
    idx = np.arange(n)[:, None] + np.arange(window)[None, :]
    return values[idx], target[window:], np.arange(window, len(values))


def chronological_split(n: int, test_fraction: float = 0.2, val_fraction: float = 0.2) -> tuple[slice, slice, slice]:
    """Train, validation, test slices in time order: the last `test_fraction` is the test set and
    the last `val_fraction` of the rest the validation set."""
    n_test = int(round(n * test_fraction))
    n_trainval = n - n_test
    n_val = int(round(n_trainval * val_fraction))
    return slice(0, n_trainval - n_val), slice(n_trainval - n_val, n_trainval), slice(n_trainval, n)


def load_verified(path: str | Path, kind: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """`torch.load` of a file saved with a manifest: verified first, then checked for the keys it must hold.

    Every failure is one `oran_gym.artefacts.ArtefactError` naming the file and the problem.
    """
    from oran_gym.artefacts import ArtefactError, verify

    verify(path, kind)
    try:
        blob = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # the digest matched, so this is a file the manifest was written for, yet unreadable
        raise ArtefactError(f"{path}: cannot be read as a {kind} ({type(exc).__name__}: {exc})") from None
    missing = [k for k in keys if not isinstance(blob, dict) or k not in blob]
    if missing:
        raise ArtefactError(f"{path}: not a {kind} file (missing {', '.join(missing)})")
    return blob
