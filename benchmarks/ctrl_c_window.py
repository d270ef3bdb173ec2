"""How wide is the start-up window in which Ctrl-C prints a Python traceback?

    python benchmarks/ctrl_c_window.py VENV/bin/incidents [--trials 10] [--from 10 --to 90 --step 4]

Runs `incidents --version` (the installed console script: use a non-editable install)
and sends it SIGINT at increasing delays (milliseconds) after the spawn, TRIALS times
each, then counts what each run ended as: killed by the signal (before Python handles
it), a traceback in Python's own start-up or the console script's `import re`
("tb_python", out of our reach), a traceback through incidents_cli's imports before the
handler in incidents_cli/__main__.py ("tb_ours"), one quiet line and exit 130
("quiet130"), or done (exit 0). Wall times: run it on a quiet machine, compare installs
in alternating runs.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import signal
import subprocess
import time


def outcome(script: str, delay: float, env: dict[str, str]) -> str:
    process = subprocess.Popen(
        [script, "--version"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    start = time.perf_counter()
    while time.perf_counter() - start < delay:
        pass  # a busy wait: sleep's granularity is too coarse here
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGINT)
    _, err = process.communicate()
    if b"Traceback" in err:
        return "tb_ours" if b"incidents_cli" in err else "tb_python"
    if process.returncode == -signal.SIGINT:
        return "killed"
    return {130: "quiet130", 0: "done"}.get(process.returncode, f"exit {process.returncode}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script")
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--from", dest="first", type=int, default=10)
    parser.add_argument("--to", type=int, default=90)
    parser.add_argument("--step", type=int, default=4)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    total: collections.Counter[str] = collections.Counter()
    for ms in range(args.first, args.to, args.step):
        counts = collections.Counter(
            outcome(args.script, ms / 1000, env) for _ in range(args.trials)
        )
        total.update(counts)
        print(f"{ms:4d} ms  " + "  ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    print("total   " + "  ".join(f"{k}={v}" for k, v in sorted(total.items())))


if __name__ == "__main__":
    main()
