"""Classic schedulers as `AllocationPolicy`s: random, round-robin, max-SINR, proportional fair, slice-aware.

They see what an agent sees: the observed channel (`env.observed_gains_db`, which carries the CSI
error), the offered loads and the slices; never the true gains. Each decides which UE each PRB
serves (association: every UE to the RU with its best observed wideband gain), then a power rule
sets the level of every assigned PRB:

* `"equal_split"`: every PRB of an RU gets the highest level not above (RU power limit) /
  (PRBs the RU assigns); PRBs that still do not fit are left idle, last first.
* `"highest_fit"`: in assignment order, each PRB gets the highest level that still fits in the
  RU's remaining budget after reserving the lowest level for every PRB of that RU still to come
  (without the reserve the first few PRBs take the whole budget and the rest go idle); a PRB
  stays idle when not even the lowest level fits.
"""

from __future__ import annotations

import numpy as np
from oran_gym.baselines.common import AllocationPolicy, delay_rate_floor_bps, ru_power_limit_w

from oran_gym import Allocation, ScenarioConfig
from oran_gym.allocation import scenario_arrays
from oran_gym.sim import reference
from oran_gym.sim.params import unpack_params

__all__ = [
    "POWER_RULES",
    "RandomPolicy",
    "RoundRobinPolicy",
    "MaxSINRPolicy",
    "ProportionalFairPolicy",
    "SliceAwareGreedyPolicy",
    "HEURISTICS",
]

POWER_RULES = ("equal_split", "highest_fit")


def apply_power_rule(cfg: ScenarioConfig, owner: np.ndarray, order: list[tuple[int, int]], rule: str) -> Allocation:
    """Give each assigned PRB a power level by `rule`; `order` lists (RU, PRB) in assignment order."""
    params, ue_slice, levels = scenario_arrays(cfg)
    limit = ru_power_limit_w(cfg) * (1 - 1e-12)
    owner = owner.copy()
    power = np.zeros(owner.shape)
    used = np.zeros(cfg.num_rus)
    count = np.bincount([b for b, _ in order], minlength=cfg.num_rus)
    to_come = count.copy()
    for b, m in order:
        to_come[b] -= 1
        u = owner[b, m]
        row = levels[ue_slice[u]]
        if rule == "equal_split":
            share = limit / count[b]
            fits = np.flatnonzero(row <= share)
            p = row[fits[-1]] if fits.size else row[0]
            if used[b] + p > limit:
                p = 0.0
        else:
            reserve = to_come[b] * levels[:, 0].min()
            fits = np.flatnonzero(used[b] + row + reserve <= limit)
            if fits.size:
                p = row[fits[-1]]
            else:  # the reserve cannot be kept: fall back to the lowest level that fits at all
                fits = np.flatnonzero(used[b] + row <= limit)
                p = row[fits[0]] if fits.size else 0.0
        if p == 0.0:
            owner[b, m] = -1
        else:
            power[b, m] = p
            used[b] += p
    return Allocation.from_owner(owner, power, cfg.num_ues)


def _observed(env) -> tuple[np.ndarray, np.ndarray]:
    """Observed linear gains `[B, U, M]` and the RU each UE associates with (best wideband gain)."""
    gain = 10.0 ** (env.observed_gains_db / 10.0)
    best_ru = np.argmax(gain.mean(axis=2), axis=0)
    return gain, best_ru


def _nominal_rate_bps(cfg: ScenarioConfig, gain: np.ndarray) -> np.ndarray:
    """Interference-free rate `[B, U, M]` at the equal-split power of a fully used RU (planning estimate)."""
    params, ue_slice, levels = scenario_arrays(cfg)
    kp = unpack_params(params)
    p = np.minimum(ru_power_limit_w(cfg) / cfg.num_prbs, levels[ue_slice, -1])  # [U]
    snr = gain * p[None, :, None] / kp.noise_w
    return reference.capped_rate_bps(snr, ue_slice[None, :, None], params)


