"""`tradeoff-tui`: the app with no preset; a headless run with --preset; presets, report and predict.

Imports stay lazy: `tradeoff-tui --help` answers without torch, textual or the engine.
"""

from __future__ import annotations

import argparse
import sys

from tui.errors import UsageError


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="PATH", help="results database (default: the user data directory)")


def _main_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tradeoff-tui",
        description="Measure and predict the accuracy, energy and latency of long-context model "
        "configurations. With no --preset, opens the interactive app.",
        epilog="commands: tradeoff-tui presets | report | predict | merge  (each with --help)",
    )
    p.add_argument("--preset", metavar="NAME|PATH", help="run a preset headless (built-in name or TOML file)")
    _common(p)
    p.add_argument(
        "--export",
        metavar="FILE",
        action="append",
        default=[],
        help="write the report (.html .svg .txt .json .csv); repeatable",
    )
    p.add_argument("--fresh", action="store_true", help="measure again what the database already holds")
    p.add_argument(
        "--timeout",
        metavar="S",
        type=float,
        help="seconds one configuration may take before it is stopped (default: the preset's "
        "[run] timeout_s, else its budget plus an allowance for the other phases)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="validate and plan: print every configuration, its timeout and what it needs on disk; "
        "measure nothing (exit 2 when something is missing)",
    )
    p.add_argument(
        "--executor",
        choices=("local", "ray"),
        help="what measures: local child processes (default) or Ray tasks (the preset's [run] executor)",
    )
    p.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="the Ray cluster for --executor ray (default: RAY_ADDRESS, else a Ray started for the run)",
    )
    p.add_argument(
        "--sample", metavar="F", help="measure a subset (a fraction in (0,1] or a count) and predict the rest"
    )
    p.add_argument("--no-color", action="store_true", help="no colour (also NO_COLOR=1)")
    p.add_argument("--no-mouse", action="store_true", help="the app leaves the mouse to the terminal")
    return p


def _report_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tradeoff-tui report",
        description="Rebuild a report from stored records, without measuring: one per machine, or with "
        "--preset the grid of the machine that measured last on its device.",
    )
    _common(p)
    p.add_argument(
        "--preset", metavar="NAME|PATH", help="only this preset's grid, with predictions for the rest"
    )
    p.add_argument(
        "--export", metavar="FILE", action="append", default=[], help="write the report; repeatable"
    )
    return p


def _predict_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tradeoff-tui predict",
        description="Fit the cost model on stored records and predict a preset's grid.",
    )
    _common(p)
    p.add_argument("--preset", metavar="NAME|PATH", required=True, help="the grid to predict")
    p.add_argument(
        "--fit-on",
        metavar="EXPR",
        help="fit only on records matching EXPR, e.g. 'input_len <= 512 and size != \"small\"'",
    )
    p.add_argument(
        "--gen-tokens",
        metavar="T",
        type=int,
        help="predict generation at T output tokens (measured or not): prefill plus T-1 decoding steps",
    )
    p.add_argument(
        "--export", metavar="FILE", action="append", default=[], help="write the report; repeatable"
    )
    return p


def _merge_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tradeoff-tui merge",
        description="Pool results databases (made on machines without a shared disk) into OUT: one record "
        "per configuration and machine fingerprint, the newer where two differ. The inputs are only read.",
    )
    p.add_argument("out", metavar="OUT", help="the database to merge into (created if absent)")
    p.add_argument("inputs", metavar="IN", nargs="+", help="databases to merge from")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "presets":
            argparse.ArgumentParser(
                prog="tradeoff-tui presets", description="List the built-in presets."
            ).parse_args(argv[1:])
            from engine.preset import builtin_presets

            for name, description in builtin_presets():
                print(f"{name:10} {description}")
            return 0
        if argv and argv[0] == "report":
            from tui.headless import report

            return report(_report_parser().parse_args(argv[1:]))
        if argv and argv[0] == "merge":
            from tui.headless import merge

            return merge(_merge_parser().parse_args(argv[1:]))
        if argv and argv[0] == "predict":
            from tui.headless import predict

            return predict(_predict_parser().parse_args(argv[1:]))
        args = _main_parser().parse_args(argv)
        if args.preset:
            from tui.headless import run

            return run(args)
        from tui.app import run_app

        return run_app(db_path=args.db, preset=None, no_color=args.no_color, mouse=not args.no_mouse)
    except UsageError as exc:
        print(f"tradeoff-tui: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
