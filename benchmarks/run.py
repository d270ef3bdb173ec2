"""Run every benchmark and print a table: command, N, median wall time, peak memory.

    python benchmarks/run.py [--incidents 10000] [--repeat 7] [--work DIR]

Uses only the standard library. Repositories are made by generate.py (and kept in --work,
so a second run skips generating). Each figure is the median of --repeat runs of the real
console script in a fresh process; memory is the peak resident size of that process.
Targets are ratios to a floor measured on the same machine in the same run, so they hold on
any machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402

_MEASURE = (
    "import resource, subprocess, sys, time\n"
    "start = time.perf_counter()\n"
    "code = subprocess.run(sys.argv[2:], cwd=sys.argv[1], stdout=subprocess.DEVNULL,"
    " stderr=subprocess.DEVNULL).returncode\n"
    "took = time.perf_counter() - start\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(took, peak, code)\n"
)


@dataclass
class Result:
    name: str
    n: int
    median: float
    peak_mb: float
    note: str = ""


def measure(
    cwd: Path, *command: str, cold: bool = False, extra_env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Wall time (s) and peak RSS (MB) of one run of ``command`` in a fresh process.

    ``cold``: with the record cache off (INCIDENTS_NO_CACHE=1), as in a fresh CI clone.
    ``extra_env``: more environment (the shell's completion request, say).
    """
    env = {**os.environ, "INCIDENTS_NO_CACHE": "1"} if cold else None
    if extra_env:
        env = {**(env or os.environ), **extra_env}
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(cwd), *command],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.split()
    if out[2] not in ("0", "1"):
        raise RuntimeError(f"{' '.join(command)} exited {out[2]}")
    return float(out[0]), int(out[1]) / 1024


def median_of(repeat: int, run: Callable[[int], tuple[float, float]]) -> tuple[float, float]:
    times, peaks = [], []
    for index in range(repeat):
        took, peak = run(index)
        times.append(took)
        peaks.append(peak)
    return statistics.median(times), max(peaks)


def incidents_exe() -> str:
    exe = shutil.which("incidents", path=str(Path(sys.executable).parent)) or shutil.which(
        "incidents"
    )
    if exe is None:
        sys.exit("install the CLI first: pip install .")
    return exe


def bench_help(repeat: int) -> list[Result]:
    """`incidents --help`, and the floor of any click program: starting Python and
    importing click, measured alternately in the same run."""
    exe = incidents_exe()
    helps, clicks = [], []
    for _ in range(repeat):
        helps.append(measure(Path.cwd(), exe, "--help"))
        clicks.append(measure(Path.cwd(), sys.executable, "-c", "import click"))
    help_median = statistics.median(t for t, _ in helps)
    click_median = statistics.median(t for t, _ in clicks)
    return [
        Result("python -c 'import click' (floor)", 0, click_median, max(p for _, p in clicks)),
        Result(
            "incidents --help",
            0,
            help_median,
            max(p for _, p in helps),
            f"target < 0.100 s; {help_median / click_median:.2f}x importing click",
        ),
    ]


def bench_transition(repo: Path, n: int, repeat: int) -> list[Result]:
    """`incidents ack` against a bare `git add` + `git commit` of the same file."""
    exe = incidents_exe()
    open_ids = sorted(
        p.stem
        for p in (repo / "incidents").glob("*.yaml")
        if "phase: detected" in p.read_text(encoding="utf-8")
    )
    if len(open_ids) < repeat:
        sys.exit(f"{repo} has {len(open_ids)} unacknowledged incidents; regenerate it")

    def ack(index: int) -> tuple[float, float]:
        return measure(repo, exe, "ack", open_ids[index], "--severity", "low", "--by", "bench")

    def git_commit(index: int) -> tuple[float, float]:
        path = repo / "incidents" / f"{open_ids[index]}.yaml"
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"# benchmark edit {index}\n")
        rel = f"incidents/{path.name}"
        script = f"git add {rel} && git commit -q -m 'benchmark {index}'"
        return measure(repo, "sh", "-c", script)

    # Alternate the two so both see the same machine load and the same repository size.
    acks, gits = [], []
    # The bare commit edits the file after the ack, so the ack sees it as the CLI wrote it.
    for index in range(repeat):
        acks.append(ack(index))
        gits.append(git_commit(index))
    ack_median, ack_peak = statistics.median(t for t, _ in acks), max(p for _, p in acks)
    git_median, git_peak = statistics.median(t for t, _ in gits), max(p for _, p in gits)
    ratio = ack_median / git_median
    return [
        Result("git add + git commit (floor)", n, git_median, git_peak),
        Result("incidents ack", n, ack_median, ack_peak, f"{ratio:.1f}x floor (target <= 3x)"),
    ]


