"""Loading file facts: content-hash cache plus a small process pool for cold runs.

A cache entry is keyed on sha256(file bytes) + the tool key (package version, cache schema and a hash of the
extractor's own source files and of scaffold/transformers_api.py), so an entry can never describe other content or come from other extraction code.
Rule options do not enter the key because only the per-file facts are cached; the rules always run.
Entries are written atomically (temp file + ``os.replace``); unreadable entries are treated as misses.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import tempfile
from pathlib import Path

from scaffold.parity.model import FileFacts

SCHEMA = "2"
# the code that decides what an entry holds: the extractor, and the transformers facts it folds values with
_EXTRACTOR_FILES = ("facts.py", "values.py", "model.py", "cache.py", "../transformers_api.py")
_tool_key: str | None = None
POOL_THRESHOLD = 12  # files to parse before a process pool pays for itself


def key_sources() -> list[Path]:
    """The files whose content decides what a cache entry holds."""
    here = Path(__file__).parent
    return [(here / name).resolve() for name in _EXTRACTOR_FILES]


def key_of(sources: list[Path]) -> str:
    from scaffold import __version__

    h = hashlib.sha256(f"{__version__}:{SCHEMA}".encode())
    for path in sources:
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def tool_key() -> str:
    global _tool_key
    if _tool_key is None:
        _tool_key = key_of(key_sources())
    return _tool_key


def default_cache_dir() -> Path:
    env = os.environ.get("SCAFFOLD_CACHE_DIR")
    if env:
        return Path(env) / "parity"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "scaffold" / "parity"


def _extract_one(args):
    path, source = args
    from scaffold.parity.facts import extract

    return extract(path, source)


def _write(target: Path, data: bytes) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except OSError:
        pass  # a read-only cache dir only costs speed


def _extract_and_store(args) -> bytes:
    """Pool task: the pickled facts, also written to the cache entry (if any) by the worker, in parallel."""
    path, source, entry = args
    data = pickle.dumps(_extract_one((path, source)), protocol=pickle.HIGHEST_PROTOCOL)
    if entry is not None:
        _write(Path(entry), data)
    return data


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


class FactsLoader:
    """Facts for paths, from the cache when possible. ``stats`` counts hits and parses."""

    def __init__(self, cache_dir: Path | None = None, use_cache: bool = True, jobs: int | None = None):
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.use_cache = use_cache
        self.jobs = jobs if jobs is not None else min(2, os.cpu_count() or 1)
        self.facts: dict[str, object] = {}
        self.stats = {"hits": 0, "parsed": 0}

    def _entry(self, digest: str) -> Path:
        return self.cache_dir / tool_key() / digest[:2] / f"{digest}.pkl"

    def load(self, paths, follow=None) -> None:
        """Make facts available for ``paths`` (already-loaded paths are skipped).

        ``follow(facts)`` may name further files the caller will probably want; when files are parsed in the
        pool, those are loaded too (not followed further), ahead of the queue, so that a shared dependency is
        parsed alongside the rest rather than alone afterwards.
        """
        todo = [item for item in map(self._probe, paths) if item is not None]
        if not todo:
            return
        if self.jobs > 1 and len(todo) >= POOL_THRESHOLD:
            self._pool_load(todo, follow)
            return
        for path, digest, source in todo:
            facts = _extract_one((path, source))
            self.facts[path] = facts
            self.stats["parsed"] += 1
            if self.use_cache:
                self._store(digest, facts)

    def _probe(self, path: str, record_errors: bool = True):
        """Serve ``path`` from the cache if possible; else (path, digest, source) to parse. None when done.

        A non-regular file (a FIFO would block the read forever) or an unreadable one gets facts saying so; an
        unreadable prefetch is left for a later, explicit load to report.
        """
        if path in self.facts:
            return None
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):
                if record_errors:
                    self.facts[path] = FileFacts(path=path, not_regular=True)
                return None
            data = Path(path).read_bytes()
        except OSError as exc:
            if record_errors:
                self.facts[path] = FileFacts(path=path, read_error=exc.strerror or str(exc))
            return None
        digest = hashlib.sha256(data).hexdigest()
        if self.use_cache:
            try:
                with open(self._entry(digest), "rb") as fh:
                    facts = pickle.load(fh)
                facts.path = path
                self.facts[path] = facts
                self.stats["hits"] += 1
                return None
            except Exception:  # noqa: BLE001 - missing or unreadable entry: a miss
                pass
        return path, digest, _decode(data)

    def _pool_load(self, todo, follow) -> None:
        import multiprocessing as mp
        import queue
        from collections import deque

        try:
            ctx = mp.get_context("fork")
            # import the extractor once, here: forked workers inherit it instead of each importing it
            import scaffold.parity.facts  # noqa: F401
        except ValueError:
            ctx = mp.get_context()
        # biggest files first so the workers finish together; followed files jump the queue
        pending = deque(sorted(todo, key=lambda item: -len(item[2])))
        requested = {item[0] for item in todo}
        seen = set(requested)
        done: queue.SimpleQueue = queue.SimpleQueue()
        in_flight = 0
        with ctx.Pool(self.jobs) as pool:

            def submit() -> None:
                nonlocal in_flight
                # keep each worker busy with one task queued behind it, no more: late additions stay near the front
                while pending and in_flight < 2 * self.jobs:
                    path, digest, source = pending.popleft()
                    entry = str(self._entry(digest)) if self.use_cache else None
                    pool.apply_async(
                        _extract_and_store,
                        ((path, source, entry),),
                        callback=lambda data, p=path: done.put((p, data, None)),
                        error_callback=lambda exc, p=path: done.put((p, None, exc)),
                    )
                    in_flight += 1

            submit()
            while in_flight:
                path, data, exc = done.get()
                in_flight -= 1
                if exc is not None:
                    raise exc
                facts = pickle.loads(data)
                self.facts[path] = facts
                self.stats["parsed"] += 1
                if follow is not None and path in requested:  # one level: what the requested files point to
                    for extra in follow(facts):
                        if extra not in seen:
                            seen.add(extra)
                            item = self._probe(extra, record_errors=False)
                            if item is not None:
                                pending.appendleft(item)
                submit()

    def _store(self, digest: str, facts) -> None:
        _write(self._entry(digest), pickle.dumps(facts, protocol=pickle.HIGHEST_PROTOCOL))

    def get(self, path: str):
        if path not in self.facts:
            self.load([path])
        return self.facts.get(path)
