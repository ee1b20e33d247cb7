"""The `oran-gym` command line: `info`, `check`, `bench` (later issues add more subcommands).

Heavy modules are imported inside each handler so that `oran-gym --help` stays fast. Exit codes:
0 success, 1 failure, 2 usage error.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

from oran_gym.benchmarks.argtypes import int_at_least, positive_float
from oran_gym.config import PRESET_SOURCES, PRESETS, ScenarioConfig

FIELD_UNITS = {
    "_hz": "Hz",
    "_dbm_per_hz": "dBm/Hz",
    "_dbm": "dBm",
    "_db": "dB",
    "_m": "m",
    "_mps": "m/s",
    "_w": "W",
    "_bps_per_hz": "bit/s/Hz",
    "_bps": "bit/s",
    "_s": "s",
    "_bytes": "B",
    "_pps": "packets/s",
    "_tti": "TTIs",
    "_bits": "bit",
}


def field_unit(name: str) -> str:
    """Unit of a ScenarioConfig field, read from its name's suffix ('-' when dimensionless)."""
    for suffix in sorted(FIELD_UNITS, key=len, reverse=True):
        if name.endswith(suffix):
            return FIELD_UNITS[suffix]
    return "-"


def field_docs() -> dict[str, str]:
    """First line of each ScenarioConfig field's docstring (read from the source)."""
    import ast
    import inspect

    import oran_gym.config as mod

    tree = ast.parse(inspect.getsource(mod))
    docs: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "ScenarioConfig":
            body = node.body
            for stmt, nxt in zip(body, body[1:]):
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                    if isinstance(nxt, ast.Expr) and isinstance(getattr(nxt, "value", None), ast.Constant):
                        docs[stmt.target.id] = " ".join(str(nxt.value.value).split())
    return docs


def scenario_table(cfg: ScenarioConfig, markdown: bool = False, sources: dict[str, str] | None = None) -> str:
    """Every field of `cfg` with its unit, value and meaning (`sources`: where a preset's value comes
    from, shown in place of the meaning for the fields it names)."""
    docs = field_docs()
    sources = sources or {}
    rows = [(f.name, field_unit(f.name), repr(getattr(cfg, f.name)),
             f"[{sources[f.name]}] " + docs.get(f.name, "") if f.name in sources else docs.get(f.name, ""))
            for f in dataclasses.fields(cfg)]
    if markdown:
        lines = ["| field | unit | default | meaning |", "|---|---|---|---|"]
        lines += [f"| `{n}` | {u} | `{v}` | {d} |" for n, u, v, d in rows]
        return "\n".join(lines)
    w = max(len(r[0]) for r in rows)
    lines = [f"{'field':<{w}}  {'unit':<9} {'value':<18} meaning"]
    lines += [f"{n:<{w}}  {u:<9} {v:<18} {d}" for n, u, v, d in rows]
    derived = [
        ("num_ues", cfg.num_ues),
        ("noise_power_w", f"{cfg.noise_power_w:.4g}"),
        ("ru_power_limit_w (min of eq. 11 and 15)", f"{cfg.ru_power_limit_w:.4g}"),
        ("fibre_delay_s", f"{cfg.fibre_delay_s:.4g}"),
    ]
    lines.append("derived: " + ", ".join(f"{k} = {v}" for k, v in derived))
    return "\n".join(lines)


