"""`validate`'s work on each record, on every core, kept by git blob id.

A record is parsed and checked on its own (its schema and the rules that need nothing but
the record) where it is read, in a worker (see store/parallel.py), and comes back as its
findings and the few names the rules across records need (``core.rules.Facts``), never as the
record: the command holds facts, not records, so its memory does not grow with the records'
size, and little crosses between processes. The results are kept by blob id and path in
`.git/incidents-cache` (JSON only; shards, as in store/cache.py), under a name that changes
with the CLI's version and with the schemas and rules that made them, so a warm `validate`,
and the one that `site build` runs first, parse only the files that changed.

A file git does not vouch for (uncommitted, untracked, outside git) is always checked afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from incidents_cli.core.findings import Finding
from incidents_cli.core.records import RecordFile, classify
from incidents_cli.core.rules import Facts, cross_findings, facts_of, own_findings
from incidents_cli.store.cache import (
    WITH_PLACES,
    LazyDocument,
    cache_entry,
    load_shards,
    prune_packs,
    save_shards,
    snapshot,
    write_pack,
)
from incidents_cli.store.git import blob_id
from incidents_cli.store.layout import read_record, record_paths
from incidents_cli.store.parallel import bulk, iter_chunks

CHECKS_FORMAT = 1


class Checked(NamedTuple):
    """What `validate` keeps of one record: the findings of the record on its own, and
    its facts (None when it does not parse or follow its schema: then the rules across
    records never see it, as they never see a record of the wrong shape)."""

    kind: str
    rel: str
    findings: tuple[Finding, ...]
    facts: Facts | None


def check_record(record: RecordFile) -> Checked:
    """One record on its own: reading problems, schema problems, and (for a record of the
    right shape) the findings of its own rules, with its facts."""
    from incidents_cli.store.schemas import schema_findings

    if record.error is not None or record.doc is None:
        assert record.error is not None
        return Checked(record.kind, record.rel, (Finding.from_error(record.error),), None)
    findings = [Finding.from_error(problem) for problem in record.doc.problems]
    findings.extend(schema_findings(record))
    if findings:
        return Checked(record.kind, record.rel, tuple(findings), None)
    return Checked(record.kind, record.rel, tuple(own_findings(record)), facts_of(record))


def all_findings(
    checked: Sequence[Checked], record_at: Callable[[str], RecordFile]
) -> list[Finding]:
    """Every finding: each record's own, then the rules across records on the facts (which
    ask ``record_at`` for a record only to place a finding)."""
    findings = [finding for result in checked for finding in result.findings]
    facts = [result.facts for result in checked if result.facts is not None]
    findings.extend(cross_findings(facts, record_at))
    return findings


def reader(root: Path, given: Sequence[RecordFile] = ()) -> Callable[[str], RecordFile]:
    """``record_at`` for ``all_findings``: a record read again, with its places (or one of
    ``given``, which may not be on disk as they are)."""
    by_rel = {record.rel: record for record in given}

    def record_at(rel: str) -> RecordFile:
        if rel in by_rel:
            return by_rel[rel]
        kind = classify(rel)
        assert kind is not None, rel
        return read_record(root, rel, kind)

    return record_at


Derive = Callable[[str, str, Any, str | None, str, Any], Any]
"""What a command makes of an incident, where it is parsed: called in a worker with its path,
blob id (from git, or hashed from the file) and data (it follows its schema), and those of its
postmortem (postmortems/<ID>.md, parsed by the same worker; None, "-", None for an incident
that has none); the result must be plain data (it is sent back)."""


def check_all(
    root: Path,
    keep: Sequence[str] = (),
    derive: Derive | None = None,
    derived: dict[str, Any] | None = None,
) -> tuple[list[Checked], list[RecordFile]]:
    """Every record of the repository checked on its own, in file order, from the cache
    where git vouches for the content; and the records of the kinds in ``keep`` that were
    parsed for it and follow their schema (without places: read again if one is asked for),
    for a command that uses them next (`site build`: each file is parsed once).

    With ``derive``, an incident is not sent back as a record: ``derive`` is applied to it
    (and its postmortem, checked by the same worker) where it is parsed, and its result put
    in ``derived`` by path (site build's public views: made on every core, and the records
    stay where they were parsed). Where that cannot be done (a postmortem from the cache, or
    one that does not follow its schema), the records are sent back as for ``keep``."""
    global _DERIVE
    _DERIVE = derive
    try:
        with bulk():
            return _check_all(root, frozenset(keep), derived if derive is not None else None)
    finally:
        _DERIVE = None


_DERIVE: Derive | None = None
"""``derive`` of the check_all under way, for the workers (forked: they have it already)."""


def _check_all(
    root: Path, keep: frozenset[str], derived: dict[str, Any] | None
) -> tuple[list[Checked], list[RecordFile]]:
    snap = snapshot(root)
    blobs = snap.blobs if snap is not None else {}
    name = _cache_name()
    cache = load_shards(snap, name) if snap is not None else {}
    kept: dict[str, Any] = {}
    names: dict[str, str] = {}  # each name once: thousands of records name the same people
    results: list[Checked | None] = []
    misses: dict[str, tuple[int, str | None, str, str | None]] = {}  # by path
    paths = record_paths(root)
    for rel, kind in paths:
        blob = blobs.get(rel)
        key = f"{blob}:{rel}" if blob is not None else None
        # (the snapshot holds no symlink, which read_record refuses)
        entry = cache[key] if key is not None and key in cache else None
        hit = _from_entry(rel, kind, entry, names) if entry is not None else None
        if hit is not None and key is not None:
            kept[key] = cache[key]
            results.append(hit)
            continue
        misses[rel] = (len(results), key, kind, blob)
        results.append(None)
    groups, items = _items(root, misses, keep, _partners(paths) if derived is not None else {})
    if snap is not None and not keep and len(misses) * 10 >= len(results) > 0:
        # A cold `validate`: the workers keep what they parse in the record cache too, for
        # the commands that read records next (see store/cache.py write_pack). Not for a
        # caller that keeps the records it needs (`site build`, CI's one step): nothing in
        # the same command reads the packs, and the next build reads these checks and its
        # views from their own caches.
        prune_packs(snap.folder)
        items = [(*item[:5], str(snap.folder), *item[6:]) for item in items]
    _prepare({kind for _, _, kind, _ in misses.values()})
    records: list[RecordFile] = []
    done = iter_chunks(_check_items, items)
    for (index, key), (result, data, made) in zip(
        (miss for group in groups for miss in group),
        (out for outs in done for out in outs),
        strict=True,
    ):
        if result.facts is not None:
            shared = tuple([names.setdefault(name, name) for name in result.facts.names])
            result = result._replace(facts=result.facts._replace(names=shared))
        results[index] = result
        entry = _entry(result)
        if key is not None and entry is not None:
            kept[key] = entry
        if data is not None:
            records.append(_record(root, result, data))
        if made is not None and derived is not None:
            derived[result.rel] = made
    if snap is not None and kept.keys() != cache.keys():
        save_shards(snap, name, kept, cache)
    return [result for result in results if result is not None], records


def _prepare(kinds: set[str]) -> None:
    """What every process that checks records needs, made once here before the workers are
    forked (else each makes its own): the validators of these kinds (compiled, with an
    empty user cache: a CI runner's) and the fast YAML reader."""
    from incidents_cli.store.schemas import prepare_validators
    from incidents_cli.store.yamlio import fast_path_available

    if kinds:
        prepare_validators(sorted(kinds))
        fast_path_available()


_Kept = tuple[Any, str, int]
"""The data, body and body line of a record that a command uses next."""

_Item = tuple[str, str, str, str, str | None, str, str, str | None]
"""A file to check: root, path, kind, what to send back besides its findings and facts
("keep": the record; "derive": what ``_DERIVE`` makes of it; ""), its blob id, the cache
folder if the record is to be kept in the record cache (else ""); for an incident to derive,
the path and blob id of its postmortem, checked with it ("" and None: it has none)."""

_Out = tuple[Checked, _Kept | None, Any]
"""What comes back of one file: its result, its record if asked for, what was derived."""

_Miss = tuple[int, str | None]
"""A file to check: its place in the results, and its cache key (None: not kept)."""


def _partners(paths: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Each incident of ``paths`` and the path of its postmortem file (postmortems/<ID>.md),
    or "" if it has none."""
    from incidents_cli.core.records import INCIDENTS_DIR, POSTMORTEMS_DIR

    files = {rel for rel, kind in paths if kind == "postmortem"}
    partners: dict[str, str] = {}
    for rel, kind in paths:
        if kind == "incident" and rel.startswith(f"{INCIDENTS_DIR}/"):
            stem = rel[len(INCIDENTS_DIR) + 1 :].rsplit(".", 1)[0]
            postmortem = f"{POSTMORTEMS_DIR}/{stem}.md"
            partners[rel] = postmortem if postmortem in files else ""
    return partners


def _items(
    root: Path,
    misses: dict[str, tuple[int, str | None, str, str | None]],
    keep: frozenset[str],
    partners: dict[str, str],
) -> tuple[list[list[_Miss]], list[_Item]]:
    """The files to check, in file order, and the results each item gives: one, or two for an
    incident checked with its postmortem (both missed), whose view is derived from both."""
    groups: list[list[_Miss]] = []
    items: list[_Item] = []
    paired: set[str] = set()
    for rel, (index, key, kind, blob) in misses.items():
        if rel in paired:
            continue
        partner = partners.get(rel)
        way = "derive" if partner is not None else "keep" if kind in keep else ""
        if partner and partner in misses:
            pm_index, pm_key, _, pm_blob = misses[partner]
            paired.add(partner)
            groups.append([(index, key), (pm_index, pm_key)])
            items.append((str(root), rel, kind, way, blob, "", partner, pm_blob))
            continue
        if partner:  # its postmortem comes from the cache: the record is sent back
            way = "keep" if kind in keep else ""
        groups.append([(index, key)])
        items.append((str(root), rel, kind, way, blob, "", "", None))
    return groups, items


def _check_items(items: Sequence[_Item]) -> list[list[_Out]]:
    """What a worker does: each file read and checked on its own (an incident to derive with
    its postmortem); the record itself, or what ``_DERIVE`` makes of it, only where it is
    asked for (and the records follow their schema); the records git vouches for written to
    the record cache, if the folder is given."""
    out: list[list[_Out]] = []
    packs: dict[str, dict[str, Any]] = {}
    folder = ""
    for root, rel, kind, way, blob, folder, pm_rel, pm_blob in items:
        record, result = _checked(Path(root), rel, kind, bool(folder))
        outs: list[_Out] = [(result, _kept(record, result, way), None)]
        checked = [(record, result, blob)]
        if way == "derive":
            pm = _checked(Path(root), pm_rel, "postmortem", bool(folder)) if pm_rel else None
            made = _derived(Path(root), (record, result, blob), pm, pm_blob)
            if pm is not None:
                outs.append((pm[1], None if made is not None else _kept(*pm, "keep"), None))
                checked.append((*pm, pm_blob))
            if made is not None:
                outs[0] = (result, None, made)
            else:  # nothing derived: the record, as for "keep"
                outs[0] = (result, _kept(record, result, "keep"), None)
        out.append(outs)
        for done, done_result, done_blob in checked if folder else ():
            if done_blob and done.doc is not None and not done.doc.problems:
                entry = cache_entry(done, done_result.facts is not None)
                packs.setdefault(done.kind, {})[done_blob] = entry
    for kind, entries in packs.items():
        write_pack(Path(folder), kind, entries)
    return out


def _checked(root: Path, rel: str, kind: str, packed: bool) -> tuple[RecordFile, Checked]:
    """A file read and checked (``packed``: for the record cache, which keeps the places of
    some kinds; else read with them only for a finding)."""
    placed = packed and kind in WITH_PLACES
    record = read_record(root, rel, kind, places=placed)
    result = check_record(record)
    if result.findings and not placed:  # read again, for their places
        record = read_record(root, rel, kind)
        result = check_record(record)
    return record, result


def _kept(record: RecordFile, result: Checked, way: str) -> _Kept | None:
    if result.facts is None or way != "keep":
        return None
    return (record.data, record.body, record.body_line)


def _derived(
    root: Path,
    incident: tuple[RecordFile, Checked, str | None],
    postmortem: tuple[RecordFile, Checked] | None,
    pm_blob: str | None,
) -> Any:
    """What ``_DERIVE`` makes of an incident and its postmortem (None if either does not
    follow its schema, or a file cannot be read again to hash it)."""
    record, result, blob = incident
    if _DERIVE is None or result.facts is None:
        return None
    content = blob or _blob_id(root / record.rel)
    if postmortem is None:
        return _DERIVE(record.rel, content, record.data, None, "-", None) if content else None
    pm_record, pm_result = postmortem
    pm_content = pm_blob or _blob_id(root / pm_record.rel)
    if pm_result.facts is None or not content or not pm_content:
        return None
    return _DERIVE(record.rel, content, record.data, pm_record.rel, pm_content, pm_record.data)


def _blob_id(path: Path) -> str | None:
    """The blob id git would give the file's content (None if it cannot be read)."""
    try:
        return blob_id(path.read_bytes())
    except OSError:
        return None


def _record(root: Path, result: Checked, kept: _Kept) -> RecordFile:
    data, body, body_line = kept
    doc = LazyDocument(root, result.rel, data, result.kind)
    record = RecordFile(result.kind, result.rel, doc, body=body, body_line=body_line)
    record.known_valid = True  # it has no findings of its own
    return record


@cache
def _cache_name() -> str:
    """The cache's name: its format, and a digest of what decides the findings (the
    schemas and the modules of the rules), so that a change of either is a miss for every
    record, also in a development install whose version stays the same."""
    import zlib

    from incidents_cli.core import document, postmortems, rules, settings, text, timeutil
    from incidents_cli.store import schemas, yamlio
    from incidents_cli.store.resources import data_dir

    digest = 0
    modules = (rules, postmortems, settings, text, timeutil, document, schemas, yamlio)
    sources = [Path(module.__file__ or "") for module in modules]
    for path in [*sorted(data_dir("schemas").glob("*.json")), *sources, Path(__file__)]:
        try:
            digest = zlib.crc32(path.read_bytes(), digest)
        except OSError:
            digest = zlib.crc32(path.name.encode("utf-8"), digest)
    return f"checks-f{CHECKS_FORMAT}-{digest:08x}"


def _entry(result: Checked) -> list[Any] | None:
    """A result as cache data: [findings as [line, column, field, message, level], facts as
    [names, provides], each joined by NUL (a character no record that has facts holds), or
    null]; None for one that cannot be kept so (never expected)."""
    if any(finding.path != result.rel for finding in result.findings):
        return None
    findings = [list(finding[1:]) for finding in result.findings]
    if result.facts is None:
        return [findings, None]
    names, provides = "\0".join(result.facts.names), "\0".join(result.facts.provides)
    if len(_split(names)) != len(result.facts.names):
        return None
    if len(_split(provides)) != len(result.facts.provides):
        return None
    return [findings, [names, provides]]


def _split(joined: str, names: dict[str, str] | None = None) -> tuple[str, ...]:
    if not joined:
        return ()
    if names is None:
        return tuple(joined.split("\0"))
    return tuple([names.setdefault(name, name) for name in joined.split("\0")])


def _from_entry(rel: str, kind: str, entry: Any, names: dict[str, str]) -> Checked | None:
    """The result a cache entry holds, or None (a miss) if it is not of our shape."""
    if type(entry) is not list or len(entry) != 2 or type(entry[0]) is not list:
        return None
    findings = []
    for item in entry[0]:
        if not (type(item) is list and len(item) == 5 and _strings(item[2:])):
            return None
        line, column, field, message, level = item
        if type(line) is not int or type(column) is not int:
            return None
        findings.append(Finding(rel, line, column, field, message, level))
    facts = entry[1]
    if facts is None:
        return Checked(kind, rel, tuple(findings), None)
    if type(facts) is not list or len(facts) != 2:
        return None
    refers, provides = facts
    if type(refers) is not str or type(provides) is not str:
        return None
    facts = Facts(rel, kind, _split(refers, names), _split(provides))
    return Checked(kind, rel, tuple(findings), facts)


def _strings(values: Any) -> bool:
    return type(values) is list and all(type(value) is str for value in values)
