"""Run every benchmark and print a table: command, N, median wall time, peak memory.

    python benchmarks/run.py [--incidents 2000 --incidents 10000] [--repeat 7] [--work DIR]

Uses only the standard library. Repositories are made by generate.py (and kept in --work,
so a second run skips generating). Each figure is the median of --repeat runs of the real
console script in a fresh process, with the spread (fastest to slowest) and the CPU time
(user + system, of the process and every process it waited for: workers too); memory is
the peak resident size of the largest process. Targets are ratios to a floor measured on
the same machine in the same run, so they hold on any machine.
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
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(took, usage.ru_maxrss, code, usage.ru_utime + usage.ru_stime)\n"
)


@dataclass
class Result:
    name: str
    n: int
    median: float
    peak_mb: float
    note: str = ""
    spread: str = ""
    cpu: float | None = None


def measure(
    cwd: Path, *command: str, cold: bool = False, extra_env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Wall time (s) and peak RSS (MB) of one run of ``command`` in a fresh process.

    ``cold``: with the record cache off (INCIDENTS_NO_CACHE=1), as in a fresh CI clone.
    ``extra_env``: more environment (the shell's completion request, say).
    """
    took, peak, _ = measure_cpu(cwd, *command, cold=cold, env=extra_env)
    return took, peak


def measure_cpu(
    cwd: Path, *command: str, cold: bool = False, env: dict[str, str] | None = None
) -> tuple[float, float, float]:
    """Wall time (s), peak RSS (MB) and CPU time (s) of one run of ``command``."""
    environment = {**os.environ, **(env or {})}
    if cold:
        environment["INCIDENTS_NO_CACHE"] = "1"
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(cwd), *command],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    ).stdout.split()
    if out[2] not in ("0", "1"):
        raise RuntimeError(f"{' '.join(command)} exited {out[2]}")
    return float(out[0]), int(out[1]) / 1024, float(out[3])


@dataclass
class Sample:
    """Repeated runs of one command: median wall time, its spread, median CPU, peak memory."""

    median: float
    low: float
    high: float
    cpu: float
    peak: float

    def result(self, name: str, n: int, note: str = "") -> Result:
        spread = f"{self.low:.2f}-{self.high:.2f}"
        return Result(name, n, self.median, self.peak, note, spread, self.cpu)

    def ratio(self, floor: Sample) -> str:
        """Wall and CPU time as same-run ratios to the floor."""
        return f"{self.median / floor.median:.2f}x floor (cpu {self.cpu / floor.cpu:.2f}x)"


def sample(repeat: int, run: Callable[[int], tuple[float, float, float]]) -> Sample:
    runs = [run(index) for index in range(repeat)]
    times = [t for t, _, _ in runs]
    return Sample(
        statistics.median(times),
        min(times),
        max(times),
        statistics.median(c for _, _, c in runs),
        max(p for _, p, _ in runs),
    )


def median_of(repeat: int, run: Callable[[int], tuple[float, float]]) -> tuple[float, float]:
    times, peaks = [], []
    for index in range(repeat):
        took, peak = run(index)
        times.append(took)
        peaks.append(peak)
    return statistics.median(times), max(peaks)


TRASH = ".trash"


def set_aside(path: Path) -> None:
    """Move a folder that a timed run must not find out of its way, into the work folder's
    trash (emptied by ``empty_trash`` when nothing is being timed), instead of deleting it.

    Deleting thousands of files just before a timed run that creates thousands of files
    charges that run for the deletion: ext4 without a journal (this project's machines)
    never reuses an inode freed in the last minute or more, and scans past every such inode
    of the block group for each file it creates (`recently_deleted` in the kernel's
    ialloc.c), which made a cold site build at 10,000 incidents spend 2-3 s of system time
    creating its files. A CI runner builds in a fresh clone, where nothing was just deleted.
    """
    if not path.exists():
        return
    trash = path.parent / TRASH
    trash.mkdir(exist_ok=True)
    path.rename(Path(tempfile.mkdtemp(prefix=f"{path.name}-", dir=trash)) / path.name)