def cmd_info(args: argparse.Namespace) -> int:
    """Print the scenario table of a preset."""
    print(f"preset {args.preset!r}" + ("; [source] of each value the preset sets" if args.preset in PRESET_SOURCES else ""))
    print(scenario_table(ScenarioConfig.preset(args.preset), markdown=args.markdown, sources=PRESET_SOURCES.get(args.preset)))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Run Gymnasium's and SB3's env checkers on every preset x action mode x obs mode."""
    import warnings

    import gymnasium as gym
    from gymnasium.utils.env_checker import check_env
    from tqdm import tqdm

    import oran_gym  # noqa: F401  (registers the env)

    try:
        from stable_baselines3.common.env_checker import check_env as sb3_check_env
    except ImportError:
        sb3_check_env = None
        print("stable-baselines3 is not installed: only Gymnasium's checker runs (pip install 'oran-gym[agents]')")
    presets = [args.preset] if args.preset else list(PRESETS)
    combos = [(p, a, o) for p in presets for a in ("prb", "full") for o in ("full", "paper")]
    failures = 0
    for preset, action_mode, obs_mode in tqdm(combos, desc="checking", disable=not sys.stderr.isatty()):
        env = gym.make("ORANSlicing-v0", config=preset, action_mode=action_mode, obs_mode=obs_mode)
        status = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                check_env(env.unwrapped, skip_render_check=True)
                status.append("gymnasium ok")
                if sb3_check_env is not None:
                    sb3_check_env(env.unwrapped, warn=True)
                    status.append("sb3 ok")
            except Exception as exc:  # report every combination, then fail
                status.append(f"FAILED: {type(exc).__name__}: {exc}")
                failures += 1
        if caught:
            failures += 1
            status.append(f"{len(caught)} warning(s): " + "; ".join(str(w.message)[:120] for w in caught))
        print(f"{preset:<11} action_mode={action_mode:<5} obs_mode={obs_mode:<6} " + ", ".join(status))
    print("all checks passed with no warnings" if not failures else f"{failures} combination(s) failed or warned")
    return 1 if failures else 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Run the benchmarks and write their results under --out-dir (default ./oran-gym-results/)."""
    import importlib
    import time

    from oran_gym.benchmarks import bench_env, results_table

    progress = sys.stderr.isatty()
    quick = not args.full
    out_dir = Path(args.out_dir).resolve() if args.out_dir else bench_env.default_results_dir()
    parts = args.only or [part for part, _, _ in BENCH_PARTS]
    done = []
    for part, title, module_name in BENCH_PARTS:
        if part not in parts:
            continue
        if part == "forecasting":
            from oran_gym.data import data_dir

            if data_dir() is None:
                print(f"== {title}: skipped, the real data were not found (set ORAN_GYM_DATA or place ../shared/data) ==")
                continue
        module = importlib.import_module(f"oran_gym.benchmarks.{module_name}")
        print(f"== {title} ==", flush=True)
        t0 = time.perf_counter()
        result = module.run(quick=quick, progress=progress, out_dir=out_dir, smoke=args.smoke)
        print("\n".join(module.summary_lines(result)))
        done.append(f"{part} ({time.perf_counter() - t0:.0f} s)")
    report = results_table.write_report(out_dir, command="oran-gym bench " + " ".join(sys.argv[2:]).strip())
    print(f"ran: {', '.join(done)}")
    print(f"results written under {out_dir}/; report: {report}")
    return 0


