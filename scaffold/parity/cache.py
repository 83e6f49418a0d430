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
CHUNK = 4  # files a pool task parses


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


def _extract_one(path: str, data: bytes):
    from scaffold.parity.facts import extract

    return extract(path, _decode(data))


_made_dirs: set[Path] = set()


def _write(target: Path, data: bytes) -> None:
    try:
        if target.parent not in _made_dirs:  # one mkdir per process, not per entry (mkdir is a slow syscall)
            target.parent.mkdir(parents=True, exist_ok=True)
            _made_dirs.add(target.parent)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except OSError:
        pass  # a read-only cache dir only costs speed


def _extract_and_store(paths: list[str], entries: str | None) -> list[tuple[str, bytes]]:
    """Pool task: read, hash and parse a few files; their pickled facts, each also written to the cache entry (under
    ``entries``, keyed on what the worker read) by the worker, in parallel. Sources never cross the pipe."""
    out = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            out.append((path, pickle.dumps(FileFacts(path=path, read_error=exc.strerror or str(exc)))))
            continue
        blob = pickle.dumps(_extract_one(path, data), protocol=pickle.HIGHEST_PROTOCOL)
        if entries is not None:
            digest = hashlib.sha256(data).hexdigest()
            _write(Path(entries) / f"{digest}.pkl", blob)
        out.append((path, blob))
    return out


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
        return self.cache_dir / tool_key() / f"{digest}.pkl"  # one flat directory: creating directories is slow

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
        for path, _size, digest, data in todo:
            if data is None:  # not read yet (no cache to look up)
                try:
                    data = Path(path).read_bytes()
                except OSError as exc:
                    self.facts[path] = FileFacts(path=path, read_error=exc.strerror or str(exc))
                    continue
            facts = _extract_one(path, data)
            self.facts[path] = facts
            self.stats["parsed"] += 1
            if self.use_cache:
                self._store(digest, facts)

    def _probe(self, path: str, record_errors: bool = True):
        """Serve ``path`` from the cache if possible; else (path, size, digest, bytes) to parse. None when done.

        Without a cache the file is not read here (digest and bytes are None): whoever parses it reads it.

        A non-regular file (a FIFO would block the read forever) or an unreadable one gets facts saying so; an
        unreadable prefetch is left for a later, explicit load to report.
        """
        if path in self.facts:
            return None
        try:
            st = os.stat(path)
            if not stat.S_ISREG(st.st_mode):
                if record_errors:
                    self.facts[path] = FileFacts(path=path, not_regular=True)
                return None
            if not self.use_cache:
                return path, st.st_size, None, None
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
        return path, len(data), digest, data

    def _pool_load(self, todo, follow) -> None:
        import multiprocessing as mp
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
        from concurrent.futures.process import BrokenProcessPool

        try:
            ctx = mp.get_context("fork")
            # import the extractor once, here: forked workers inherit it instead of each importing it
            import scaffold.parity.facts  # noqa: F401
        except ValueError:
            ctx = mp.get_context()
        entries = str(self.cache_dir / tool_key()) if self.use_cache else None
        # biggest files first so the workers finish together, a few files a task (one small message each way)
        paths = [item[0] for item in sorted(todo, key=lambda item: -item[1])]
        requested, seen = set(paths), set(paths)
        with ProcessPoolExecutor(self.jobs, mp_context=ctx) as pool:
            running = {
                pool.submit(_extract_and_store, paths[i : i + CHUNK], entries) for i in range(0, len(paths), CHUNK)
            }
            try:
                while running:
                    finished, running = wait(running, return_when=FIRST_COMPLETED)
                    extra = []
                    for future in finished:
                        for path, blob in future.result():
                            facts = pickle.loads(blob)
                            self.facts[path] = facts
                            self.stats["parsed"] += 1
                            if follow is not None and path in requested:  # one level: what requested files point to
                                extra.extend(x for x in follow(facts) if x not in seen and not seen.add(x))
                    todo_extra = [item[0] for item in map(self._probe_quiet, extra) if item is not None]
                    if todo_extra:
                        running.add(pool.submit(_extract_and_store, todo_extra, entries))
            except BrokenProcessPool:
                pass  # a worker died (a crash in the parser): find the file below, one process per file
        for path in [p for p in [*paths, *seen] if p not in self.facts]:
            self._isolated(ctx, path, entries)

    def _probe_quiet(self, path: str):
        return self._probe(path, record_errors=False)

    def _isolated(self, ctx, path: str, entries: str | None) -> None:
        """Parse one file in a process of its own: if that process dies, the file is unparseable, nothing else."""
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        try:
            with ProcessPoolExecutor(1, mp_context=ctx) as pool:
                [(path, blob)] = pool.submit(_extract_and_store, [path], entries).result()
            self.facts[path] = pickle.loads(blob)
        except BrokenProcessPool:
            self.facts[path] = FileFacts(path=path, parse_error=(1, 1, "the parser crashed on this file"))
        self.stats["parsed"] += 1

    def _store(self, digest: str, facts) -> None:
        _write(self._entry(digest), pickle.dumps(facts, protocol=pickle.HIGHEST_PROTOCOL))

    def get(self, path: str):
        if path not in self.facts:
            self.load([path])
        return self.facts.get(path)