def empty_trash(work: Path) -> None:
    """Delete what ``set_aside`` moved out of the way (outside any timed run). A run started
    within minutes of another's end pays for these deletions in turn: leave a few minutes
    between runs that are compared."""
    for trash in [work / TRASH, *work.glob(f"*/{TRASH}")]:
        shutil.rmtree(trash, ignore_errors=True)


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
        helps.append(measure_cpu(Path.cwd(), exe, "--help"))
        clicks.append(measure_cpu(Path.cwd(), sys.executable, "-c", "import click"))
    help_sample = sample(repeat, lambda i: helps[i])
    click_sample = sample(repeat, lambda i: clicks[i])
    return [
        click_sample.result("python -c 'import click' (floor)", 0),
        help_sample.result(
            "incidents --help",
            0,
            f"target < 0.100 s; {help_sample.median / click_sample.median:.2f}x importing "
            f"click (cpu {help_sample.cpu / click_sample.cpu:.2f}x)",
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

    def ack(index: int) -> tuple[float, float, float]:
        return measure_cpu(repo, exe, "ack", open_ids[index], "--severity", "low", "--by", "bench")

    def git_commit(index: int) -> tuple[float, float, float]:
        path = repo / "incidents" / f"{open_ids[index]}.yaml"
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"# benchmark edit {index}\n")
        rel = f"incidents/{path.name}"
        script = f"git add {rel} && git commit -q -m 'benchmark {index}'"
        return measure_cpu(repo, "sh", "-c", script)

    def least(index: int) -> tuple[float, float, float]:
        path = repo / "incidents" / f"{open_ids[index]}.yaml"
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"# lower bound edit {index}\n")
        return measure_cpu(repo, sys.executable, "-c", _LEAST, f"incidents/{path.name}")

    # Alternate them so all see the same machine load and the same repository size.
    acks, gits, leasts = [], [], []
    # The bare commit edits the file after the ack, so the ack sees it as the CLI wrote it.
    for index in range(repeat):
        acks.append(ack(index))
        gits.append(git_commit(index))
        leasts.append(least(index))
    ack_sample = sample(repeat, lambda i: acks[i])
    git_sample = sample(repeat, lambda i: gits[i])
    least_sample = sample(repeat, lambda i: leasts[i])
    target = "target <= 2x at 10k, <= 3x at 2k"
    return [
        git_sample.result("git add + git commit (floor)", n),
        ack_sample.result("incidents ack", n, f"{ack_sample.ratio(git_sample)} ({target})"),
        least_sample.result(
            "Python, click, PyYAML + git commit (least)", n, least_sample.ratio(git_sample)
        ),
    ]


_LEAST = (
    "import subprocess, sys\n"
    "import click, yaml\n"
    "subprocess.run(['git', 'commit', '-q', '--file=-', '--include', '--', sys.argv[1]],"
    " input=b'benchmark', check=True)\n"
)
"""The least any transition of a click program that reads and writes YAML with PyYAML can
cost: start Python, import click, PyYAML and subprocess (to run git), and commit the
file in one `git commit --include`; no record is read, nothing is checked."""


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


