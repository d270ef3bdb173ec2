"""Add N small commits to an incident repository, quickly (one `git fast-import`).

    python benchmarks/long_history.py REPO --commits 60000 [--window maintenance/MNT-0002.yaml]

For what grows with the length of the history rather than the number of records: the
calendar's SEQUENCE numbers count each maintenance record's commits. Each commit changes a
file outside the site's inputs (notes.txt), except that every 500th rewords the maintenance
window WINDOW (its first "Writes may" becomes "Writes might") and the next one puts it back,
so the window's commit count grows while HEAD's tree stays that of the records (the demo's
repository, `incidents demo DIR`, has such a window). The work tree is reset to HEAD after.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

EVERY = 500


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=True)
    return done.stdout.decode().strip()


def _blob(path: str, data: bytes) -> bytes:
    return f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n"


def stream(branch: str, parent: str, window: str, text: bytes, commits: int) -> bytes:
    """The fast-import stream of ``commits`` commits on ``branch`` after ``parent``."""
    changed = text.replace(b"Writes may", b"Writes might", 1)
    parts: list[bytes] = []
    stamp = 1_764_000_000
    for number in range(commits):
        message = f"note {number}\n".encode()
        parts.append(
            f"commit {branch}\ncommitter Bench <bench@example.com> {stamp + number} +0000\n"
            f"data {len(message)}\n".encode()
            + message
        )
        if number == 0:
            parts.append(f"from {parent}\n".encode())
        if number % EVERY == 1:
            parts.append(_blob(window, changed))
        elif number % EVERY == 2:
            parts.append(_blob(window, text))
        else:
            parts.append(_blob("notes.txt", f"{number}\n".encode()))
        parts.append(b"\n")
    return b"".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--commits", type=int, default=60_000)
    parser.add_argument("--window", default="maintenance/MNT-0002.yaml")
    args = parser.parse_args()
    repo: Path = args.repo
    text = (repo / args.window).read_bytes()
    made = stream(
        _git(repo, "symbolic-ref", "HEAD"),
        _git(repo, "rev-parse", "HEAD"),
        args.window,
        text,
        args.commits,
    )
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], input=made, check=True)
    subprocess.run(["git", "-C", str(repo), "reset", "-q", "--hard"], check=True)


if __name__ == "__main__":
    main()
