"""Programmatic entry point: check paths, return findings. Does not import libcst unless files must be parsed."""

from __future__ import annotations

import gc
from dataclasses import dataclass, field

from scaffold.parity.cache import FactsLoader
from scaffold.parity.discover import Pair, discover
from scaffold.parity.findings import ERROR, Finding
from scaffold.parity.resolve import base_class_files
from scaffold.parity.rules import Options, check_pairs


@dataclass
class Result:
    findings: list[Finding]
    pairs: list[Pair]
    files_checked: int
    stats: dict = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == ERROR)


def check_paths(
    paths: list[str],
    options: Options | None = None,
    use_cache: bool = True,
    cache_dir=None,
    jobs: int | None = None,
) -> Result:
    enabled = gc.isenabled()
    gc.disable()  # facts are acyclic: collections while they are built or unpickled only cost time
    try:
        return _check_paths(paths, options or Options(), use_cache, cache_dir, jobs)
    finally:
        if enabled:
            gc.enable()


def _check_paths(paths: list[str], options: Options, use_cache: bool, cache_dir, jobs: int | None) -> Result:
    pairs = discover(list(paths))
    loader = FactsLoader(cache_dir=cache_dir, use_cache=use_cache, jobs=jobs)
    wanted = []
    for pair in pairs:
        if pair.is_lone and not options.report_lone:
            continue
        wanted.extend(p for p in (pair.torch_path, pair.pil_path) if p)
    loader.load(wanted, follow=base_class_files)
    findings = check_pairs(pairs, loader, options)
    return Result(findings=findings, pairs=pairs, files_checked=len(wanted), stats=dict(loader.stats))