class _Heuristic(AllocationPolicy):
    default_power_rule = "equal_split"

    def __init__(self, env, power_rule: str | None = None) -> None:
        super().__init__(env)
        rule = power_rule or self.default_power_rule
        if rule not in POWER_RULES:
            raise ValueError(f"power_rule must be one of {list(POWER_RULES)}, got {rule!r}")
        self.power_rule = rule
        self.reset()

    def plan(self, env) -> Allocation:
        """Assign owners (subclass), then set powers by the power rule."""
        owner, order = self.assign(env)
        return apply_power_rule(env.config, owner, order, self.power_rule)

    def assign(self, env) -> tuple[np.ndarray, list[tuple[int, int]]]:  # pragma: no cover - abstract
        """Owner `[B, M]` (-1 idle) and the (RU, PRB) assignment order."""
        raise NotImplementedError


class RandomPolicy(AllocationPolicy):
    """Uniformly random among the valid actions of each PRB (it respects the action mask)."""

    name = "random"

    def __init__(self, env, seed: int | None = 0) -> None:
        """`seed` seeds the policy's own generator (None: fresh entropy)."""
        super().__init__(env)
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def reset(self) -> None:
        """Nothing carries across episodes (the generator keeps running)."""

    def plan(self, env) -> Allocation:
        """Walk the PRBs in order, picking a uniformly random valid action for each."""
        cfg = env.config
        params, ue_slice, levels = scenario_arrays(cfg)
        limit = ru_power_limit_w(cfg) * (1 + 1e-9)
        L = cfg.num_power_levels
        owner = np.full((cfg.num_rus, cfg.num_prbs), -1, dtype=np.int64)
        power = np.zeros(owner.shape)
        assoc = np.full(cfg.num_ues, -1, dtype=np.int64)
        used = np.zeros(cfg.num_rus)
        for b in range(cfg.num_rus):
            for m in range(cfg.num_prbs):
                ue_ok = (assoc < 0) | (assoc == b)
                lvl_ok = used[b] + levels[ue_slice] <= limit  # [U, L]
                valid = np.concatenate([[True], (ue_ok[:, None] & lvl_ok).ravel()])
                a = int(self.rng.choice(np.flatnonzero(valid)))
                if a:
                    u, lvl = divmod(a - 1, L)
                    owner[b, m], power[b, m], assoc[u] = u, levels[ue_slice[u], lvl], b
                    used[b] += power[b, m]
        return Allocation(assoc, owner, power)


class RoundRobinPolicy(_Heuristic):
    """Each RU serves its UEs in turn, one PRB each, continuing where the last TTI stopped. Power: equal split."""

    name = "round_robin"

    def reset(self) -> None:
        """Restart the turn at the first UE."""
        self._next = None

    def assign(self, env):
        """PRB m of RU b goes to the next UE associated with b in cyclic order."""
        cfg = env.config
        _, best_ru = _observed(env)
        if self._next is None:
            self._next = np.zeros(cfg.num_rus, dtype=np.int64)
        owner = np.full((cfg.num_rus, cfg.num_prbs), -1, dtype=np.int64)
        order = []
        for b in range(cfg.num_rus):
            ues = np.flatnonzero(best_ru == b)
            if ues.size == 0:
                continue
            for m in range(cfg.num_prbs):
                owner[b, m] = ues[self._next[b] % ues.size]
                self._next[b] += 1
                order.append((b, m))
        return owner, order


class MaxSINRPolicy(_Heuristic):
    """Every PRB to the UE (of that RU) with the highest observed gain on it. Power: highest level that fits."""

    name = "max_sinr"
    default_power_rule = "highest_fit"

    def assign(self, env):
        """Greedy per PRB on the observed per-PRB gain."""
        cfg = env.config
        gain, best_ru = _observed(env)
        owner = np.full((cfg.num_rus, cfg.num_prbs), -1, dtype=np.int64)
        order = []
        for b in range(cfg.num_rus):
            ues = np.flatnonzero(best_ru == b)
            if ues.size == 0:
                continue
            winners = ues[np.argmax(gain[b][ues], axis=0)]  # [M]
            owner[b] = winners
            # strongest PRBs first, so highest_fit spends the budget where it pays most
            strength = gain[b, winners, np.arange(cfg.num_prbs)]
            order += [(b, int(m)) for m in np.argsort(-strength, kind="stable")]
        return owner, order


