"""The ``pyrodis`` command line: train, evaluate, report, study, datasets, presets."""

from __future__ import annotations

from pyrodis.openmp import set_passive_wait

# Before torch is imported anywhere: OpenMP spin-waiting makes torch ~10x slower on a loaded
# machine with few cores (libgomp reads this once, when it is loaded).
set_passive_wait()

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402

from pyrodis.cli_parser import build_parser  # noqa: E402
from pyrodis.runs.config import ConfigError  # noqa: E402
from pyrodis.runs.config_files import parse_override  # noqa: E402


def _budget(args: argparse.Namespace) -> str:
    if args.schedule is not None:
        print("pyrodis train: --schedule is deprecated, use --budget", file=sys.stderr)
        if args.budget is not None and args.budget != args.schedule:
            raise ConfigError("--schedule (deprecated) and --budget disagree; give only --budget")
    return args.budget or args.schedule or "cpu"


def _track_override(track: list[str]) -> list[str]:
    """``--track`` as the override of ``[train] track`` (it replaces the config's list)."""
    return [f"train.track={json.dumps(track)}"] if track else []


def _cmd_train(args: argparse.Namespace) -> int:
    from pyrodis.runs.resolve import resolve_config
    from pyrodis.runs.run_directory import RunDirectory
    from pyrodis.runs.train import check_resume, default_out, train_run
    from pyrodis.training import TrainingInterrupted

    flags = {"--preset": args.preset, "--config": args.config, "--set": args.overrides}
    flags.update({"--dataset": args.dataset, "--seed": args.seed, "--track": args.track})
    flags.update({"--data": args.data, "--labels": args.labels})
    check_resume(bool(args.resume), [f for f, v in flags.items() if v not in (None, [], "")])
    config = None
    if not args.resume:
        config = resolve_config(
            preset=args.preset,
            budget=_budget(args),
            config_file=args.config,
            dataset=args.dataset,
            data_path=args.data_path,
            images=args.data,
            labels=args.labels,
            seed=args.seed,
            device=args.device,
            overrides=[*args.overrides, *_track_override(args.track)],
        )
        if args.dry_run:
            print(json.dumps(config.to_dict(), indent=2))
            return 0
    out = args.resume or args.out or default_out(config)
    try:
        run = train_run(
            out,
            config,
            resume=bool(args.resume),
            steps=args.steps,
            progress=not args.no_progress,
            device=args.device if args.resume else None,
        )
    except TrainingInterrupted as stop:
        print(
            f"\ninterrupted at step {stop.step}; checkpoint saved in {out}/checkpoints. "
            f"Continue with: pyrodis train --resume {out}",
            file=sys.stderr,
        )
        return 130
    except KeyboardInterrupt:  # a second Ctrl-C mid-step, or one before training started
        kept = (
            f"{out} keeps its last checkpoint. Continue with: pyrodis train --resume {out}"
            if RunDirectory(out).config_file.exists()
            else "nothing was written"
        )
        print(f"\nstopped at once (second interrupt) without saving; {kept}", file=sys.stderr)
        return 130
    last = run.history[-1] if run.history else {}
    shown = ", ".join(f"{k}={v:.4g}" for k, v in last.items() if k not in ("step", "lr"))
    print(f"trained {run.path} to step {run.step}" + (f": {shown}" if shown else ""))
    print(f"next: pyrodis evaluate {run.path} && pyrodis report {run.path}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from pyrodis.runs.evaluate import evaluate_run

    metrics = args.metrics.split(",") if args.metrics else None
    options: dict = {}
    for text in args.options:
        parsed = parse_override(text)
        if not all(isinstance(v, dict) for v in parsed.values()):
            raise ConfigError(f"--set {text!r} must look like metric.key=value")
        for metric, values in parsed.items():
            options.setdefault(metric, {}).update(values)
    result = evaluate_run(
        args.run,
        metrics=metrics,
        options=options,
        repeats=args.repeats,
        seed=args.seed,
        representation=args.representation,
        device=args.device or "cpu",
        labels=args.labels,
    )
    print(result.table())
    _print_unscored(args.run)
    print(f"wrote {args.run / 'metrics.json'}")
    return 0


def _print_unscored(run) -> None:
    """The label-free evidence and the metrics not computed, with why (runs on own images)."""
    from pyrodis.runs.run_directory import RunDirectory

    record = RunDirectory(run).read_metrics() or {}
    if "label_free" in record:
        found = ", ".join(f"{k} {v['value']:.4g}" for k, v in record["label_free"].items())
        print(f"label-free evidence: {found}")
    for key, what in (("needs_labels", "needs labels"), ("not_applicable", "not applicable")):
        by_reason: dict[str, list[str]] = {}
        for metric, why in record.get(key, {}).items():
            by_reason.setdefault(why, []).append(metric)
        for why, metrics in by_reason.items():
            print(f"{what}: {', '.join(metrics)}: {why}")


def _cmd_report(args: argparse.Namespace) -> int:
    from pyrodis.runs.report.run_report import write_report
    from pyrodis.runs.trained_run import load_run

    run = load_run(args.run, device=args.device or "cpu")
    if args.out is not None:
        try:
            args.out.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ConfigError(
                f"cannot write the report to --out {args.out} ({err.strerror or err}); choose a "
                "writable directory"
            ) from None
    path = write_report(run, out_dir=args.out, num_points=run.config.eval.num_points)
    print(f"wrote {path}")
    return 0


def _cmd_explore(args: argparse.Namespace) -> int:
    from pyrodis.explore import run_from_args

    return run_from_args(args)  # prints its own errors and returns 2 on them


def _cmd_datasets(args: argparse.Namespace) -> int:
    from pyrodis.data import DATA_PATH_HELP, list_datasets

    found = {None: "procedural", True: "files found", False: "files missing"}
    for d in list_datasets():
        factors = ", ".join(f"{k} {v}" for k, v in d["factors"].items())
        print(f"{d['name']:16s} {found[d['files_found']]:13s} {factors}")
    print("\n--data-path FILE|DIR (or $PYRODIS_DATA): where the official files are (docs/data.rst)")
    print(
        f"\nyour own images, factors unknown: pyrodis train --data PATH, where PATH is {DATA_PATH_HELP}"
    )
    print("  --labels FILE.csv: labels of some of them (a header, one row per file name)")
    return 0


def _cmd_presets(args: argparse.Namespace) -> int:
    from pyrodis.runs.objectives import OBJECTIVES
    from pyrodis.runs.presets import describe_presets

    for name, description in describe_presets().items():
        print(f"{name:14s} {description}")
    print("\nbudgets: --budget cpu (minutes on a laptop; default) | paper (published)")
    print("\nobjectives ([objective] name = ...):")
    for name, objective in OBJECTIVES.items():
        print(f"  {name:14s} {objective.description}")
    return 0


def _cmd_study(args: argparse.Namespace) -> int:
    if args.study_command == "run":
        from pyrodis.runs.study.ray_runner import run_study

        try:
            rows = run_study(
                args.study_file, args.out, address=args.address, max_concurrent=args.max_concurrent
            )
        except KeyboardInterrupt:
            print(
                f"study interrupted; finished trials and the running trials' checkpoints are kept "
                f"in {args.out}: run the same `pyrodis study run` again to continue",
                file=sys.stderr,
            )
            return 130
        failed = [r["trial"] for r in rows if r["status"] != "done"]
        print(f"wrote {args.out / 'results.csv'} ({len(rows) - len(failed)}/{len(rows)} done)")
        for name in failed:
            print(f"  not done: {name}", file=sys.stderr)
        return 1 if failed else 0
    from pyrodis.runs.study.report import write_study_report

    print(f"wrote {write_study_report(args.dir, args.out)}")
    return 0


_COMMANDS = {
    "train": _cmd_train,
    "evaluate": _cmd_evaluate,
    "report": _cmd_report,
    "explore": _cmd_explore,
    "datasets": _cmd_datasets,
    "presets": _cmd_presets,
    "study": _cmd_study,
}


def _show_warnings_plainly(prefix: str) -> None:
    """Warnings (e.g. the image files skipped) as one line ``prefix: warning: message``, not
    Python's file:line form (only the format changes: warnings are still warnings, so
    ``warnings.catch_warnings`` and ``-W`` see them)."""
    import warnings

    def one_line(message, category, filename, lineno, line=None) -> str:
        return f"{prefix}: warning: {message}\n"

    warnings.formatwarning = one_line


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pyrodis`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from pyrodis.version import __version__

        print(__version__)
        return 0
    if args.command is None:
        parser.print_help()
        return 2
    from pyrodis.runs.checkpoint import CheckpointError

    _show_warnings_plainly(f"pyrodis {args.command}")
    try:
        return _COMMANDS[args.command](args)
    except (ConfigError, CheckpointError, FileExistsError, FileNotFoundError) as err:
        print(f"pyrodis {args.command}: error: {err}", file=sys.stderr)
        return 2  # a usage error: the message says what to change
    except (FloatingPointError, OSError) as err:  # a diverged run; a disk or permission problem
        print(f"pyrodis {args.command}: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
