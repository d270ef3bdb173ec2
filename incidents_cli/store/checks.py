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

from collections.abc import Callable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, NamedTuple

from incidents_cli.core.errors import InputFileError
from incidents_cli.core.findings import Finding
from incidents_cli.core.records import RecordFile, classify
from incidents_cli.core.rules import Facts, cross_findings, facts_of, own_findings
from incidents_cli.store.cache import (
    WITH_PLACES,
    LazyDocument,
    Snapshot,
    cache_entry,
    load_shards,
    prune_packs,
    save_shards,
    snapshot,
    write_pack,
)
from incidents_cli.store.cache_files import read_cache_text
from incidents_cli.store.git import blob_id
from incidents_cli.store.layout import read_record, record_paths
from incidents_cli.store.parallel import CHUNKS_PER_WORKER, MIN_ITEMS, bulk, iter_chunks
from incidents_cli.store.yamlio import read_bytes

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
that has none); the result must be plain data (it is sent back). A derive with a ``finish``
method is given the list of what it made of a chunk, at its end, and its list is sent."""


def check_all(
    root: Path,
    keep: Sequence[str] = (),
    derive: Derive | None = None,
    derived: MutableMapping[str, Any] | None = None,
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
    with _deriving(derive):
        return _check_all(root, frozenset(keep), derived if derive is not None else None)


def site_findings(
    root: Path,
    keep: Sequence[str] = (),
    derive: Derive | None = None,
    derived: MutableMapping[str, Any] | None = None,
    facts: dict[str, str | None] | None = None,
) -> tuple[list[Finding], list[RecordFile]]:
    """``all_findings`` of ``check_all``, and its records: for `site build`, which runs
    after every commit. The last check's results are kept in one file (``_State``): a
    rebuild checks only the files that changed since, and reuses the findings of the rules
    across records where no changed file's facts changed (nor one of those findings is in
    a changed file, whose lines may have moved). ``facts``: filled with the digest of each
    record's facts (``facts_key``) by path, where the results were kept."""
    with _deriving(derive):
        return _site_findings(root, frozenset(keep), derived if derive is not None else None, facts)


@contextmanager
def _deriving(derive: Derive | None) -> Iterator[None]:
    """``derive`` set for the workers (forked: they have it) while records are read in bulk."""
    global _DERIVE
    _DERIVE = derive
    try:
        with bulk():
            yield
    finally:
        _DERIVE = None


SMALL_CHANGE = 200
"""More changed files than this since the last check, and everything is checked as
``check_all`` does (from the cache)."""


def _site_findings(
    root: Path,
    keep: frozenset[str],
    derived: MutableMapping[str, Any] | None,
    facts: dict[str, str | None] | None = None,
) -> tuple[list[Finding], list[RecordFile]]:
    snap = snapshot(root)
    paths = record_paths(root)
    state = _load_state(snap) if snap is not None else None
    if snap is None or state is None:
        return _check_everything(root, snap, keep, derived, paths, facts)
    blobs, last = snap.blobs, state.blobs
    changed = [
        (rel, kind)
        for rel, kind in paths
        if (blob := blobs.get(rel)) is None or last.get(rel) != blob
    ]
    gone = last.keys() - {rel for rel, _ in paths}
    if len(changed) + len(gone) > SMALL_CHANGE:
        return _check_everything(root, snap, keep, derived, paths, facts)
    checked, records = _check_all(root, keep, derived, paths, changed)
    found = _reuse_state(state, checked, gone)
    if found is None:
        return _check_everything(root, snap, keep, derived, paths, facts)
    for result in checked:
        state.blobs[result.rel] = blobs.get(result.rel)
        state.facts[result.rel] = facts_key(result.facts)
        state.own.pop(result.rel, None)
        if result.findings:
            state.own[result.rel] = [list(finding[1:]) for finding in result.findings]
    for rel in gone:
        for table in (state.blobs, state.facts, state.own):
            table.pop(rel, None)
    _save_state(snap, state)
    if facts is not None:
        facts.update(state.facts)
    return found, records


