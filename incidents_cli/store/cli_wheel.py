"""The wheel of the running CLI and the versions of its dependencies, for CI to install.

`incidents init` and `incidents ci update` copy both into a team's repository (.incidents/),
so its workflows install exactly the CLI that ran, from git, without asking a package index
for the CLI at all.

The wheel is assembled here from the files the running CLI is made of, instead of being
fetched or rebuilt by a build backend: that works offline and in well under a second, after
`pip install .`, `pip install incidents` and `pip install -e .` alike. Its layout is the one
pyproject.toml gives hatchling: the package, with the shipped data copied under
``incidents_cli/_data/`` (from wherever ``data_dir`` finds it: the installed copy, or the
top-level folders of a source checkout), and the installed distribution's metadata. The same
CLI always gives the same bytes (sorted entries, fixed times and modes, and no compression,
since zlib's output differs between its versions), so updating twice changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from incidents_cli import __version__
from incidents_cli.core.errors import SetupError
from incidents_cli.store.resources import DATA_KINDS, data_dir

DISTRIBUTION = "incidents"
PACKAGE = "incidents_cli"

_PACKAGE_DIR = Path(__file__).resolve().parent.parent
# Written by installers, not part of a wheel; RECORD and WHEEL are made anew.
_INSTALLER_FILES = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "WHEEL"}
_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip file can hold
_WHEEL = (
    "Wheel-Version: 1.0\n"
    "Generator: incidents (rebuilt from the running CLI)\n"
    "Root-Is-Purelib: true\n"
    "Tag: py3-none-any\n"
)


@dataclass(frozen=True)
class Wheel:
    filename: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _skipped(path: Path) -> bool:
    name = path.name
    return (
        name == "__pycache__"
        or name.startswith(".")
        or name.endswith((".pyc", ".pyo", ".tmp", "~"))
    )


def _files_under(folder: Path) -> list[tuple[str, Path]]:
    """(posix path relative to ``folder``, file), sorted, without caches and dotfiles."""
    found: list[tuple[str, Path]] = []
    stack = [folder]
    while stack:
        current = stack.pop()
        for entry in current.iterdir():
            if _skipped(entry):
                continue
            if entry.is_dir():
                stack.append(entry)
            elif entry.is_file():
                found.append((entry.relative_to(folder).as_posix(), entry))
    return sorted(found)


def installed_distribution() -> metadata.Distribution:
    """The metadata of the running CLI, checked to be of the running version."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise SetupError(
            "the running incidents CLI is not installed as a package, so it cannot be "
            "copied for CI: install it with pip (pip install .), or choose --cli SPEC"
        ) from None
    if dist.version != __version__:
        raise SetupError(
            f"the installed metadata of incidents says {dist.version}, but the running CLI "
            f"is {__version__}: reinstall it (pip install .)"
        )
    return dist


def _dist_info_files(dist: metadata.Distribution) -> dict[str, bytes]:
    """The metadata files a wheel carries (METADATA, entry points, licenses), by name."""
    out: dict[str, bytes] = {}
    for entry in dist.files or ():
        parts = entry.parts
        if len(parts) < 2 or not parts[0].endswith(".dist-info"):
            continue
        name = "/".join(parts[1:])
        if name in _INSTALLER_FILES or name.endswith(".pth"):
            continue
        out[name] = Path(str(entry.locate())).read_bytes()
    for name in ("METADATA", "entry_points.txt"):  # an installer that wrote no RECORD
        if name not in out:
            text = dist.read_text(name)
            if text is None:
                raise SetupError(f"the installed incidents package has no {name}: reinstall it")
            out[name] = text.encode("utf-8")
    return out


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode('ascii')}"


def wheel_filename(version: str = __version__) -> str:
    return f"{DISTRIBUTION}-{version}-py3-none-any.whl"


def build_cli_wheel() -> Wheel:
    """The wheel of the running CLI (see the module's docstring for how it is made)."""
    dist = installed_distribution()
    files: dict[str, bytes] = {}
    for rel, path in _files_under(_PACKAGE_DIR):
        if rel.split("/", 1)[0] == "_data":
            continue  # taken from data_dir below, wherever it is
        files[f"{PACKAGE}/{rel}"] = path.read_bytes()
    for kind in DATA_KINDS:
        for rel, path in _files_under(data_dir(kind)):
            files[f"{PACKAGE}/_data/{kind}/{rel}"] = path.read_bytes()
    info = f"{DISTRIBUTION}-{__version__}.dist-info"
    for name, data in sorted(_dist_info_files(dist).items()):
        files[f"{info}/{name}"] = data
    files[f"{info}/WHEEL"] = _WHEEL.encode("ascii")
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode("utf-8")

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        # Package files first, sorted; the metadata last, RECORD at the very end (as wheels do).
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, date_time=_EPOCH)
            entry.create_system = 3  # Unix, so the mode below is read
            entry.external_attr = 0o100644 << 16
            entry.compress_type = zipfile.ZIP_STORED
            archive.writestr(entry, data)
    return Wheel(wheel_filename(), buffer.getvalue())


def dependency_pins(dist: metadata.Distribution | None = None) -> list[str]:
    """``name==version`` of every package the CLI needs here, dependencies of dependencies
    too, sorted by name.

    Markers are evaluated for this interpreter: a dependency needed only on another Python
    is left unpinned (a constraints file only narrows what gets installed, so CI still
    installs it, at the newest version).
    """
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    root = dist or installed_distribution()
    pins: dict[str, str] = {}
    queue: list[tuple[metadata.Distribution, frozenset[str]]] = [(root, frozenset())]
    seen: set[tuple[str, frozenset[str]]] = set()
    while queue:
        current, extras = queue.pop()
        for line in current.requires or ():
            try:
                requirement = Requirement(line)
            except InvalidRequirement:
                continue
            marker = requirement.marker
            if marker is not None and not any(
                marker.evaluate({"extra": extra}) for extra in {"", *extras}
            ):
                continue
            name = canonicalize_name(requirement.name)
            try:
                found = metadata.distribution(requirement.name)
            except metadata.PackageNotFoundError:
                continue
            pins[name] = found.version
            key = (name, frozenset(requirement.extras))
            if key not in seen:
                seen.add(key)
                queue.append((found, frozenset(requirement.extras)))
    pins.pop(canonicalize_name(DISTRIBUTION), None)
    return [f"{name}=={version}" for name, version in sorted(pins.items())]