BENCH_PARTS = [  # (part, title, module of oran_gym.benchmarks), in the order `oran-gym bench` runs them
    ("env", "environment speed", "bench_env"),
    ("vector", "vector env speed (native, Sync, Async, NumPy, CartPole, mobile-env)", "bench_vector"),
    ("sb3", "MaskablePPO training speed on NativeVecEnv, DummyVecEnv, SubprocVecEnv", "bench_sb3"),
    ("oracles", "oracles and heuristics", "bench_oracles"),
    ("agents", "SS-VAE and DQN against the oracle (Fig. 6a, 6b, Table VI)", "reproduce_agents"),
    ("forecasting", "forecasters on the real data (seeds 000 and 001)", "reproduce_forecasting"),
    ("figures", "Fig. 6c-6f", "reproduce_fig6"),
    ("maskable_ppo", "MaskablePPO (Optuna-tuned) beside DQN, SS-VAE, heuristics and the optimum", "reproduce_maskable_ppo"),
]


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run or resume a sweep grid (YAML) on the local process pool or on Ray."""
    from oran_gym.sweep import load_grid, run_sweep

    grid = load_grid(args.grid)
    table = run_sweep(grid, backend=args.backend, workers=args.workers, address=args.address, progress=sys.stderr.isatty())
    print(table.to_string(index=False, max_colwidth=40))
    print(f"results: {grid['out']}/results.csv (timings.csv beside it)")
    return 0


def _check_same_scenario(trained: ScenarioConfig, evaluated: ScenarioConfig, what: str) -> None:
    """Refuse to evaluate an agent on another scenario (the episode length may differ)."""
    diff = trained.diff(evaluated, ignore=("episode_length_tti",))
    if diff:
        fields = ", ".join(f"{k}: trained {a!r}, evaluated {b!r}" for k, (a, b) in diff.items())
        raise ValueError(f"{what} was trained on another scenario ({fields}); pick the matching --preset")


def _load_policy(name: str, env):
    """A baseline by name, or a trained agent: `dqn:FOLDER` (from `train dqn`) or `ssvae:FILE.pt`."""
    from oran_gym.baselines import make_policy

    kind, _, path = name.partition(":")
    if kind == "dqn" and path:
        from oran_gym.agents.dqn import load_dqn

        if env.unwrapped.action_mode != "prb":
            raise ValueError("a DQN acts in the prb mode: pass --action-mode prb")
        model, meta = load_dqn(path)
        if meta:
            _check_same_scenario(ScenarioConfig.from_mapping(meta["scenario"]), env.unwrapped.config, f"the DQN in {path}")
        model.name = "dqn"
        return model
    if kind == "ssvae" and path:
        from oran_gym.agents.ssvae import SSVAEPolicy, load_ssvae

        model, cfg, _ = load_ssvae(path)
        _check_same_scenario(cfg, env.unwrapped.config, f"the SS-VAE in {path}")
        return SSVAEPolicy(env, model)
    return make_policy(name, env)


def cmd_train(args: argparse.Namespace) -> int:
    """Train a DQN or an SS-VAE and save it with its scenario and versions."""
    if args.agent == "dqn":
        from oran_gym.agents.dqn import train_dqn

        out = Path(args.out or f"runs/dqn_{args.preset}_{args.config}_seed{args.seed}")
        _, meta = train_dqn(args.preset, args.config, seed=args.seed, out_dir=out, total_timesteps=args.timesteps,
                            progress_bar=sys.stderr.isatty(), eval_freq=args.eval_freq)
        print(f"trained DQN ({args.config}) for {meta['total_timesteps']} steps in {meta['train_time_s']:.0f} s; saved in {out}/")
        for row in meta["eval_history"]:
            print(f"  step {row['step']}: reward gap to the oracle {row['optimality_gap_pct']:.1f} %")
        print(f"evaluate it: oran-gym evaluate dqn:{out} --preset {args.preset} --action-mode prb")
        return 0
    from oran_gym.agents.ssvae import SSVAEConfig, save_ssvae, train_ssvae
    from oran_gym.baselines.dataset import generate_dataset, load_dataset, sample_drop

    cfg = ScenarioConfig.preset(args.preset)
    out = Path(args.out or f"runs/ssvae_{args.preset}_{args.labels}labels_seed{args.seed}.pt")
    labels = load_dataset(generate_dataset(cfg, args.labels, out.with_suffix(".labels.npz"), seed=args.seed, progress=sys.stderr.isatty()))
    nets = [sample_drop(cfg, args.seed + 1_000_000, i) for i in range(2 * args.labels)]
    unlabelled = {"gains": np.stack([n.gain_lin for n in nets]), "offered_load_bps": np.stack([n.offered_load_bps for n in nets]),
                  "large_scale_db": np.stack([n.large_scale_db for n in nets])}
    conf = SSVAEConfig(seed=args.seed, epochs=args.epochs)
    model, hist = train_ssvae(cfg, labels, unlabelled, conf, progress=sys.stderr.isatty())
    save_ssvae(out, model, cfg, conf, hist)
    print(f"trained SS-VAE on {args.labels} MILP labels + {len(nets)} unlabelled drops in {hist['train_time_s']:.0f} s; saved {out}")
    print(f"evaluate it: oran-gym evaluate ssvae:{out} --preset {args.preset}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Evaluate a baseline policy over seeded episodes; print the summary and write the per-TTI CSV."""
    import gymnasium as gym

    import oran_gym  # noqa: F401
    from oran_gym.evaluation import evaluate_policy

    env = gym.make("ORANSlicing-v0", config=args.preset, action_mode=args.action_mode)
    policy = _load_policy(args.policy, env)  # a bad name or path: one line and status 2, from main()
    result = evaluate_policy(policy, env, n_episodes=args.episodes, seed=args.seed, progress=sys.stderr.isatty())
    print(f"policy {args.policy!r} on preset {args.preset!r}, {args.action_mode} mode, "
          f"{args.episodes} episode(s) from seed {args.seed} (means with 95 % CI across episodes)")
    print(result.table())
    out = Path(args.out or f"evaluate_{args.policy}_{args.preset}.csv")
    result.per_tti.to_csv(out, index=False)
    result.summary.to_csv(out.with_name(out.stem + "_summary.csv"))
    print(f"written: {out} (per TTI), {out.with_name(out.stem + '_summary.csv')} (summary)")
    return 0


