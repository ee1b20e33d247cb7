"""The forecasting networks of seeds 001 and 000 in PyTorch: the BiLSTM digital twin and the CNN-BiLSTM with squeeze-excitation."""

from __future__ import annotations

try:
    import torch
    from torch import nn
except ImportError as exc:  # pragma: no cover
    raise ImportError('oran_gym.agents.forecast_models needs torch: pip install torch==2.13.0 && pip install "oran-gym[agents]"') from exc



BILSTM_NORMS = ("none", "layer", "batch")
"""Normalisation after each BiLSTM layer: none (the default), per-step LayerNorm, or the paper's literal BatchNorm."""


class BiLSTMForecaster(nn.Module):
    """BiLSTM 128 -> 128 -> 64 (dropout 0.2), Dense 64 -> 1: `[N, window, features]` -> `[N]`.

    Seed 001 lists "BatchNorm" after each BiLSTM. On a `[N, window, C]` sequence, Keras's
    `BatchNormalization` pools its statistics over the batch *and* time, and so did this class until
    issue 16: on the operator trace it gave training MAE 21 and test MAE 56.5, because the running
    statistics of the training months do not fit the test weeks. `norm="none"` (the default) drops
    it, `norm="layer"` normalises each step of each sample on its own (nothing shared across time or
    samples), and `norm="batch"` keeps the paper-literal layer for the ablation.
    """

    def __init__(self, num_features: int, units: tuple[int, ...] = (128, 128, 64), dropout: float = 0.2, dense: int = 64,
                 norm: str = "none") -> None:
        """Layer widths after the paper's Table I."""
        super().__init__()
        if norm not in BILSTM_NORMS:
            raise ValueError(f"norm must be one of {BILSTM_NORMS}, got {norm!r}")
        self.norm_kind = norm
        self.lstms = nn.ModuleList()
        self.norms = nn.ModuleList()
        width = num_features
        for u in units:
            self.lstms.append(nn.LSTM(width, u, batch_first=True, bidirectional=True))
            self.norms.append({"none": nn.Identity, "layer": nn.LayerNorm, "batch": nn.BatchNorm1d}[norm](2 * u))
            width = 2 * u
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Sequential(nn.Linear(width, dense), nn.ReLU(), nn.Linear(dense, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Forecast of the next target value."""
        h = x
        for lstm, norm in zip(self.lstms, self.norms):
            h, _ = lstm(h)
            h = norm(h.transpose(1, 2)).transpose(1, 2) if self.norm_kind == "batch" else norm(h)
            h = self.dropout(h)
        return self.head(h[:, -1]).squeeze(-1)


class SqueezeExcitation(nn.Module):
    """Channel attention: global average pool over length, bottleneck MLP, sigmoid gate."""

    def __init__(self, channels: int, reduction: int = 4) -> None:
        """`channels` gated by a `channels / reduction` bottleneck."""
        super().__init__()
        hidden = max(1, channels // reduction)
        self.gate = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, channels), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """`[N, C, L]` -> `[N, C, L]`."""
        return x * self.gate(x.mean(dim=2)).unsqueeze(-1)


class CNNBiLSTMRegressor(nn.Module):
    """Seed 000's model: the feature vector is read as a 1-channel sequence.

    Conv1D(filters, kernel, same padding) + ReLU -> SE -> MaxPool(2) -> dropout -> BiLSTM x
    num_layers -> self-attention over the sequence, concatenated with the BiLSTM output ->
    linear Dense on the last position.
    """

    def __init__(self, num_features: int, filters: int = 32, kernel_size: int = 4, n_units: int = 224, num_layers: int = 3,
                 dropout: float = 0.079) -> None:
        """Defaults: the paper's final settings."""
        super().__init__()
        # "same" length with explicit (asymmetric for even kernels) zero padding
        self.pad = ((kernel_size - 1) // 2, kernel_size // 2)
        self.conv = nn.Conv1d(1, filters, kernel_size)
        self.se = SqueezeExcitation(filters)
        self.pool = nn.MaxPool1d(2) if num_features >= 2 else nn.Identity()
        self.dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(filters, n_units, num_layers=num_layers, batch_first=True, bidirectional=True,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.attention = nn.MultiheadAttention(2 * n_units, num_heads=1, batch_first=True)
        self.head = nn.Linear(4 * n_units, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """`[N, F]` -> `[N]`."""
        h = torch.relu(self.conv(nn.functional.pad(x.unsqueeze(1), self.pad)))  # [N, filters, F]
        h = self.dropout(self.pool(self.se(h)))  # [N, filters, F / 2]
        seq, _ = self.lstm(h.transpose(1, 2))  # [N, L, 2 units]
        att, _ = self.attention(seq, seq, seq)
        return self.head(torch.cat([seq, att], dim=2)[:, -1]).squeeze(-1)


class KerasCNNBiLSTMRegressor(nn.Module):
    """Seed 000's model as its Keras code builds it (issue 16), beside our `CNNBiLSTMRegressor`.

    Conv1D(filters, kernel, **valid** padding) + ReLU -> SE -> MaxPool(2) -> dropout -> BiLSTM x
    num_layers (return sequences) -> Keras's parameter-free dot-product `Attention()([seq, seq])`,
    concatenated with the BiLSTM output -> **Flatten** -> Dense(1). With the paper's settings on the
    5 QoS features the sequence after the pool has length 1, and the model has ~2.88M parameters
    (Keras counts ~2.87M: PyTorch's LSTM has two bias vectors per gate where Keras has one).
    """

    def __init__(self, num_features: int, filters: int = 32, kernel_size: int = 4, n_units: int = 224, num_layers: int = 3,
                 dropout: float = 0.079) -> None:
        """Defaults: the paper's final settings; `num_features` must be >= `kernel_size` (valid padding)."""
        super().__init__()
        if num_features < kernel_size:
            raise ValueError(f"valid padding needs num_features >= kernel_size, got {num_features} < {kernel_size}")
        self.conv = nn.Conv1d(1, filters, kernel_size)
        self.se = SqueezeExcitation(filters)
        conv_len = num_features - kernel_size + 1
        self.pool = nn.MaxPool1d(2) if conv_len >= 2 else nn.Identity()
        seq_len = conv_len // 2 if conv_len >= 2 else conv_len
        self.dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(filters, n_units, num_layers=num_layers, batch_first=True, bidirectional=True,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.head = nn.Linear(seq_len * 4 * n_units, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """`[N, F]` -> `[N]`."""
        h = torch.relu(self.conv(x.unsqueeze(1)))  # [N, filters, F - k + 1]
        h = self.dropout(self.pool(self.se(h)))
        seq, _ = self.lstm(h.transpose(1, 2))  # [N, L, 2 units]
        weights = torch.softmax(seq @ seq.transpose(1, 2), dim=-1)  # Keras Attention(): scores q k^T, no scale, no weights
        att = weights @ seq
        return self.head(torch.cat([seq, att], dim=2).flatten(1)).squeeze(-1)