def _reuse_state(state: _State, checked: Sequence[Checked], gone: set[str]) -> list[Finding] | None:
    """Every finding, from the last check and the records checked since (``checked``);
    None where the rules across records must run again."""
    moved = {result.rel for result in checked} | gone
    if any(state.facts.get(r.rel) != facts_key(r.facts) for r in checked):
        return None
    if any(state.facts.get(rel) is not None for rel in gone):
        return None
    if any(item[0] in moved for item in state.cross):
        return None  # its line may have moved
    findings = [finding for result in checked for finding in result.findings]
    for rel, items in state.own.items():
        if rel not in moved:
            findings.extend(Finding(rel, *item) for item in items)
    findings.extend(Finding(*item) for item in state.cross)
    return findings


def facts_key(facts: Facts | None) -> str | None:
    """A digest of a record's facts (equal digests, equal facts), or None."""
    import hashlib

    if facts is None:
        return None
    names = "\0".join(facts.names)
    text = f"{len(names)}:{names}:{chr(0).join(facts.provides)}"
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def _check_everything(
    root: Path,
    snap: Snapshot | None,
    keep: frozenset[str],
    derived: MutableMapping[str, Any] | None,
    paths: Sequence[tuple[str, str]],
    facts: dict[str, str | None] | None = None,
) -> tuple[list[Finding], list[RecordFile]]:
    """Every record checked (from the cache), the rules across records run on all their
    facts, and the results kept as the last check."""
    checked, records = _check_all(root, keep, derived, paths)
    own = [finding for result in checked for finding in result.findings]
    every = [result.facts for result in checked if result.facts is not None]
    cross = cross_findings(every, reader(root))
    if snap is not None:
        state = _State({}, {}, {}, [list(finding) for finding in cross])
        for result in checked:
            state.blobs[result.rel] = snap.blobs.get(result.rel)
            state.facts[result.rel] = facts_key(result.facts)
            if result.findings:
                state.own[result.rel] = [list(finding[1:]) for finding in result.findings]
        if all(f.path == r.rel for r in checked for f in r.findings):
            _save_state(snap, state)
        if facts is not None:
            facts.update(state.facts)
    return own + cross, records


class _State(NamedTuple):
    """The last check: by path, each record's blob id (None if git did not vouch for it),
    the digest of its facts (``facts_key``) and its own findings (for those that have some, as
    [line, column, field, message, level]); and the findings of the rules across records."""

    blobs: dict[str, str | None]
    facts: dict[str, str | None]
    own: dict[str, list[list[Any]]]
    cross: list[list[Any]]


def _state_path(snap: Snapshot) -> Path:
    from incidents_cli.store.resources import tool_key

    # (not "checks-*": store/cache.py save_shards removes the other files of that family)
    return snap.folder / f"last-{_cache_name()}-v{tool_key()}.json"


def _load_state(snap: Snapshot) -> _State | None:
    """The last check, or None if there is none of our shape (then everything is checked)."""
    import json

    try:
        loaded = json.loads(read_cache_text(_state_path(snap)))
    except (OSError, ValueError, RecursionError):
        return None
    if type(loaded) is not list or len(loaded) != 4:
        return None
    blobs, facts, own, cross = loaded
    if not (type(blobs) is dict and type(facts) is dict and type(own) is dict):
        return None
    if type(cross) is not list or not all(_finding_item(item) for item in cross):
        return None
    for items in own.values():
        if type(items) is not list or not all(_own_item(item) for item in items):
            return None
    if not all(type(v) is str for v in blobs.values() if v is not None):
        return None
    if not all(type(v) is str for v in facts.values() if v is not None):
        return None
    return _State(blobs, facts, own, cross)


def _own_item(item: Any) -> bool:
    """Whether ``item`` is a record's own finding as [line, column, field, message, level]."""
    return type(item) is list and _finding_item(["", *item])