def bench_ingest(repo: Path, n: int, repeat: int, work: Path) -> list[Result]:
    """`incidents ingest` of one firing generic alert (a new group each time: a declare)
    against a bare `git add` + `git commit` of a new file, alternately."""
    exe = incidents_exe()
    payloads = work / "payloads"
    payloads.mkdir(parents=True, exist_ok=True)

    def ingest(index: int) -> tuple[float, float]:
        alert = {
            "title": f"Benchmark check {index} fails",
            "status": "firing",
            "dedup_key": f"bench-{index}",
            "regions": ["eu-west"],
        }
        path = payloads / f"alert-{index}.json"
        path.write_text(json.dumps(alert), encoding="utf-8")
        return measure(repo, exe, "ingest", "generic", str(path))

    def git_commit(index: int) -> tuple[float, float]:
        rel = f"incidents/bench-floor-{index}.txt"
        (repo / rel).write_text(f"benchmark {index}\n", encoding="utf-8")
        script = f"git add {rel} && git commit -q -m 'benchmark {index}'"
        return measure(repo, "sh", "-c", script)

    ingests, gits = [], []
    for index in range(repeat):
        ingests.append(ingest(index))
        gits.append(git_commit(index))
    ingest_median = statistics.median(t for t, _ in ingests)
    git_median = statistics.median(t for t, _ in gits)
    ratio = ingest_median / git_median
    return [
        Result(
            "git add + git commit of a new file (floor)", n, git_median, max(p for _, p in gits)
        ),
        Result(
            "incidents ingest generic (declares)",
            n,
            ingest_median,
            max(p for _, p in ingests),
            f"{ratio:.1f}x floor",
        ),
    ]


_FLOOR = (
    "import pathlib, sys, yaml\n"
    "root = pathlib.Path(sys.argv[1])\n"
    "files = sorted(root.glob('incidents/*.yaml')) + sorted(root.glob('postmortems/*.md'))\n"
    "for path in files:\n"
    "    text = path.read_text(encoding='utf-8')\n"
    "    if path.suffix == '.md':\n"
    "        text = text.split('\\n---\\n', 1)[0][4:]\n"
    "    yaml.load(text, Loader=yaml.CSafeLoader)\n"
)


