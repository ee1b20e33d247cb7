"""Rendering of `ORANSlicingEnv`: an RGB picture (matplotlib, Agg) and an ANSI KPI table."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from oran_gym.config import SLICE_NAMES

if TYPE_CHECKING:
    from oran_gym.envs.slicing_env import ORANSlicingEnv

SLICE_COLOURS = ("tab:blue", "tab:red")


def _shown(env: ORANSlicingEnv):
    """What a frame shows: the allocation and info of the TTI being decided, or of the TTI just completed.

    In the prb mode, once the last PRB of a TTI is allocated the env moves to the next TTI's empty
    grid; the frame then shows the completed TTI instead (its allocation and KPIs), so the finished
    allocation is always drawn. In the full mode every step completes a TTI.
    """
    if env.action_mode == "prb" and env.cursor == 0 and env._last_tti_alloc is not None:
        return env._last_tti_alloc, env._last_complete_info, env.tti - 1, True
    complete = env.action_mode == "full" and env._last_tti_alloc is not None
    return env.allocation, env._last_info, env.tti - (1 if complete else 0), complete


def _qos_met(env: ORANSlicingEnv, info) -> np.ndarray:
    """Per UE, whether the shown allocation meets its rate (14) and delay (16) constraints, `[U]` bool."""
    cfg = env.config
    budget = np.where(env._net.ue_slice == 1, cfg.urllc_delay_budget_s, cfg.embb_delay_budget_s)
    return (np.asarray(info["ue_rate_bps"]) >= env._net.offered_load_bps) & (np.asarray(info["delay_s"]) <= budget)


def render_rgb(env: ORANSlicingEnv) -> np.ndarray:
    """The frame: RUs and UEs (left), the PRB grid (top right), the KPI panel (bottom right).

    The grid shows each PRB's owner (number), slice (colour) and power (opacity, relative to the
    slice's P_s^max). The KPI panel shows each UE's rate against its demand (offered load), whether
    its QoS (rate and delay) is met, and, in the title, the reward and each RU's power against its
    limit. A completed TTI is shown until the next one has its first PRB (see `_shown`).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    net = env._net
    cfg = env.config
    alloc, info, tti, complete = _shown(env)
    fig = Figure(figsize=(13, 7), dpi=90)
    canvas = FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 2, width_ratios=[1, 1.7], height_ratios=[1, 1.15])
    ax_map = fig.add_subplot(grid[:, 0])
    ax_grid = fig.add_subplot(grid[0, 1])
    ax_kpi = fig.add_subplot(grid[1, 1])

    ax_map.scatter(net.ru_pos_m[:, 0], net.ru_pos_m[:, 1], marker="^", s=160, c="k", label="RU")
    for s, name in enumerate(SLICE_NAMES):
        sel = net.ue_slice == s
        ax_map.scatter(net.ue_pos_m[sel, 0], net.ue_pos_m[sel, 1], s=28, c=SLICE_COLOURS[s], label=name)
    for u in np.nonzero(alloc.assoc >= 0)[0]:
        ru = net.ru_pos_m[alloc.assoc[u]]
        ax_map.plot([ru[0], net.ue_pos_m[u, 0]], [ru[1], net.ue_pos_m[u, 1]], lw=0.8, c="0.6", zorder=0)
    ax_map.set_aspect("equal")
    ax_map.set_xlabel("x (m)", fontsize=10)
    ax_map.set_ylabel("y (m)", fontsize=10)
    ax_map.legend(loc="upper right", fontsize=9)
    state = "completed" if complete else f"PRB {env.cursor} of {cfg.prbs_per_tti}"
    ax_map.set_title(f"TTI {max(tti, 0)} ({state})", fontsize=12)

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
                ax_grid.text(m, b, str(u), ha="center", va="center", fontsize=8 if M <= 30 else 6)
    ax_grid.imshow(rgba, aspect="auto", interpolation="nearest")
    ax_grid.set_xlabel("PRB", fontsize=10)
    ax_grid.set_ylabel("RU", fontsize=10)
    ax_grid.set_yticks(range(B))
    ax_grid.set_title("PRB grid: owner (number), slice (colour), power (opacity)", fontsize=11)

    U = cfg.num_ues
    rate = np.asarray(info["ue_rate_bps"]) / 1e6
    offered = net.offered_load_bps / 1e6
    qos = _qos_met(env, info)
    x = np.arange(U)
    ax_kpi.bar(x, rate, color=[SLICE_COLOURS[s] for s in net.ue_slice], alpha=0.8, label="rate")
    ax_kpi.scatter(x, offered, marker="_", s=220, c="k", linewidths=2, label="demand (offered load)", zorder=3)
    top = max(float(np.max(rate, initial=0.0)), float(np.max(offered, initial=0.0)), 1e-3) * 1.15
    for u in range(U):
        ax_kpi.text(u, top * 0.97, "ok" if qos[u] else "x", ha="center", va="top", fontsize=9,
                    color="tab:green" if qos[u] else "tab:red", fontweight="bold")
    ax_kpi.set_ylim(0, top)
    ax_kpi.set_xticks(x)
    ax_kpi.tick_params(labelsize=8)
    ax_kpi.set_xlabel("UE (QoS met: ok / x)", fontsize=10)
    ax_kpi.set_ylabel("Mbit/s", fontsize=10)
    ax_kpi.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=9, frameon=False)
    reward = float(sum(info["reward_terms"].values()))
    ru_power = np.asarray(info["ru_power_w"])
    v = info["violations"]
    ax_kpi.set_title(
        f"reward {reward:.2f} | objective {info['objective'] / 1e6:.2f} Mbit/s | QoS met {int(qos.sum())}/{U} | "
        f"violations {v['rate'] + v['delay']} | RU power "
        + ", ".join(f"{p:.2f}" for p in ru_power) + f" of {cfg.ru_power_limit_w:.2f} W",
        fontsize=10,
    )
    fig.tight_layout()
    canvas.draw()
    frame = np.asarray(canvas.buffer_rgba())[:, :, :3].copy()
    return frame