def _finding_item(item: Any) -> bool:
    """Whether ``item`` is a finding as [path, line, column, field, message, level]."""
    return (
        type(item) is list
        and len(item) == 6
        and _strings([item[0], *item[3:]])
        and type(item[1]) is int
        and type(item[2]) is int
    )


def _save_state(snap: Snapshot, state: _State) -> None:
    import json

    from incidents_cli.store.yamlio import write_atomic

    path = _state_path(snap)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in path.parent.glob("last-checks-*.json"):
            if old != path:
                old.unlink(missing_ok=True)
        write_atomic(path, json.dumps(list(state), separators=(",", ":")), sync=False)
    except OSError:
        pass  # a cache that cannot be written is only slower, never wrong


_DERIVE: Derive | None = None
"""``derive`` of the check_all under way, for the workers (forked: they have it already)."""


def _check_all(
    root: Path,
    keep: frozenset[str],
    derived: MutableMapping[str, Any] | None,
    every: Sequence[tuple[str, str]] | None = None,
    only: Sequence[tuple[str, str]] | None = None,
) -> tuple[list[Checked], list[RecordFile]]:
    """``every``: the repository's record paths, if listed already; ``only``: check these
    alone, without the cache (the few files that changed since the last check, see
    ``site_findings``)."""
    snap = snapshot(root)
    blobs = snap.blobs if snap is not None else {}
    name = _cache_name()
    cache = load_shards(snap, name) if snap is not None and only is None else {}
    kept: dict[str, Any] = {}
    names: dict[str, str] = {}  # each name once: thousands of records name the same people
    results: list[Checked | None] = []
    misses: dict[str, tuple[int, str | None, str, str | None]] = {}  # by path
    every = record_paths(root) if every is None else every
    paths = every if only is None else only
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
    groups, items = _items(root, misses, keep, _partners(every) if derived is not None else {})
    per_worker: int | None = None  # chunks that shrink towards the end
    if snap is not None and only is None and not keep and len(misses) * 10 >= len(results) > 0:
        # A cold `validate`: the workers keep what they parse in the record cache too, for
        # the commands that read records next (see store/cache.py write_pack). Not for a
        # caller that keeps the records it needs (`site build`, CI's one step): nothing in
        # the same command reads the packs, and the next build reads these checks and its
        # views from their own caches.
        prune_packs(snap.folder)
        items = [(*item[:5], str(snap.folder), *item[6:]) for item in items]
        per_worker = CHUNKS_PER_WORKER
    global _FEW
    _FEW = len(items) < MIN_ITEMS
    _prepare({kind for _, _, kind, _ in misses.values()})
    records: list[RecordFile] = []
    done = iter_chunks(_check_items, items, per_worker)
    for (index, key), (result, data, made) in zip(
        (miss for group in groups for miss in group),
        (out for outs in done for out in outs),
        strict=True,
    ):
        if result.facts is not None:
            shared = tuple([names.setdefault(name, name) for name in result.facts.names])
            result = result._replace(facts=result.facts._replace(names=shared))
        results[index] = result
        entry = _entry(result) if key is not None else None  # (no key: not kept)
        if key is not None and entry is not None:
            kept[key] = entry
        if data is not None:
            records.append(_record(root, result, data))
        if made is not None and derived is not None:
            derived[result.rel] = made
    if snap is not None and only is None and kept.keys() != cache.keys():
        save_shards(snap, name, kept, cache)
    return [result for result in results if result is not None], records


def _prepare(kinds: set[str]) -> None:
    """What every process that checks records needs, made once here before the workers are
    forked (else each makes its own): the validators of these kinds (compiled, with an
    empty user cache: a CI runner's), the fast YAML reader, and OpenSSL's SHA-1 for the
    blob ids of thousands of files (store/git.py ``blob_id``)."""
    from incidents_cli.store.schemas import prepare_validators
    from incidents_cli.store.yamlio import fast_path_available

    if kinds:
        prepare_validators(sorted(kinds))
    if kinds and not _FEW:
        import hashlib  # noqa: F401  (blob_id uses it once it is loaded)

        fast_path_available()