def cmd_dataset(args: argparse.Namespace) -> int:
    """Generate an oracle-labelled dataset."""
    from oran_gym.baselines.dataset import generate_dataset, load_dataset

    path = generate_dataset(
        args.preset, args.samples, args.out, seed=args.seed, oracle=args.oracle, workers=args.workers,
        time_limit_s=args.time_limit, progress=sys.stderr.isatty(),
    )
    data = load_dataset(path)
    print(
        f"written: {path}: {len(data['value'])} samples of {args.preset!r} labelled by {args.oracle}; "
        f"proven optimal {int(data['proven_optimal'].sum())}/{len(data['value'])}, "
        f"median solve {np.median(data['solve_time_s']) * 1e3:.1f} ms"
    )
    return 0


KPI_FOLDER = Path("operator_kpis") / "network_operator_KPIs_time_series_dataset"
QOS_FILE = Path("qos5g") / "qos5g.csv"


def forecast_source(pipeline: str, data: Path | None) -> Path:
    """The file (qos) or folder (kpi) a forecasting pipeline reads, from `--data`.

    `--data` may be the data folder holding `qos5g/` and `operator_kpis/` (the layout of
    `../shared/data`), the QoS CSV itself, or the KPI dataset folder itself.
    """
    if data is None:
        raise FileNotFoundError("data not found; pass --data PATH (the folder holding qos5g/ and operator_kpis/) or set ORAN_GYM_DATA")
    if not data.exists():
        raise FileNotFoundError(f"--data {data} does not exist")
    if pipeline == "qos":
        candidates = [data] if data.is_file() else [data / QOS_FILE, data / QOS_FILE.name]
        what = "the QoS CSV, or a folder holding qos5g/qos5g.csv"
    else:
        if data.is_file():
            raise FileNotFoundError(f"--data {data} is a file; the kpi pipeline reads the operator-KPI dataset folder (holding data_series_info.txt)")
        candidates = [data, data / KPI_FOLDER, data / KPI_FOLDER.name]
        candidates = [c / "data_series_info.txt" for c in candidates]
        what = "the operator-KPI dataset folder, or a folder holding operator_kpis/network_operator_KPIs_time_series_dataset"
    for c in candidates:
        if c.is_file():
            return c if pipeline == "qos" else c.parent
    raise FileNotFoundError(f"--data {data} is not {what} (looked for {', '.join(str(c) for c in candidates)})")