class ProportionalFairPolicy(_Heuristic):
    """PRB to argmax (achievable rate / EWMA of served rate); the average spans TTIs. Power: equal split.

    The EWMA `T_u <- (1 - alpha) T_u + alpha R_u` uses the policy's own estimate of each UE's rate
    (interference-free, on observed gains), updated after each planned TTI; `alpha` defaults to
    0.1 (a 10-TTI memory).
    """

    name = "proportional_fair"

    def __init__(self, env, power_rule: str | None = None, alpha: float = 0.1) -> None:
        """`alpha`: EWMA weight of the newest TTI, in (0, 1]."""
        super().__init__(env, power_rule)
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha must be in (0, 1], got {alpha!r}")
        self.alpha = float(alpha)

    def reset(self) -> None:
        """Forget the served-rate averages."""
        self.avg_rate_bps = None

    def assign(self, env):
        """Per PRB, the UE with the best ratio of achievable rate to its average."""
        cfg = env.config
        gain, best_ru = _observed(env)
        rate = _nominal_rate_bps(cfg, gain)  # [B, U, M]
        if self.avg_rate_bps is None:
            self.avg_rate_bps = np.full(cfg.num_ues, 1e3)  # 1 kbit/s floor: everyone starts equal
        owner = np.full((cfg.num_rus, cfg.num_prbs), -1, dtype=np.int64)
        order = []
        served = np.zeros(cfg.num_ues)
        for b in range(cfg.num_rus):
            ues = np.flatnonzero(best_ru == b)
            if ues.size == 0:
                continue
            for m in range(cfg.num_prbs):
                metric = rate[b, ues, m] / np.maximum(self.avg_rate_bps[ues] * (1 - self.alpha) + self.alpha * served[ues], 1e3)
                u = ues[int(np.argmax(metric))]
                owner[b, m] = u
                served[u] += rate[b, u, m]
                order.append((b, m))
        self.avg_rate_bps = (1 - self.alpha) * self.avg_rate_bps + self.alpha * served
        return owner, order


class SliceAwareGreedyPolicy(_Heuristic):
    """Meet URLLC rate and delay first, then eMBB's, then give the rest to the best weighted rate.

    Phase 1 and 2: UEs in slice priority order (URLLC, then eMBB), weakest requirement gap first,
    take their best free PRBs until their estimated rate meets max(offered load, the rate the
    delay budget needs). Phase 3: each remaining PRB goes to the UE with the best weighted rate on
    it. Power: highest level that fits, in assignment order (so QoS PRBs are powered first).
    """

    name = "slice_aware"
    default_power_rule = "highest_fit"

    def assign(self, env):
        """Three greedy phases over the estimated interference-free rates."""
        cfg = env.config
        params, ue_slice, _ = scenario_arrays(cfg)
        kp = unpack_params(params)
        gain, best_ru = _observed(env)
        rate = _nominal_rate_bps(cfg, gain)
        load = env.offered_load_bps
        need = np.maximum(load, delay_rate_floor_bps(params, ue_slice))
        owner = np.full((cfg.num_rus, cfg.num_prbs), -1, dtype=np.int64)
        order: list[tuple[int, int]] = []
        for slice_id in (1, 0):  # URLLC first
            ues = [u for u in np.flatnonzero(ue_slice == slice_id)]
            ues.sort(key=lambda u: need[u] / max(rate[best_ru[u], u].max(), 1.0))
            for u in ues:
                b = best_ru[u]
                got = 0.0
                if not np.isfinite(need[u]):
                    continue
                for m in np.argsort(-rate[b, u], kind="stable"):
                    if got >= need[u]:
                        break
                    if owner[b, m] < 0:
                        owner[b, m] = u
                        order.append((b, int(m)))
                        got += rate[b, u, m]
        weighted = kp.slice_weight[ue_slice][None, :, None] * rate
        for b in range(cfg.num_rus):
            ues = np.flatnonzero(best_ru == b)
            if ues.size == 0:
                continue
            for m in range(cfg.num_prbs):
                if owner[b, m] < 0:
                    owner[b, m] = ues[int(np.argmax(weighted[b, ues, m]))]
                    order.append((b, m))
        return owner, order


HEURISTICS = {
    cls.name: cls
    for cls in (RandomPolicy, RoundRobinPolicy, MaxSINRPolicy, ProportionalFairPolicy, SliceAwareGreedyPolicy)
}