def bench_reading(repo: Path, n: int, repeat: int) -> list[Result]:
    """validate, site build, list and actions against the floor: reading and YAML-parsing
    every record. Cold runs have the record cache off, as a fresh CI clone would."""
    exe = incidents_exe()
    floor, floor_peak = median_of(
        repeat, lambda _: measure(repo, sys.executable, "-c", _FLOOR, str(repo))
    )
    cold_validate = median_of(repeat, lambda _: measure(repo, exe, "validate", cold=True))
    warm_validate = median_of(repeat, lambda _: measure(repo, exe, "validate"))
    out = repo.parent / f"site-{n}"
    build = ("site", "build", "--out", str(out))
    cold_full = median_of(repeat, lambda _: measure(repo, exe, *build, cold=True))
    warm_full = median_of(repeat, lambda _: measure(repo, exe, *build))
    open_id = next(
        p.stem
        for p in sorted((repo / "incidents").glob("*.yaml"))
        if "phase: detected" in p.read_text(encoding="utf-8")
    )
    subprocess.run(
        [exe, "ack", open_id, "--severity", "low"], cwd=repo, check=True, capture_output=True
    )

    def rebuild(index: int) -> tuple[float, float]:
        subprocess.run(
            [
                exe,
                "update",
                open_id,
                "--status",
                "investigating",
                "--message",
                f"Benchmark update {index}",
            ],
            cwd=repo,
            check=True,
            capture_output=True,
        )
        return measure(repo, exe, *build)

    again = median_of(repeat, rebuild)
    listing = median_of(repeat, lambda _: measure(repo, exe, "list", "--open"))
    overdue = median_of(repeat, lambda _: measure(repo, exe, "actions", "--overdue"))
    # What bash asks when a responder types `incidents ack INC-<TAB>`.
    request = {
        "_INCIDENTS_COMPLETE": "bash_complete",
        "COMP_WORDS": "incidents ack INC-",
        "COMP_CWORD": "2",
    }
    completing = median_of(repeat, lambda _: measure(repo, exe, extra_env=request))
    return [
        Result("read + YAML-parse every record (floor)", n, floor, floor_peak),
        Result(
            "incidents validate (cold)",
            n,
            *cold_validate,
            f"{cold_validate[0] / floor:.1f}x floor (target <= 3x)",
        ),
        Result(
            "incidents validate (warm cache)",
            n,
            *warm_validate,
            f"{warm_validate[0] / floor:.2f}x floor",
        ),
        Result(
            "incidents site build (full, cold)",
            n,
            *cold_full,
            f"{cold_full[0] / floor:.1f}x floor (target <= 4x, < 500 MB)",
        ),
        Result(
            "incidents site build (full, warm cache)",
            n,
            *warm_full,
            f"{warm_full[0] / floor:.1f}x floor",
        ),
        Result(
            "incidents site build (one incident changed)",
            n,
            *again,
            f"{again[0] / cold_full[0]:.2f} of the cold build (target < 0.10)",
        ),
        Result("incidents list --open (warm cache)", n, *listing, "target < 1 s"),
        Result("incidents actions --overdue (warm cache)", n, *overdue, "target < 1 s"),
        Result("incidents ack INC-<TAB> (completion, warm)", n, *completing, "target < 0.2 s"),
    ]


def ensure_repo(work: Path, n: int) -> Path:
    repo = work / f"repo-{n}"
    marker = work / f"repo-{n}.complete"
    if not marker.exists():
        if repo.exists():
            shutil.rmtree(repo)
        print(f"generating {n} incidents in {repo} ...", file=sys.stderr)
        generate(repo, n)
        marker.write_text("ok\n")
        subprocess.run(
            ["git", "-C", str(repo), "tag", "-f", "generated"], check=True, capture_output=True
        )
    else:  # undo what earlier benchmark runs committed
        subprocess.run(["git", "-C", str(repo), "reset", "-q", "--hard", "generated"], check=True)
        subprocess.run(["git", "-C", str(repo), "clean", "-qfdx"], check=True)
    return repo


def table(results: list[Result]) -> str:
    rows = [("command", "N", "median s", "peak MB", "")]
    rows += [
        (r.name, str(r.n) if r.n else "-", f"{r.median:.3f}", f"{r.peak_mb:.0f}", r.note)
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = [
        " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    ]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the incidents benchmarks.")
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "incidents-bench"
    )
    parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
    parser.add_argument(
        "--only", choices=["transitions", "reading"], help="Run one group of benchmarks."
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    repo = ensure_repo(args.work, args.incidents)
    results: list[Result] = []
    if args.only in (None, "transitions"):
        results += [*bench_help(args.repeat), *bench_transition(repo, args.incidents, args.repeat)]
        results += bench_ingest(repo, args.incidents, args.repeat, args.work)
    if args.only in (None, "reading"):
        repo = ensure_repo(args.work, args.incidents)
        results += bench_reading(repo, args.incidents, max(3, args.repeat // 2))
    if args.json:
        print(json.dumps([r.__dict__ for r in results], indent=2))
    else:
        print(table(results))


if __name__ == "__main__":
    main()