def bench_reading(
    repo: Path, n: int, repeat: int, floors: dict[int, Sample] | None = None
) -> list[Result]:
    """validate, site build, stats, list and actions against the floor: one process reading
    every record and parsing it with PyYAML's C loader (incidents, and postmortems' front
    matter). Cold runs have the record cache off, as a fresh CI clone would."""
    exe = incidents_exe()
    floor = sample(repeat, lambda _: measure_cpu(repo, sys.executable, "-c", _FLOOR, str(repo)))
    if floors is not None:
        floors[n] = floor
    cold_validate = sample(repeat, lambda _: measure_cpu(repo, exe, "validate", cold=True))
    one_core = sample(
        repeat,
        lambda _: measure_cpu(repo, exe, "validate", cold=True, env={"INCIDENTS_WORKERS": "1"}),
    )
    warm_validate = median_of(repeat, lambda _: measure(repo, exe, "validate"))
    cold_stats = sample(repeat, lambda _: measure_cpu(repo, exe, "stats", cold=True))
    out = repo.parent / f"site-{n}"
    build = ("site", "build", "--out", str(out))

    def cold_build(_: int) -> tuple[float, float, float]:
        set_aside(out)  # CI builds into an empty folder (see set_aside: not deleted now)
        return measure_cpu(repo, exe, *build, cold=True)

    cold_full = sample(repeat, cold_build)
    warm_full = median_of(repeat, lambda _: measure(repo, exe, *build))
    open_id = next(
        p.stem
        for p in sorted((repo / "incidents").glob("*.yaml"))
        if "phase: detected" in p.read_text(encoding="utf-8")
    )
    subprocess.run(
        [exe, "ack", open_id, "--severity", "low"], cwd=repo, check=True, capture_output=True
    )

    def rebuild(index: int) -> tuple[float, float, float]:
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
        return measure_cpu(repo, exe, *build)

    again = sample(repeat, rebuild)
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
        floor.result("read + YAML-parse every record (floor)", n),
        cold_validate.result(
            "incidents validate (cold)", n, f"{cold_validate.ratio(floor)}; target <= 1.0x"
        ),
        one_core.result("incidents validate (cold, INCIDENTS_WORKERS=1)", n, one_core.ratio(floor)),
        Result(
            "incidents validate (warm cache)",
            n,
            *warm_validate,
            f"{warm_validate[0] / floor.median:.2f}x floor",
        ),
        cold_stats.result(
            "incidents stats (cold)", n, f"{cold_stats.ratio(floor)}; target <= 1.0x"
        ),
        cold_full.result(
            "incidents site build (full, cold)",
            n,
            f"{cold_full.ratio(floor)}; target <= 1.0x",
        ),
        Result(
            "incidents site build (full, warm cache)",
            n,
            *warm_full,
            f"{warm_full[0] / floor.median:.2f}x floor",
        ),
        again.result(
            "incidents site build (one incident changed)",
            n,
            f"{again.median / cold_full.median:.3f} of the cold build "
            f"(cpu {again.cpu / cold_full.cpu:.3f}; target <= 0.05 at 10k, <= 0.1 at 2k)",
        ),
        Result("incidents list --open (warm cache)", n, *listing, "target < 1 s"),
        Result("incidents actions --overdue (warm cache)", n, *overdue, "target < 1 s"),
        Result("incidents ack INC-<TAB> (completion, warm)", n, *completing, "target < 0.2 s"),
    ]


def bench_ci(repo: Path, n: int, repeat: int, floor: Sample) -> list[Result]:
    """What CI pays: a fresh clone of the whole history (the publish workflow checks out
    with fetch-depth 0: maintenance.ics counts each window's commits) and `site build`
    (which validates first, as the publish workflow's one step runs it) into an empty
    folder, with an empty user cache (no compiled validators or templates) and no record
    cache; then the same with the record cache restored (as actions/cache does)."""
    exe = incidents_exe()
    work = repo.parent / f"ci-{n}"
    kept = repo.parent / f"ci-{n}-record-cache"
    set_aside(kept)
    script = (
        f"git clone -q file://{repo} clone && cd clone && "
        "if [ -d ../record-cache ]; then cp -r ../record-cache .git/incidents-cache; fi && "
        f"{exe} site build --format github --out ../site > /dev/null"
    )

    def run(index: int, restored: bool) -> tuple[float, float, float]:
        set_aside(work)  # a fresh runner: nothing was deleted just before (see set_aside)
        (work / "home").mkdir(parents=True)
        if restored:
            shutil.copytree(kept, work / "record-cache")
        env = {"XDG_CACHE_HOME": str(work / "home"), "INCIDENTS_NO_CACHE": "0"}
        took = measure_cpu(work, "sh", "-c", script, env=env)
        if not restored and not kept.exists():
            shutil.copytree(work / "clone" / ".git" / "incidents-cache", kept)
        return took

    # Alternated, cold then restored: each run leaves thousands of new files for the disk
    # to write back, which slows the runs right after it; a block of one kind after a block
    # of the other would charge that to the second kind.
    runs = [(run(index, False), run(index, True)) for index in range(repeat)]
    cold = sample(repeat, lambda index: runs[index][0])
    restored = sample(repeat, lambda index: runs[index][1])
    set_aside(work)
    return [
        cold.result(
            "CI: clone + site build (validates)",
            n,
            f"{cold.ratio(floor)}; target <= 2.0x",
        ),
        restored.result("CI, with the record cache restored", n, restored.ratio(floor)),
    ]


_HUGO_SINGLE = "<!doctype html><title>{{ .Title }}</title><h1>{{ .Title }}</h1>{{ .Content }}\n"
_HUGO_LIST = (
    "<!doctype html><title>{{ .Title }}</title><ul>{{ range .Pages }}"
    '<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>\n'
)


