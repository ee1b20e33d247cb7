"""The observation layout, defined once: every size and offset of every observation mode comes from here.

`obs_mode="full"` starts with a block of `ue_stride(B) = B + 5` values per UE, in this order:

| offset in the UE's block | field |
|---|---|
| 0 .. B-1 | observed wideband gain to each RU, scaled |
| B + UE_SLICE | slice (0 eMBB, 1 URLLC) |
| B + UE_OFFERED | offered load R_min, scaled like rates |
| B + UE_RATE | rate so far this TTI (prb mode) or last TTI's rate (full mode), scaled |
| B + UE_QOS | QoS satisfied (rate and delay), 0/1 |
| B + UE_ASSOC | association, (RU + 1) / B, 0 = none |

In the prb action mode the PRB being allocated follows: `PRB_INDEX`, `PRB_RU`, `PRB_POWER_HEADROOM`,
`PRB_FRONTHAUL_HEADROOM` (`PRB_FIELDS` values), then every UE's observed gain on that PRB (`U`
values). In the full action mode every observed gain `[B, U, M]` follows the UE block instead.
`obs_mode="paper"` is the QoS-satisfied flag of every UE, then the allocation progress (1 value).
With `queue_model="backlog"` every mode appends the queue block (`2 U` values): every UE's
backlog / max_backlog_bits, then every UE's head-of-line delay / max_queue_delay_s.

The kernels index with these constants (numba reads module globals as compile-time constants);
`observation_layout` gives the same layout as named slices for people and wrappers, and
`observation_size` the length every observation space uses.
"""

from __future__ import annotations

__all__ = [
    "PRB_FIELDS",
    "PRB_FRONTHAUL_HEADROOM",
    "PRB_INDEX",
    "PRB_POWER_HEADROOM",
    "PRB_RU",
    "UE_ASSOC",
    "UE_FIELDS",
    "UE_OFFERED",
    "UE_QOS",
    "UE_RATE",
    "UE_SLICE",
    "observation_layout",
    "observation_size",
    "prb_part_start",
    "queue_block_start",
    "ue_stride",
]

# per-UE values after its B wideband gains
UE_SLICE, UE_OFFERED, UE_RATE, UE_QOS, UE_ASSOC = 0, 1, 2, 3, 4
UE_FIELDS = 5
# the prb mode's description of the PRB being allocated, before the U gains on it
PRB_INDEX, PRB_RU, PRB_POWER_HEADROOM, PRB_FRONTHAUL_HEADROOM = 0, 1, 2, 3
PRB_FIELDS = 4

_UE_NAMES = ("slice", "offered_load", "rate", "qos_satisfied", "association")
_PRB_NAMES = ("prb_index", "prb_ru", "prb_power_headroom", "prb_fronthaul_headroom")


def ue_stride(num_rus: int) -> int:
    """Values per UE in the UE block: B wideband gains plus the `UE_FIELDS` scalars."""
    return num_rus + UE_FIELDS


def prb_part_start(num_rus: int, num_ues: int) -> int:
    """Offset of the prb part (after the UE block) in the full observation of the prb mode."""
    return num_ues * ue_stride(num_rus)


def observation_size(obs_mode: str, action_mode: str, num_rus: int, num_ues: int, num_prbs: int, queue: bool = False) -> int:
    """Length of the flat observation of `obs_mode` in `action_mode` (`queue`: with the queue block)."""
    return queue_block_start(obs_mode, action_mode, num_rus, num_ues, num_prbs) + (2 * num_ues if queue else 0)


def queue_block_start(obs_mode: str, action_mode: str, num_rus: int, num_ues: int, num_prbs: int) -> int:
    """Offset of the queue block (backlog model): the length of the observation without it."""
    if obs_mode == "paper":
        return num_ues + 1
    if action_mode == "full":
        return num_ues * ue_stride(num_rus) + num_rus * num_ues * num_prbs
    # prb and slice-level modes that observe one PRB at a time
    return prb_part_start(num_rus, num_ues) + PRB_FIELDS + num_ues


def observation_layout(obs_mode: str, action_mode: str, num_rus: int, num_ues: int, num_prbs: int,
                       queue: bool = False) -> dict[str, object]:
    """Named slices of the flat observation (per-UE fields as strided slices over the UE block).

    Keys (obs_mode "full"): `ue_block`, `wideband_gain` (a `[U, B]` view is
    `obs[ue_block].reshape(U, B + 5)[:, :B]`), one strided slice per UE field (`slice`,
    `offered_load`, `rate`, `qos_satisfied`, `association`: `obs[layout["rate"]]` is every UE's
    rate); prb mode: `prb_index`, `prb_ru`, `prb_power_headroom`, `prb_fronthaul_headroom` (ints)
    and `prb_gains` (`U`); full mode: `gains` (`B U M`, C order). obs_mode "paper": `qos_satisfied`
    and `progress`. With `queue`: `backlog` and `hol_delay` (`U` each). Always `size`.
    """
    B, U, M = num_rus, num_ues, num_prbs
    size = observation_size(obs_mode, action_mode, B, U, M, queue)
    q = queue_block_start(obs_mode, action_mode, B, U, M)
    extra: dict[str, object] = {"backlog": slice(q, q + U), "hol_delay": slice(q + U, q + 2 * U)} if queue else {}
    if obs_mode == "paper":
        return {"qos_satisfied": slice(0, U), "progress": U, **extra, "size": size}
    stride = ue_stride(B)
    block = U * stride
    out: dict[str, object] = {"ue_block": slice(0, block), "wideband_gain": [slice(u * stride, u * stride + B) for u in range(U)]}
    for k, name in enumerate(_UE_NAMES):
        out[name] = slice(B + k, block, stride)
    if action_mode == "full":
        out["gains"] = slice(block, block + B * U * M)
    else:
        for k, name in enumerate(_PRB_NAMES):
            out[name] = block + k
        out["prb_gains"] = slice(block + PRB_FIELDS, block + PRB_FIELDS + U)
    out.update(extra)
    out["size"] = size
    return out