def cmd_forecast(args: argparse.Namespace) -> int:
    """Run one forecasting pipeline on the real data; print its table beside the paper's figures."""
    import json

    from oran_gym.agents.forecasting import PAPER_KPI, PAPER_QOS, plot_kpi, run_kpi_pipeline, run_qos_pipeline
    from oran_gym.benchmarks.reproduce_forecasting import kpi_lines, qos_lines
    from oran_gym.data import data_dir, load_operator_kpis, load_qos5g

    source = forecast_source(args.pipeline, Path(args.data) if args.data else data_dir())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.pipeline == "kpi":
        df = load_operator_kpis(source)
        r = run_kpi_pipeline(df, epochs=args.epochs or 30, seed=args.seed)
        r["table"].to_csv(out / "forecast_kpi.csv", index=False)
        plot_kpi(r, out / "forecast_kpi.png")
        r["bundle"].save(out / "kpi_bilstm.pt")
        print("\n".join(kpi_lines({"table": r["table"].to_dict(orient="records"), "split": r["split"], "paper": PAPER_KPI})))
        print(f"written: {out}/forecast_kpi.csv, forecast_kpi.png, kpi_bilstm.pt (model with scaler and feature order)")
        return 0
    df = load_qos5g(source)
    res = {}
    for name, grouped in (("kfold", False), ("grouped", True)):
        r = run_qos_pipeline(df, folds=args.folds, grouped=grouped, seed=args.seed, epochs=args.epochs or 200,
                             progress=sys.stderr.isatty())
        r["summary"].to_csv(out / f"forecast_qos_{name}.csv")
        res[name] = r["summary"].reset_index().to_dict(orient="records")
        res["info"] = r["info"]
    print("\n".join(qos_lines({**res, "paper": PAPER_QOS, "folds": args.folds})))
    (out / "forecast_qos.json").write_text(json.dumps(res, indent=2, default=str))
    print(f"written: {out}/forecast_qos_kfold.csv, forecast_qos_grouped.csv, forecast_qos.json")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `oran-gym`."""
    from oran_gym import __version__

    ap = argparse.ArgumentParser(prog="oran-gym", description="O-RAN slicing benchmark environment (ORANSlicing-v0).")
    ap.add_argument("--version", action="version", version=f"oran-gym {__version__}")
    ap.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("info", help="print the scenario table of a preset")
    p.add_argument("--preset", default="paper", choices=sorted(PRESETS))
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p.set_defaults(func=cmd_info)
    p = sub.add_parser("check", help="run Gymnasium's and SB3's env checkers on every preset and mode")
    p.add_argument("--preset", default=None, choices=sorted(PRESETS), help="only this preset")
    p.set_defaults(func=cmd_check)
    from oran_gym.baselines import POLICY_NAMES

    p = sub.add_parser("train", help="train a DQN (prb mode) or an SS-VAE and save it with its scenario")
    p.add_argument("agent", choices=["dqn", "ssvae"])
    p.add_argument("--preset", default="paper", choices=sorted(PRESETS))
    p.add_argument("--config", default="paper", choices=["paper", "tuned"], help="DQN configuration")
    p.add_argument("--seed", type=int_at_least(0), default=0)
    p.add_argument("--timesteps", type=int_at_least(1), default=None, help="DQN steps (default: the configuration's episodes x steps)")
    p.add_argument("--eval-freq", type=int_at_least(1), default=None, help="DQN: log the gap to the oracle every N steps")
    p.add_argument("--labels", type=int_at_least(1), default=2000, help="SS-VAE: MILP-labelled samples")
    p.add_argument("--epochs", type=int_at_least(1), default=40, help="SS-VAE epochs")
    p.add_argument("--out", default=None, help="output folder (DQN) or .pt file (SS-VAE)")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("evaluate", help="evaluate a policy: summary table and per-TTI CSV")
    p.add_argument("policy", help=f"one of {', '.join(POLICY_NAMES)}, or dqn:FOLDER / ssvae:FILE.pt of a trained agent")
    p.add_argument("--preset", default="paper", choices=sorted(PRESETS))
    p.add_argument("--episodes", type=int_at_least(1), default=10)
    p.add_argument("--seed", type=int_at_least(0), default=0, help="episodes are seeded seed, seed + 1, ...")
    p.add_argument("--action-mode", default="full", choices=["full", "prb"])
    p.add_argument("--out", default=None, help="per-TTI CSV path (default evaluate_<policy>_<preset>.csv)")
    p.set_defaults(func=cmd_evaluate)
    p = sub.add_parser("dataset", help="generate an oracle-labelled dataset (.npz) for supervised policies")
    p.add_argument("--preset", default="paper", choices=sorted(PRESETS))
    p.add_argument("--samples", type=int_at_least(1), default=1000)
    p.add_argument("--out", default="dataset.npz")
    p.add_argument("--seed", type=int_at_least(0), default=0)
    p.add_argument("--oracle", default="milp", choices=["milp", "esa", "local_search"])
    p.add_argument("--workers", type=int_at_least(1), default=None, help="processes (default: every core but one)")
    p.add_argument("--time-limit", type=positive_float, default=60.0, help="HiGHS time limit per sample, seconds")
    p.set_defaults(func=cmd_dataset)
    p = sub.add_parser("forecast", help="run a forecasting pipeline on the real data (seed 000: qos, seed 001: kpi)")
    p.add_argument("pipeline", choices=["qos", "kpi"])
    p.add_argument("--data", default=None, help="the data folder holding qos5g/ and operator_kpis/ (default $ORAN_GYM_DATA or ../shared/data), or the QoS CSV / KPI dataset folder itself")
    p.add_argument("--out", default="forecast_results")
    p.add_argument("--folds", type=int_at_least(2), default=10, help="qos: cross-validation folds")
    p.add_argument("--epochs", type=int_at_least(1), default=None, help="maximum epochs (default: kpi 30, qos 200)")
    p.add_argument("--seed", type=int_at_least(0), default=0)
    p.set_defaults(func=cmd_forecast)
    p = sub.add_parser("sweep", help="run or resume a grid of evaluations, oracle labelling and training runs")
    p.add_argument("grid", help="grid file (YAML); see oran_gym/sweep.py or examples/sweep_tiny.yaml")
    p.add_argument("--backend", choices=["local", "ray"], default="local",
                   help="local: a process pool (default); ray: Ray tasks (pip install 'oran-gym[ray]')")
    p.add_argument("--workers", type=int_at_least(1), default=None, help="local backend: processes (default: every core but one)")
    p.add_argument("--address", default=None, help="ray backend: address of a running cluster (default: start a local one)")
    p.set_defaults(func=cmd_sweep)
    p = sub.add_parser("bench", help="run the benchmarks (results in ./oran-gym-results/ or --out-dir)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="reduced sizes and seeds (the default)")
    size.add_argument("--full", action="store_true", help="paper-scale runs (100 seeds, 3 training seeds, Fig. 6 sweep): hours")
    size.add_argument("--smoke", action="store_true", help="seconds per part: checks every part runs (CI); use with --out-dir")
    p.add_argument("--only", action="append", choices=[part for part, _, _ in BENCH_PARTS],
                   help="run only these parts (repeatable); default: all of them")
    p.add_argument("--out-dir", default=None, help="where results and REPORT.md go (default ./oran-gym-results; benchmarks/results is the committed record)")
    p.set_defaults(func=cmd_bench)
    return ap


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `oran-gym` console script.

    An error prints one line, `oran-gym COMMAND: error: WHAT`, and exits with status 2; `--debug`
    shows the traceback instead. Ctrl-C exits with 130.
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"oran-gym {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one clear line for the user; --debug for the traceback
        if args.debug:
            raise
        what = str(exc) or type(exc).__name__
        kind = "" if isinstance(exc, (ValueError, FileNotFoundError)) else f"{type(exc).__name__}: "
        print(f"oran-gym {args.command}: error: {kind}{what} (run with --debug for the traceback)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
