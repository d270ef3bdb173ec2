"""Build the status site with two revisions of the tool and compare the bytes.

    python benchmarks/compare_site.py BASE_REV [--incidents 2000] [--rev HEAD]

A refactoring must not change what is published. This makes two sample repositories (the
demo's, and one of N generated incidents), builds each site with the tool as it was at
BASE_REV and as it is at --rev (each from a `git worktree` of this repository, run with
`python -m incidents_cli` so nothing needs installing), and compares every file byte for
byte. It prints the files that differ and exits 1 if any do (the manifest of page keys,
.incidents-site, names the tool's code, so between two revisions it is only noted).
"""

from __future__ import annotations

import argparse
import filecmp
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MANIFEST = ".incidents-site"


def _commit(rev: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--verify", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def _tool(rev: str, where: Path) -> Path:
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(where), rev],
        check=True,
        capture_output=True,
    )
    return where


def _incidents(tool: Path, *args: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(tool), "INCIDENTS_NO_CACHE": "1"}
    # cwd: `python -m` puts the current folder first on sys.path, so run from this
    # repository's root it would import the tool found there, not the one at ``tool``.
    subprocess.run(
        [sys.executable, "-m", "incidents_cli", *args],
        check=True,
        env=env,
        capture_output=True,
        cwd=tool,
    )


def _differences(left: Path, right: Path) -> list[str]:
    out: list[str] = []
    compared = filecmp.dircmp(left, right)
    stack = [(compared, "")]
    while stack:
        node, prefix = stack.pop()
        out += [f"{prefix}{n} (only in base)" for n in node.left_only]
        out += [f"{prefix}{n} (only in new)" for n in node.right_only]
        for name in node.common_files:
            if not filecmp.cmp(Path(node.left) / name, Path(node.right) / name, shallow=False):
                out.append(f"{prefix}{name}")
        stack += [(sub, f"{prefix}{name}/") for name, sub in node.subdirs.items()]
    return sorted(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the revision to compare with (e.g. main~3)")
    parser.add_argument("--rev", default="HEAD", help="the revision to check (default: HEAD)")
    parser.add_argument("--incidents", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        base, new = _tool(args.base, tmp / "base"), _tool(args.rev, tmp / "new")
        try:
            _incidents(new, "demo", str(tmp / "demo"))
            subprocess.run(
                [
                    sys.executable,
                    str(HERE / "generate.py"),
                    str(tmp / "generated"),
                    "--incidents",
                    str(args.incidents),
                ],
                check=True,
                capture_output=True,
                env={**os.environ, "PYTHONPATH": str(new)},
            )
            failed = 0
            for sample in ("demo", "generated"):
                built = {}
                for name, tool in (("base", base), ("new", new)):
                    out = tmp / f"{sample}-{name}"
                    _incidents(tool, "-C", str(tmp / sample), "site", "build", "--out", str(out))
                    built[name] = out
                diff = _differences(built["base"], built["new"])
                files = sum(1 for p in built["new"].rglob("*") if p.is_file())
                # The manifest's page keys name the tool's code (tool_key): between two
                # revisions of the code they always differ, and say nothing of the pages.
                keys = MANIFEST in diff and _commit(args.base) != _commit(args.rev)
                diff = [line for line in diff if not (keys and line == MANIFEST)]
                note = f" ({MANIFEST}: its keys name the tool's code)" if keys else ""
                print(f"{sample}: {files} files, {len(diff)} differ{note}")
                for line in diff[:20]:
                    print(f"  {line}")
                failed += bool(diff)
        finally:
            for where in (base, new):
                subprocess.run(
                    ["git", "-C", str(REPO), "worktree", "remove", "--force", str(where)],
                    capture_output=True,
                )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
