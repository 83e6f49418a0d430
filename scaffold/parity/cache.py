"""Loading file facts: content-hash cache plus a small process pool for cold runs.

A cache entry is keyed on sha256(file bytes) + the tool key (package version, cache schema and a hash of the
extractor's own source files), so an entry can never describe other content or come from other extraction code.
Rule options do not enter the key because only the per-file facts are cached; the rules always run.
Entries are written atomically (temp file + ``os.replace``); unreadable entries are treated as misses.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

SCHEMA = "1"
_EXTRACTOR_FILES = ("facts.py", "values.py", "model.py", "cache.py")
_tool_key: str | None = None
POOL_THRESHOLD = 12  # files to parse before a process pool pays for itself


def tool_key() -> str:
    global _tool_key
    if _tool_key is None:
        from scaffold import __version__

        h = hashlib.sha256(f"{__version__}:{SCHEMA}".encode())
        here = Path(__file__).parent
        for name in _EXTRACTOR_FILES:
            h.update((here / name).read_bytes())
        _tool_key = h.hexdigest()[:16]
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
        self.io_errors: dict[str, str] = {}
        self.stats = {"hits": 0, "parsed": 0}

    def _entry(self, digest: str) -> Path:
        return self.cache_dir / tool_key() / digest[:2] / f"{digest}.pkl"

    def load(self, paths) -> None:
        """Make facts available for ``paths`` (already-loaded paths are skipped)."""
        todo: list[tuple[str, str, str]] = []  # path, digest, source
        for path in paths:
            if path in self.facts or path in self.io_errors:
                continue
            try:
                data = Path(path).read_bytes()
            except OSError as exc:
                self.io_errors[path] = exc.strerror or str(exc)
                continue
            digest = hashlib.sha256(data).hexdigest()
            if self.use_cache:
                try:
                    with open(self._entry(digest), "rb") as fh:
                        facts = pickle.load(fh)
                    facts.path = path
                    self.facts[path] = facts
                    self.stats["hits"] += 1
                    continue
                except Exception:  # noqa: BLE001 - missing or unreadable entry: a miss
                    pass
            todo.append((path, digest, _decode(data)))
        if not todo:
            return
        results = self._extract_all([(p, s) for p, _, s in todo])
        for (path, digest, _), facts in zip(todo, results, strict=False):
            self.facts[path] = facts
            self.stats["parsed"] += 1
            if self.use_cache:
                self._store(digest, facts)

    def _extract_all(self, items):
        if self.jobs > 1 and len(items) >= POOL_THRESHOLD:
            import multiprocessing as mp

            try:
                ctx = mp.get_context("fork")
            except ValueError:
                ctx = mp.get_context()
            # biggest files first so the two workers finish together
            order = sorted(range(len(items)), key=lambda i: -len(items[i][1]))
            with ctx.Pool(self.jobs) as pool:
                out = pool.map(_extract_one, [items[i] for i in order], chunksize=1)
            results = [None] * len(items)
            for i, facts in zip(order, out, strict=False):
                results[i] = facts
            return results
        return [_extract_one(item) for item in items]

    def _store(self, digest: str, facts) -> None:
        target = self._entry(digest)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(facts, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, target)
        except OSError:
            pass  # a read-only cache dir only costs speed

    def get(self, path: str):
        if path not in self.facts and path not in self.io_errors:
            self.load([path])
        return self.facts.get(path)