_FEW = False
"""Whether the check_all under way reads few files (a rebuild): then each is parsed with
its places, as PyYAML reads it, which is the same record and findings as the fast reader
gives (store/yamlio.py parse_unplaced) without importing that reader for one file."""


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
    roots: dict[str, Path] = {}  # one Path for the root every item names
    for root_name, rel, kind, way, blob, folder, pm_rel, pm_blob in items:
        root = roots.get(root_name) or roots.setdefault(root_name, Path(root_name))
        derive = way == "derive"
        record, result, content = _checked(root, rel, kind, bool(folder), blob, derive)
        outs: list[_Out] = [(result, _kept(record, result, way), None)]
        checked = [(record, result, blob)]
        if derive:
            pm = (
                _checked(root, pm_rel, "postmortem", bool(folder), pm_blob, True)
                if pm_rel
                else None
            )
            made = _derived((record, result, content), pm)
            if pm is not None:
                outs.append((pm[1], None if made is not None else _kept(*pm[:2], "keep"), None))
                checked.append((*pm[:2], pm_blob))
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
    finish = getattr(_DERIVE, "finish", None)  # what is made of a chunk's derived at once
    if finish is not None:
        places = [(i, j) for i, outs in enumerate(out) for j, o in enumerate(outs) if o[2]]
        done = finish([out[i][j][2] for i, j in places])
        for (i, j), made in zip(places, done, strict=True):
            out[i][j] = (out[i][j][0], out[i][j][1], made)
    return out


def _checked(
    root: Path, rel: str, kind: str, packed: bool, blob: str | None = None, hashed: bool = False
) -> tuple[RecordFile, Checked, str | None]:
    """A file read and checked (``packed``: for the record cache, which keeps the places of
    some kinds; else read with them only for a finding), and the blob id of its content:
    ``blob`` (git's), or with ``hashed`` that of the bytes read (None if they cannot be
    read), so that no file is read twice."""
    placed = _FEW or (packed and kind in WITH_PLACES)
    raw = None
    if hashed and blob is None:  # git does not vouch for it: the blob id of the bytes read
        with suppress(InputFileError):  # else read_record says what is wrong
            raw = read_bytes(f"{root}/{rel}", rel)
        blob = blob_id(raw) if raw is not None else None
    record = read_record(root, rel, kind, raw, places=placed)
    result = check_record(record)
    if result.findings and not placed:  # read again, for their places
        record = read_record(root, rel, kind, raw)
        result = check_record(record)
    return record, result, blob


def _kept(record: RecordFile, result: Checked, way: str) -> _Kept | None:
    if result.facts is None or way != "keep":
        return None
    return (record.data, record.body, record.body_line)


def _derived(
    incident: tuple[RecordFile, Checked, str | None],
    postmortem: tuple[RecordFile, Checked, str | None] | None,
) -> Any:
    """What ``_DERIVE`` makes of an incident and its postmortem, each with the blob id of
    its content (None if either does not follow its schema, or its content is unknown)."""
    record, result, content = incident
    if _DERIVE is None or result.facts is None:
        return None
    if postmortem is None:
        return _DERIVE(record.rel, content, record.data, None, "-", None) if content else None
    pm_record, pm_result, pm_content = postmortem
    if pm_result.facts is None or not content or not pm_content:
        return None
    return _DERIVE(record.rel, content, record.data, pm_record.rel, pm_content, pm_record.data)


def _record(root: Path, result: Checked, kept: _Kept) -> RecordFile:
    data, body, body_line = kept
    doc = LazyDocument(root, result.rel, data, result.kind)
    record = RecordFile(result.kind, result.rel, doc, body=body, body_line=body_line)
    record.known_valid = True  # it has no findings of its own
    return record


def _cache_name() -> str:
    """The cache's name: its format (the files' names add the tool's version and a digest
    of its code and schemas, store/resources.py tool_key: a change of either is a miss for
    every record, also in a development install whose version stays the same)."""
    return f"checks-f{CHECKS_FORMAT}"


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