def render_human(env: ORANSlicingEnv) -> None:
    """`render_mode="human"`: the frame in a matplotlib window when an interactive backend is there,
    otherwise the ANSI KPI table on standard output (a terminal, a notebook's text cell, CI logs)."""
    import matplotlib
    from matplotlib.backends import BackendFilter, backend_registry

    backend = matplotlib.get_backend().lower()
    interactive = backend in backend_registry.list_builtin(BackendFilter.INTERACTIVE) and _has_display()
    if not interactive:
        print(render_ansi(env), end="", flush=True)
        return
    import matplotlib.pyplot as plt

    frame = render_rgb(env)
    if env._human_window is None:
        fig, ax = plt.subplots(figsize=(13, 7))
        ax.axis("off")
        env._human_window = (fig, ax.imshow(frame))
    else:
        env._human_window[1].set_data(frame)
    plt.pause(1.0 / env.metadata["render_fps"])


def _has_display() -> bool:
    import os

    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def render_ansi(env: ORANSlicingEnv) -> str:
    """A KPI table of the allocation a frame shows (see `_shown`): per UE and per RU."""
    _, info, tti, complete = _shown(env)
    net = env._net
    lines = [
        f"ORANSlicing-v0  TTI {max(tti, 0)}{' (completed)' if complete else ''}  objective {info['objective'] / 1e6:.3f} Mbit/s  "
        f"reward {float(sum(info['reward_terms'].values())):.3f}  violations {info['violations']}",
        f"{'UE':>3} {'slice':>5} {'offered Mb/s':>12} {'rate Mb/s':>9} {'delay ms':>9} {'QoS':>4}",
    ]
    qos = _qos_met(env, info)
    for u in range(env.config.num_ues):
        d = info["delay_s"][u]
        rate = info["ue_rate_bps"][u]
        ok = qos[u]
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
