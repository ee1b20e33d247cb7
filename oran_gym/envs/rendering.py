"""Rendering of `ORANSlicingEnv`: an RGB picture (matplotlib, Agg) and an ANSI KPI table."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from oran_gym.config import SLICE_NAMES

if TYPE_CHECKING:
    from oran_gym.envs.slicing_env import ORANSlicingEnv

SLICE_COLOURS = ("tab:blue", "tab:red")


def render_rgb(env: ORANSlicingEnv) -> np.ndarray:
    """Left: RUs (triangles) and UEs coloured by slice, lines to their RU. Right: the PRB grid.

    The grid shows, for the TTI being allocated (prb mode) or the last TTI (full mode), each PRB's
    owner (number), slice (colour) and power (opacity, relative to the slice's P_s^max).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    net = env._net
    cfg = env.config
    alloc = env.allocation
    fig = Figure(figsize=(10, 4), dpi=80)
    canvas = FigureCanvasAgg(fig)
    ax_map, ax_grid = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.6]})
    ax_map.scatter(net.ru_pos_m[:, 0], net.ru_pos_m[:, 1], marker="^", s=120, c="k", label="RU")
    for s, name in enumerate(SLICE_NAMES):
        sel = net.ue_slice == s
        ax_map.scatter(net.ue_pos_m[sel, 0], net.ue_pos_m[sel, 1], s=18, c=SLICE_COLOURS[s], label=name)
    for u in np.nonzero(alloc.assoc >= 0)[0]:
        ru = net.ru_pos_m[alloc.assoc[u]]
        ax_map.plot([ru[0], net.ue_pos_m[u, 0]], [ru[1], net.ue_pos_m[u, 1]], lw=0.6, c="0.6", zorder=0)
    ax_map.set_aspect("equal")
    ax_map.set_xlabel("x (m)")
    ax_map.set_ylabel("y (m)")
    ax_map.legend(loc="upper right", fontsize=7)
    ax_map.set_title(f"TTI {env.tti}")

    B, M = alloc.owner.shape
    rgba = np.ones((B, M, 4))
    pmax = env._levels_w.max(axis=1)
    for b in range(B):
        for m in range(M):
            u = alloc.owner[b, m]
            if u >= 0:
                s = net.ue_slice[u]
                colour = matplotlib.colors.to_rgba(SLICE_COLOURS[s])
                alpha = 0.25 + 0.75 * min(alloc.power_w[b, m] / pmax[s], 1.0)
                rgba[b, m] = (*colour[:3], alpha)
                ax_grid.text(m, b, str(u), ha="center", va="center", fontsize=6)
    ax_grid.imshow(rgba, aspect="auto", interpolation="nearest")
    ax_grid.set_xlabel("PRB")
    ax_grid.set_ylabel("RU")
    ax_grid.set_yticks(range(B))
    ru_power = alloc.power_w.sum(axis=1)
    ax_grid.set_title(
        "owner (number), slice (colour), power (opacity); RU power "
        + ", ".join(f"{p:.2f}" for p in ru_power)
        + f" W of {cfg.ru_power_limit_w:.2f} W",
        fontsize=8,
    )
    fig.tight_layout()
    canvas.draw()
    frame = np.asarray(canvas.buffer_rgba())[:, :, :3].copy()
    return frame


def render_ansi(env: ORANSlicingEnv) -> str:
    """A KPI table of the last evaluated allocation: per UE and per RU."""
    info = env._last_info
    net = env._net
    lines = [
        f"ORANSlicing-v0  TTI {info['tti']}  objective {info['objective'] / 1e6:.3f} Mbit/s  "
        f"violations {info['violations']}",
        f"{'UE':>3} {'slice':>5} {'offered Mb/s':>12} {'rate Mb/s':>9} {'delay ms':>9} {'QoS':>4}",
    ]
    for u in range(env.config.num_ues):
        d = info["delay_s"][u]
        rate = info["ue_rate_bps"][u]
        budget = env.config.urllc_delay_budget_s if net.ue_slice[u] else env.config.embb_delay_budget_s
        ok = rate >= net.offered_load_bps[u] and d <= budget
        lines.append(
            f"{u:>3} {SLICE_NAMES[net.ue_slice[u]]:>5} {net.offered_load_bps[u] / 1e6:>12.3f} "
            f"{rate / 1e6:>9.3f} {d * 1e3 if np.isfinite(d) else float('inf'):>9.3f} {'ok' if ok else '--':>4}"
        )
    for b in range(env.config.num_rus):
        lines.append(
            f"RU {b}: power {info['ru_power_w'][b]:.3f} W (limit {env.config.ru_power_limit_w:.3f} W), "
            f"fronthaul {info['fronthaul_bps_per_hz'][b]:.2f} of {env.config.fronthaul_capacity_bps_per_hz:.0f} bit/s/Hz"
        )
    return "\n".join(lines) + "\n"
