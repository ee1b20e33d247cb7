"""Plots of the forecasting results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from oran_gym.agents.forecast_pipelines import PAPER_KPI


def plot_kpi(result: dict[str, Any], path: str | Path) -> None:
    """Bar charts of MAE/RMSE, over-provisioning and SLA compliance, box plot of efficiency, and a forecast excerpt."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    t = result["table"]
    fig = Figure(figsize=(19, 4.2), dpi=100)
    a, b, e, c, d = fig.subplots(1, 5)
    xs = np.arange(len(t))
    a.bar(xs - 0.2, t["MAE"], 0.4, label="MAE")
    a.bar(xs + 0.2, t["RMSE"], 0.4, label="RMSE")
    a.set_xticks(xs, t["method"], rotation=60, ha="right", fontsize=7)
    a.set_ylabel("KPI units")
    a.legend()
    b.bar(xs, t["over_provisioning_mean"], color="tab:orange")
    b.set_xticks(xs, t["method"], rotation=60, ha="right", fontsize=7)
    b.set_ylabel("mean over-provisioning (KPI units)")
    e.bar(xs, t["sla_compliance"], color="tab:green")
    e.axhline(result.get("sla", 0.95), color="k", ls="--", lw=1)
    e.set_xticks(xs, t["method"], rotation=60, ha="right", fontsize=7)
    e.set_ylabel("SLA compliance (allocated >= actual)")
    c.boxplot([result["per_sample"][m]["efficiency"] for m in t["method"]], tick_labels=list(t["method"]))
    c.tick_params(axis="x", labelrotation=60, labelsize=7)
    for k, m in enumerate(t["method"]):
        ref = PAPER_KPI["efficiency_median"].get(m)
        if ref is not None:
            c.plot([k + 0.7, k + 1.3], [ref, ref], "k--", lw=1)
    c.set_ylabel("efficiency (dashed: paper's median)")
    n = min(600, len(result["actual"]))
    d.plot(result["actual"][:n], label="actual", lw=1)
    for m, p in result["predictions"].items():
        d.plot(p[:n], label=m, lw=1)
    d.set_xlabel("test step (5 min)")
    d.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
