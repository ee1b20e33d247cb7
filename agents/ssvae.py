"""The paper's semi-supervised VAE with contrastive learning (SS-VAE, sections 5.3.1-5.3.3) as a policy.

Input: the flattened channel-gain tensor `[B, U, M]` (dB, scaled to [0, 1] as in the env's
observations) and the offered loads `[U]`. An encoder maps it to a 20-dimensional latent space;
a decoder reconstructs the input (ELBO: reconstruction + KL, eq. 23); heads on the encoder's
representation predict the allocation: the owner of every PRB (idle or a UE), its power level,
its normalised power, and every UE's association. Losses:

* supervised (eq. 24) on oracle-labelled samples: cross-entropy on owner, level and association,
  squared error on the normalised power;
* NT-Xent (eq. 26, temperature 0.25) between two views of the same drop (same large-scale
  fading, small-scale fading redrawn), every other drop in the batch being a negative; labelled
  and unlabelled drops both take part;
* ELBO on every sample.

The allocation heads are shared by every PRB: each PRB's owner, level and power come from the
shared representation (encoder output and latent mean) together with that PRB's gains to every
UE, so every head weight learns from all `B M` PRBs of a sample. (A head per PRB on the flat
representation, tried first, did not learn the per-PRB assignment from a few thousand samples.)

Decoding turns the heads' output into a valid allocation: association first, then how many PRBs
each RU serves and each UE gets (the RU's expected count, shared by largest remainder), each
PRB's owner among idle and the UEs associated with its RU, the most likely level, and finally RU
powers lowered level by level (highest-power PRB first) until the RU and fronthaul limits hold.

Table V defaults: Adam(W) lr 1e-3, betas (0.99, 0.99), weight decay 0.9 (decoupled, AdamW),
latent 20, ReLU, dropout 0.3, 40 epochs, batch 128, 20 % validation, temperature 0.25. Table V's
"number of encoding layers: 20" cannot be an MLP depth that trains; we use two hidden layers
(256, 128) and keep the 20 as the latent width it repeats.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

try:
    import torch
    from torch import nn
    from torch.nn import functional as F
except ImportError as exc:  # pragma: no cover
    raise ImportError('oran_gym.agents.ssvae needs torch: pip install torch==2.13.0 && pip install "oran-gym[agents]"') from exc

from oran_gym.baselines.common import AllocationPolicy, ru_power_limit_w

from oran_gym import Allocation, ScenarioConfig, evaluate_allocation
from oran_gym.allocation import AllocationMetrics, scenario_arrays
from oran_gym.artefacts import write_manifest
from oran_gym.sim import kernels

__all__ = [
    "SSVAEConfig",
    "SemiSupervisedVAE",
    "features",
    "targets",
    "decode_allocation",
    "train_ssvae",
    "SSVAEPolicy",
    "power_metrics",
    "alpha_beta_error_pct",
    "gap_metrics",
    "allocation_metrics",
    "save_ssvae",
    "load_ssvae",
]


@dataclasses.dataclass
class SSVAEConfig:
    """Model and training hyper-parameters (defaults: the paper's Table V where it gives them)."""

    latent_dim: int = 20
    hidden_sizes: tuple[int, ...] = (256, 128)
    dropout: float = 0.3
    learning_rate: float = 1e-3
    betas: tuple[float, float] = (0.99, 0.99)
    weight_decay: float = 0.9
    epochs: int = 40
    batch_size: int = 128
    validation_split: float = 0.2
    temperature: float = 0.25
    kl_weight: float = 1e-3
    reconstruction_weight: float = 1.0
    contrastive_weight: float = 0.1
    use_reconstruction: bool = True
    use_contrastive: bool = True
    variational: bool = True
    unlabelled_per_labelled: float = 2.0
    prb_head_hidden: int = 128
    schedule: str = "joint"
    """"joint": every loss from the first epoch. "two_phase": the paper's schedule, supervised (and
    ELBO) training for `first_phase_fraction` of the epochs, then contrastive refinement with every
    loss; the kept weights are the best validation epoch of the second phase."""
    first_phase_fraction: float = 0.5
    seed: int = 0

    def __post_init__(self) -> None:
        """Reject a schedule that does not exist."""
        if self.schedule not in ("joint", "two_phase"):
            raise ValueError(f"SSVAEConfig.schedule must be 'joint' or 'two_phase', got {self.schedule!r}")
        if not 0.0 < self.first_phase_fraction < 1.0:
            raise ValueError(f"SSVAEConfig.first_phase_fraction must lie in (0, 1), got {self.first_phase_fraction!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict."""
        d = dataclasses.asdict(self)
        d["hidden_sizes"], d["betas"] = list(self.hidden_sizes), list(self.betas)
        return d


def features(cfg: ScenarioConfig, gains: np.ndarray, offered_load_bps: np.ndarray) -> np.ndarray:
    """Model input `[N, B U M + U]` (float32) from gains `[N, B, U, M]` and loads `[N, U]`."""
    gains = np.asarray(gains, dtype=np.float64)
    params, _, _ = scenario_arrays(cfg)
    n = gains.shape[0]
    gain_db = 10.0 * np.log10(np.maximum(gains, 1e-30))
    g = kernels.normalise_gain_db(gain_db.reshape(n, -1).copy())
    load = np.asarray(offered_load_bps, dtype=np.float64)
    rate = np.stack([kernels.normalise_rate_bps(row, params) for row in load])
    return np.concatenate([g, rate], axis=1).astype(np.float32)


def targets(cfg: ScenarioConfig, owner: np.ndarray, power_w: np.ndarray, assoc: np.ndarray) -> dict[str, np.ndarray]:
    """Classification/regression targets from oracle allocations `[N, B, M]`, `[N, U]`.

    `owner` class 0 is idle and u + 1 is UE u; `level` is the level index (-100, ignored, where
    idle); `assoc` class 0 is none and b + 1 is RU b; `power` is power / P_s^max of the owner.
    """
    _, ue_slice, levels = scenario_arrays(cfg)
    owner = np.asarray(owner)
    n = owner.shape[0]
    o = owner.reshape(n, -1)
    p = np.asarray(power_w).reshape(n, -1)
    served = o >= 0
    slice_of = ue_slice[np.where(served, o, 0)]
    pmax = levels[slice_of, -1]
    level = np.full(o.shape, -100, dtype=np.int64)
    for lvl in range(levels.shape[1]):
        level[served & np.isclose(p, levels[slice_of, lvl])] = lvl
    return {
        "owner": (o + 1).astype(np.int64),
        "level": level,
        "assoc": (np.asarray(assoc) + 1).astype(np.int64),
        "power": np.where(served, p / pmax, 0.0).astype(np.float32),
    }


class SemiSupervisedVAE(nn.Module):
    """Encoder -> (mu, logvar) in R^latent; decoder -> input; heads on [hidden, mu] -> allocation."""

    def __init__(self, in_dim: int, num_rus: int, num_ues: int, num_prbs: int, num_levels: int, config: SSVAEConfig) -> None:
        """Shapes from the scenario; widths from `config`."""
        super().__init__()
        self.shape = (num_rus, num_ues, num_prbs, num_levels)
        layers: list[nn.Module] = []
        width = in_dim
        for h in config.hidden_sizes:
            layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(config.dropout)]
            width = h
        self.encoder = nn.Sequential(*layers)
        self.mu = nn.Linear(width, config.latent_dim)
        self.logvar = nn.Linear(width, config.latent_dim)
        dec: list[nn.Module] = []
        dwidth = config.latent_dim
        for h in reversed(config.hidden_sizes):
            dec += [nn.Linear(dwidth, h), nn.ReLU()]
            dwidth = h
        dec.append(nn.Linear(dwidth, in_dim))
        self.decoder = nn.Sequential(*dec)
        rep = width + config.latent_dim
        # one head shared by every PRB: it sees the shared representation and that PRB's gains
        # to every UE from every RU ([B U] values) plus the PRB's RU (one-hot), so each weight
        # learns from all B M PRBs of a sample
        prb_in = rep + num_rus * num_ues + num_rus
        hidden = config.prb_head_hidden
        self.prb_head = nn.Sequential(
            nn.Linear(prb_in, hidden), nn.ReLU(), nn.Linear(hidden, (num_ues + 1) + num_levels + 1)
        )
        self.assoc_head = nn.Linear(rep, num_ues * (num_rus + 1))
        self.projection = nn.Sequential(nn.Linear(config.latent_dim, 64), nn.ReLU(), nn.Linear(64, 32))
        self.variational = config.variational

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Hidden representation, mu and logvar."""
        h = self.encoder(x)
        return h, self.mu(h), self.logvar(h).clamp(-10.0, 10.0)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Heads' logits `[N, B M, U + 1]`, `[N, B M, L]`, `[N, U, B + 1]`, power `[N, B M]`, and the VAE terms."""
        B, U, M, L = self.shape
        h, mu, logvar = self.encode(x)
        if self.variational and self.training:
            eps = torch.randn(mu.shape, generator=generator, device=mu.device)
            z = mu + eps * torch.exp(0.5 * logvar)
        else:
            z = mu
        rep = torch.cat([h, mu], dim=1)
        n = x.shape[0]
        gains = x[:, : B * U * M].view(n, B, U, M)
        # [N, B_serving, M, B_from * U]: every UE's gain from every RU on PRB m
        per_prb = gains.permute(0, 3, 1, 2).reshape(n, 1, M, B * U).expand(n, B, M, B * U)
        ru = torch.eye(B, dtype=x.dtype, device=x.device).view(1, B, 1, B).expand(n, B, M, B)
        head_in = torch.cat([rep.view(n, 1, 1, -1).expand(n, B, M, rep.shape[1]), per_prb, ru], dim=3)
        out = self.prb_head(head_in).view(n, B * M, -1)
        return {
            "owner": out[..., : U + 1],
            "level": out[..., U + 1 : U + 1 + L],
            "assoc": self.assoc_head(rep).view(n, U, B + 1),
            "power": torch.sigmoid(out[..., -1]),
            "recon": self.decoder(z),
            "mu": mu,
            "logvar": logvar,
        }


def nt_xent(a: torch.Tensor, b: torch.Tensor, temperature: float) -> torch.Tensor:
    """NT-Xent (eq. 26): views a_i, b_i of the same drop are positives; all other 2N - 2 are negatives."""
    z = F.normalize(torch.cat([a, b], dim=0), dim=1)
    sim = z @ z.T / temperature
    n = a.shape[0]
    sim = sim.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(sim, target)


def _fresh_views(cfg: ScenarioConfig, large_scale_db: np.ndarray, offered: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Features of the same drops with redrawn Rayleigh fading (|g|^2 ~ Exp(1))."""
    n = large_scale_db.shape[0]
    fading = rng.exponential(1.0, size=(n, cfg.num_rus, cfg.num_ues, cfg.num_prbs))
    gains = 10.0 ** (-large_scale_db / 10.0)[..., None] * fading
    return features(cfg, gains, offered)


def _supervised_loss(out: dict[str, torch.Tensor], t: dict[str, torch.Tensor]) -> torch.Tensor:
    owner = F.cross_entropy(out["owner"].flatten(0, 1), t["owner"].flatten())
    level_t = t["level"].flatten()
    level = F.cross_entropy(out["level"].flatten(0, 1), level_t, ignore_index=-100) if (level_t >= 0).any() else owner * 0
    assoc = F.cross_entropy(out["assoc"].flatten(0, 1), t["assoc"].flatten())
    power = F.mse_loss(out["power"], t["power"])
    return owner + level + assoc + power


def train_ssvae(
    cfg: ScenarioConfig,
    labelled: dict[str, np.ndarray],
    unlabelled: dict[str, np.ndarray] | None = None,
    config: SSVAEConfig | None = None,
    progress: bool = False,
) -> tuple[SemiSupervisedVAE, dict[str, Any]]:
    """Train on `labelled` (a dataset dict: gains, offered_load_bps, large_scale_db, owner, power_w,
    assoc) and `unlabelled` drops (gains, offered_load_bps, large_scale_db).

    Keeps the weights of the epoch with the lowest validation supervised loss. Returns the model
    (in eval mode) and a history dict.
    """
    from tqdm import tqdm

    config = config or SSVAEConfig()
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    x_lab = features(cfg, labelled["gains"], labelled["offered_load_bps"])
    t_lab = targets(cfg, labelled["owner"], labelled["power_w"], labelled["assoc"])
    n = x_lab.shape[0]
    perm = rng.permutation(n)
    n_val = max(1, int(round(config.validation_split * n))) if n > 1 else 0
    val_idx, tr_idx = perm[:n_val], perm[n_val:]
    ls_lab, load_lab = labelled["large_scale_db"], labelled["offered_load_bps"]
    if unlabelled is not None and config.use_contrastive | config.use_reconstruction:
        x_unl = features(cfg, unlabelled["gains"], unlabelled["offered_load_bps"])
        ls_unl, load_unl = unlabelled["large_scale_db"], unlabelled["offered_load_bps"]
    else:
        x_unl = np.zeros((0, x_lab.shape[1]), dtype=np.float32)
        ls_unl, load_unl = np.zeros((0,) + ls_lab.shape[1:]), np.zeros((0,) + load_lab.shape[1:])
    model = SemiSupervisedVAE(x_lab.shape[1], cfg.num_rus, cfg.num_ues, cfg.num_prbs, cfg.num_power_levels, config)
    opt = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, betas=config.betas, weight_decay=config.weight_decay)
    tt = {k: torch.as_tensor(v) for k, v in t_lab.items()}
    xt = torch.as_tensor(x_lab)
    xu = torch.as_tensor(x_unl)
    history: dict[str, list[float]] = {"train_loss": [], "val_supervised": [], "train_supervised": []}
    best = (math.inf, None, -1)
    t0 = time.perf_counter()
    # two-phase: contrastive refinement starts at `refine_from`; joint: every loss from epoch 0
    refine_from = (min(config.epochs - 1, max(1, int(round(config.first_phase_fraction * config.epochs))))
                   if config.schedule == "two_phase" else 0)
    for epoch in tqdm(range(config.epochs), desc="SS-VAE", disable=not progress):
        contrastive_now = config.use_contrastive and epoch >= refine_from
        model.train()
        order = tr_idx[rng.permutation(tr_idx.size)]
        u_order = rng.permutation(len(x_unl))
        n_batches = max(1, math.ceil(order.size / config.batch_size))
        u_per_batch = int(round(config.batch_size * config.unlabelled_per_labelled)) if len(x_unl) else 0
        tot, tot_sup = 0.0, 0.0
        for k in range(n_batches):
            bi = order[k * config.batch_size : (k + 1) * config.batch_size]
            ui = u_order[(k * u_per_batch) % max(len(x_unl), 1) :][:u_per_batch] if u_per_batch else np.zeros(0, dtype=int)
            out = model(xt[bi], gen)
            sup = _supervised_loss(out, {key: v[bi] for key, v in tt.items()})
            loss = sup
            x_all = torch.cat([xt[bi], xu[ui]]) if ui.size else xt[bi]
            if config.use_reconstruction:
                out_all = out if not ui.size else model(x_all, gen)
                recon = F.mse_loss(out_all["recon"], x_all)
                kl = -0.5 * torch.mean(torch.sum(1 + out_all["logvar"] - out_all["mu"] ** 2 - out_all["logvar"].exp(), dim=1))
                loss = loss + config.reconstruction_weight * (recon + (config.kl_weight * kl if config.variational else 0.0))
            if contrastive_now:
                ls = np.concatenate([ls_lab[bi], ls_unl[ui]]) if ui.size else ls_lab[bi]
                ld = np.concatenate([load_lab[bi], load_unl[ui]]) if ui.size else load_lab[bi]
                va = torch.as_tensor(_fresh_views(cfg, ls, ld, rng))
                vb = torch.as_tensor(_fresh_views(cfg, ls, ld, rng))
                za = model.projection(model.encode(va)[1])
                zb = model.projection(model.encode(vb)[1])
                loss = loss + config.contrastive_weight * nt_xent(za, zb, config.temperature)
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(loss.detach())
            tot_sup += float(sup.detach())
        history["train_loss"].append(tot / n_batches)
        history["train_supervised"].append(tot_sup / n_batches)
        model.eval()
        with torch.no_grad():
            v = float(_supervised_loss(model(xt[val_idx]), {key: val[val_idx] for key, val in tt.items()})) if n_val else math.nan
        history["val_supervised"].append(v)
        if epoch == refine_from and config.schedule == "two_phase":
            best = (math.inf, None, -1)  # the refined weights are the ones kept
        if n_val == 0 or v < best[0]:
            best = (v, {k: w.detach().clone() for k, w in model.state_dict().items()}, epoch)
    if best[1] is not None:
        model.load_state_dict(best[1])
    model.eval()
    history["best_epoch"] = best[2]
    history["train_time_s"] = time.perf_counter() - t0
    history["n_labelled"] = int(n)
    history["n_unlabelled"] = int(len(x_unl))
    history["refine_from_epoch"] = refine_from
    return model, history


@torch.no_grad()
def predict_raw(model: SemiSupervisedVAE, cfg: ScenarioConfig, gains: np.ndarray, offered: np.ndarray) -> dict[str, np.ndarray]:
    """The heads' probabilities and power for a batch `[N, B, U, M]`."""
    model.eval()
    out = model(torch.as_tensor(features(cfg, gains, offered)))
    return {
        "owner": F.softmax(out["owner"], -1).numpy(),
        "level": F.softmax(out["level"], -1).numpy(),
        "assoc": F.softmax(out["assoc"], -1).numpy(),
        "power": out["power"].numpy(),
    }


def largest_remainder(expected: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Integer counts `[B, U]` with row sums `totals[b]` (where the expected counts allow), by Hamilton's
    method: floors first, then one more for the largest fractional parts among UEs expected at all."""
    base = np.floor(expected).astype(np.int64)
    counts = base.copy()
    for b in range(expected.shape[0]):
        need = int(totals[b] - base[b].sum())
        if need <= 0:
            continue
        rem = np.where(expected[b] > 0, expected[b] - base[b], -1.0)
        order = np.argsort(-rem, kind="stable")[:need]
        counts[b, order[rem[order] > 0]] += 1
    return counts


def decode_allocation(cfg: ScenarioConfig, owner_p: np.ndarray, level_p: np.ndarray, assoc_p: np.ndarray) -> Allocation:
    """A valid allocation from one sample's head probabilities `[B M, U + 1]`, `[B M, L]`, `[U, B + 1]`.

    1. association: every UE to its most likely RU (ignoring "none": an unserved UE gets no PRB);
    2. PRB counts: RU b is meant to serve round(sum_m (1 - P[b, m, idle])) PRBs, shared among its
       UEs by largest remainder of their expected counts sum_m P[b, m, u] (the optimum is far
       from unique PRB by PRB, but how many PRBs each UE gets is well defined). Rounding each
       UE's expected count on its own served nobody once many UEs shared few PRBs (60 UEs, 10
       PRBs: every expected count ~0.2), which the Fig. 6d sweep exposed;
    3. matching: (PRB, UE) pairs in decreasing probability, each PRB once, each UE up to its
       count; PRBs left over go to their most likely UE of that RU unless idle is likelier;
    4. level: the most likely; projection: while an RU exceeds min(P_b^max, fronthaul limit), its
       highest-power PRB (least confident first on ties) drops one level, or goes idle from the
       lowest level.
    """
    B, U, M = cfg.num_rus, cfg.num_ues, cfg.num_prbs
    _, ue_slice, levels = scenario_arrays(cfg)
    assoc_ru = np.argmax(assoc_p[:, 1:], axis=1)  # [U]
    scores = owner_p[:, 1:].reshape(B, M, U).copy()
    scores *= np.arange(B)[:, None, None] == assoc_ru[None, None, :]  # a UE only on its RU
    expected = scores.sum(axis=1)  # [B, U]
    served = np.rint((1.0 - owner_p[:, 0].reshape(B, M)).sum(axis=1)).astype(np.int64)  # [B]
    counts = largest_remainder(expected, np.minimum(served, M))
    owner = np.full((B, M), -1, dtype=np.int64)
    conf = np.zeros((B, M))
    for b in range(B):
        left = counts[b].copy()
        for flat in np.argsort(-scores[b], axis=None, kind="stable"):
            m, u = divmod(int(flat), U)
            if scores[b, m, u] <= 0.0:
                break
            if owner[b, m] < 0 and left[u] > 0:
                owner[b, m], conf[b, m] = u, scores[b, m, u]
                left[u] -= 1
        for m in np.flatnonzero(owner[b] < 0):
            u = int(np.argmax(scores[b, m]))
            if scores[b, m, u] > owner_p[b * M + m, 0]:
                owner[b, m], conf[b, m] = u, scores[b, m, u]
    lvl = np.argmax(level_p, axis=1).reshape(B, M)
    limit = ru_power_limit_w(cfg) * (1 + 1e-9)
    power = np.where(owner >= 0, levels[ue_slice[np.maximum(owner, 0)], lvl], 0.0)
    for b in range(B):
        while power[b].sum() > limit:
            served = np.flatnonzero(owner[b] >= 0)
            # highest power first, least confident among equals
            m = served[np.lexsort((conf[b, served], -power[b, served]))[0]]
            if lvl[b, m] > 0:
                lvl[b, m] -= 1
                power[b, m] = levels[ue_slice[owner[b, m]], lvl[b, m]]
            else:
                owner[b, m], power[b, m] = -1, 0.0
    return Allocation.from_owner(owner, power, U)


class SSVAEPolicy(AllocationPolicy):
    """SS-VAE as a policy: observed gains and offered loads in, a decoded valid allocation out.

    Works in both action modes through `AllocationPolicy`. It reads the observed channel (with
    the scenario's CSI error), not the true one.
    """

    name = "ssvae"

    def __init__(self, env: Any, model: SemiSupervisedVAE) -> None:
        """Bind a trained model to an env of the scenario it was trained on."""
        super().__init__(env)
        self.model = model

    def plan(self, env) -> Allocation:
        """Decode the model's prediction for the current TTI."""
        gains = 10.0 ** (env.observed_gains_db / 10.0)
        raw = predict_raw(self.model, env.config, gains[None], env.offered_load_bps[None])
        return decode_allocation(env.config, raw["owner"][0], raw["level"][0], raw["assoc"][0])


def power_metrics(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """Table VI metrics over all PRBs of all samples: MAE, R^2, cosine similarity, Pearson r."""
    p, t = np.asarray(pred, float).ravel(), np.asarray(true, float).ravel()
    ss_res = np.sum((t - p) ** 2)
    ss_tot = np.sum((t - t.mean()) ** 2)
    denom = np.linalg.norm(p) * np.linalg.norm(t)
    return {
        "mae": float(np.mean(np.abs(p - t))),
        "r2": float(1 - ss_res / ss_tot) if ss_tot > 0 else float("nan"),
        "cosine": float(p @ t / denom) if denom > 0 else float("nan"),
        "pearson": float(np.corrcoef(p, t)[0, 1]) if p.std() > 0 and t.std() > 0 else float("nan"),
    }


def alpha_beta_error_pct(cfg: ScenarioConfig, pred: Allocation, true: Allocation) -> tuple[float, float]:
    """The paper's association error (Fig. 6b): `(|d alpha| + |d beta|) / #(alpha & beta)` in %, and alpha's alone.

    alpha[b, u] = 1 when UE u is associated with RU b; beta[b, u, m] = 1 when UE u holds PRB m of
    RU b. The paper's ratio sums both differences over the B U + B U M binary variables.
    """
    B, U, M = cfg.num_rus, cfg.num_ues, cfg.num_prbs

    def alpha(a: Allocation) -> np.ndarray:
        return np.asarray(a.assoc)[None, :] == np.arange(B)[:, None]  # [B, U]

    def beta(a: Allocation) -> np.ndarray:
        return np.asarray(a.owner)[:, None, :] == np.arange(U)[None, :, None]  # [B, U, M]

    d_alpha = int(np.sum(alpha(pred) != alpha(true)))
    d_beta = int(np.sum(beta(pred) != beta(true)))
    return 100.0 * (d_alpha + d_beta) / (B * U + B * U * M), 100.0 * d_alpha / (B * U)


def gap_metrics(cfg: ScenarioConfig, gains: np.ndarray, load: np.ndarray, alloc: Allocation,
                optimum: AllocationMetrics) -> dict[str, float]:
    """One TTI against the oracle: objective (eq. 10) gap in % and Mbit/s, reward gap, QoS violations.

    `optimum` is the oracle's `AllocationMetrics` on this TTI (`evaluate_allocation` of its
    allocation), evaluated once by the caller however many allocations it compares with it.
    """
    m = evaluate_allocation(cfg, gains, alloc, load)
    return {"throughput_gap_pct": 100 * (optimum.objective - m.objective) / optimum.objective,
            "throughput_gap_mbps": (optimum.objective - m.objective) / 1e6,
            "reward_gap_pct": 100 * (optimum.reward - m.reward) / abs(optimum.reward),
            "qos_violations": float(m.violations["rate"] + m.violations["delay"])}


def allocation_metrics(model: SemiSupervisedVAE, cfg: ScenarioConfig, test: dict[str, np.ndarray],
                       repair_sweeps: int = 2) -> dict[str, float]:
    """Everything the paper reports, on a labelled test set, against the oracle's allocations.

    - power metrics on power / P_s^max (head output and decoded allocation), beside a constant
      predictor's (the test labels' mean, the best constant in squared error: R^2 = 0);
    - `association_error_pct`, the paper's (|d alpha| + |d beta|) / #(alpha & beta), and
      `alpha_error_pct` (association alone); `prb_error_pct`, PRB owners that differ;
    - throughput (eq. 10's weighted sum rate) gap in % and in Mbit/s, reward gap, rate and delay
      violations per TTI;
    - the same after `baselines.repair_allocation` (`repair_sweeps` sweeps), prefixed `repaired_`.
    """
    from oran_gym.baselines.oracles import repair_allocation

    raw = predict_raw(model, cfg, test["gains"], test["offered_load_bps"])
    t = targets(cfg, test["owner"], test["power_w"], test["assoc"])
    _, ue_slice, levels = scenario_arrays(cfg)
    n = len(test["gains"])
    dec_power, ab_err, a_err, prb_err, rows, rep_rows, rep_ab = [], [], [], [], [], [], []
    for i in range(n):
        gains, load = test["gains"][i], test["offered_load_bps"][i]
        alloc = decode_allocation(cfg, raw["owner"][i], raw["level"][i], raw["assoc"][i])
        optimum = Allocation(test["assoc"][i], test["owner"][i], test["power_w"][i])
        opt = evaluate_allocation(cfg, gains, optimum, load)
        served = alloc.owner >= 0
        pmax = levels[ue_slice[np.maximum(alloc.owner, 0)], -1]
        dec_power.append(np.where(served, alloc.power_w / pmax, 0.0).ravel())
        ab, a = alpha_beta_error_pct(cfg, alloc, optimum)
        ab_err.append(ab)
        a_err.append(a)
        prb_err.append(np.mean(alloc.owner != test["owner"][i]))
        rows.append(gap_metrics(cfg, gains, load, alloc, opt))
        repaired, _ = repair_allocation(cfg, gains, alloc, load, max_sweeps=repair_sweeps)
        rep_rows.append(gap_metrics(cfg, gains, load, repaired, opt))
        rep_ab.append(alpha_beta_error_pct(cfg, repaired, optimum)[0])
    head = power_metrics(raw["power"], t["power"])
    dec = power_metrics(np.array(dec_power), t["power"])
    const = power_metrics(np.full(np.shape(t["power"]), float(np.mean(t["power"]))), t["power"])
    out = {f"power_{k}": v for k, v in head.items()}
    out.update({f"decoded_power_{k}": v for k, v in dec.items()})
    out.update({f"constant_power_{k}": v for k, v in const.items()})
    out.update({
        "association_error_pct": float(np.mean(ab_err)),
        "alpha_error_pct": float(np.mean(a_err)),
        "prb_error_pct": 100 * float(np.mean(prb_err)),
        **{k: float(np.mean([r[k] for r in rows])) for k in rows[0]},
        **{f"repaired_{k}": float(np.mean([r[k] for r in rep_rows])) for k in rep_rows[0]},
        "repaired_association_error_pct": float(np.mean(rep_ab)),
        "repair_sweeps": repair_sweeps,
        "test_samples": n,
    })
    return out


def save_ssvae(path: str | Path, model: SemiSupervisedVAE, cfg: ScenarioConfig, config: SSVAEConfig, history: dict[str, Any] | None = None) -> Path:
    """Save weights with the scenario, hyper-parameters, training history and versions."""
    import oran_gym

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "state_dict": model.state_dict(),
            "in_dim": model.decoder[-1].out_features,
            "scenario": cfg.to_dict(),
            "config": config.to_dict(),
            "history": json.loads(json.dumps(history or {}, default=float)),
            "versions": {"oran_gym": oran_gym.__version__, "torch": torch.__version__, "numpy": np.__version__},
        },
        path,
    )
    write_manifest(path, "ssvae", {"scenario": cfg.to_dict(), "config": config.to_dict()})
    return path


def load_ssvae(path: str | Path) -> tuple[SemiSupervisedVAE, ScenarioConfig, dict[str, Any]]:
    """Load a model saved by `save_ssvae`: `(model in eval mode, its scenario, the saved metadata)`.

    The file is checked against its manifest first: a missing, truncated, changed or wrong-kind file
    gets one `oran_gym.artefacts.ArtefactError` naming it.
    """
    from oran_gym.agents.forecast_training import load_verified

    blob = load_verified(path, "ssvae", ("state_dict", "in_dim", "scenario", "config"))
    cfg = ScenarioConfig.from_mapping(blob["scenario"])
    c = dict(blob["config"])
    c["hidden_sizes"], c["betas"] = tuple(c["hidden_sizes"]), tuple(c["betas"])
    config = SSVAEConfig(**c)
    model = SemiSupervisedVAE(blob["in_dim"], cfg.num_rus, cfg.num_ues, cfg.num_prbs, cfg.num_power_levels, config)
    model.load_state_dict(blob["state_dict"])
    model.eval()
    return model, cfg, blob