def bench_hugo(repo: Path, n: int, repeat: int, floor: Sample) -> list[Result]:
    """Hugo, with trivial templates, on the same records (each incident's YAML as a page's
    front matter): the static site generator a git-backed status page usually runs on."""
    hugo = shutil.which("hugo")
    if hugo is None:
        print("hugo is not installed: the Hugo comparison is skipped", file=sys.stderr)
        return []
    site = repo.parent / f"hugo-{n}"
    if not (site / "complete").exists():
        shutil.rmtree(site, ignore_errors=True)
        content = site / "content" / "incidents"
        content.mkdir(parents=True)
        (site / "layouts" / "_default").mkdir(parents=True)
        (site / "layouts" / "_default" / "single.html").write_text(_HUGO_SINGLE)
        (site / "layouts" / "_default" / "list.html").write_text(_HUGO_LIST)
        (site / "layouts" / "index.html").write_text(_HUGO_LIST)
        (site / "config.yaml").write_text(
            "baseURL: https://status.example.com/\ntitle: Benchmark Status\n"
            "disableKinds: [taxonomy, term, RSS, sitemap, robotsTXT]\n"
        )
        for path in sorted((repo / "incidents").glob("*.yaml")):
            text = path.read_text(encoding="utf-8")
            (content / f"{path.stem}.md").write_text(f"---\n{text}---\n", encoding="utf-8")
        (site / "complete").write_text("ok\n")
    out = repo.parent / f"hugo-{n}-public"

    def build(_: int) -> tuple[float, float, float]:
        set_aside(out)  # as for our own build
        return measure_cpu(site, hugo, "--quiet", "--destination", str(out))

    version = subprocess.run([hugo, "version"], capture_output=True, text=True).stdout.split()
    result = sample(repeat, build)
    name = f"hugo {version[1] if len(version) > 1 else ''}, trivial templates (full, cold)"
    return [result.result(name, n, result.ratio(floor))]


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
    rows = [("command", "N", "median s", "spread s", "cpu s", "peak MB", "")]
    rows += [
        (
            r.name,
            str(r.n) if r.n else "-",
            f"{r.median:.3f}",
            r.spread,
            "" if r.cpu is None else f"{r.cpu:.3f}" if r.cpu < 1 else f"{r.cpu:.2f}",
            f"{r.peak_mb:.0f}",
            r.note,
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    ]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the incidents benchmarks.")
    parser.add_argument(
        "--incidents",
        type=int,
        action="append",
        help="Repository size; repeat for several (default: 2,000 and 10,000).",
    )
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "incidents-bench"
    )
    parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")
    parser.add_argument(
        "--only",
        choices=["transitions", "reading", "ci"],
        help="Run one group of benchmarks (ci: the CI figure and Hugo, after the floor).",
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    empty_trash(args.work)  # an interrupted run's
    results: list[Result] = []
    try:
        for n in args.incidents or [2_000, 10_000]:
            results += run_size(args, n)
    finally:
        empty_trash(args.work)
    if args.json:
        print(json.dumps([r.__dict__ for r in results], indent=2))
    else:
        print(table(results))


def run_size(args: argparse.Namespace, n: int) -> list[Result]:
    """Every benchmark group at one repository size."""
    repo = ensure_repo(args.work, n)
    results: list[Result] = []
    if args.only in (None, "transitions"):
        results += [*bench_help(args.repeat), *bench_transition(repo, n, args.repeat)]
        results += bench_ingest(repo, n, args.repeat, args.work)
    floors: dict[int, Sample] = {}
    repeat = max(3, args.repeat // 2)
    if args.only in (None, "reading"):
        repo = ensure_repo(args.work, n)
        results += bench_reading(repo, n, repeat, floors)
    if args.only in (None, "ci"):
        repo = ensure_repo(args.work, n)
        floor = floors.get(n) or sample(
            repeat, lambda _: measure_cpu(repo, sys.executable, "-c", _FLOOR, str(repo))
        )
        if args.only == "ci":
            results.append(floor.result("read + YAML-parse every record (floor)", n))
        results += bench_ci(repo, n, repeat, floor)
        results += bench_hugo(repo, n, repeat, floor)
    return results


if __name__ == "__main__":
    main()
