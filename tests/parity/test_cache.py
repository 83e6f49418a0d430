from pathlib import Path

from parity.pairs import PIL

from scaffold.parity.api import check_paths
from scaffold.parity.cache import FactsLoader


def test_cache_hits_and_never_stale(pair_dir, tmp_path):
    cache = tmp_path / "cache"
    d = pair_dir()
    r1 = check_paths([str(d)], cache_dir=cache, jobs=1)
    assert r1.stats == {"hits": 0, "parsed": 2} and r1.findings == []
    r2 = check_paths([str(d)], cache_dir=cache, jobs=1)
    assert r2.stats == {"hits": 2, "parsed": 0} and r2.findings == []
    # edit a file: its entry no longer matches, the other still hits
    (d / "image_processing_pil_toy.py").write_text(PIL.replace("    patch_size = 14\n", "    patch_size = 16\n"))
    r3 = check_paths([str(d)], cache_dir=cache, jobs=1)
    assert r3.stats == {"hits": 1, "parsed": 1}
    assert [f.code for f in r3.findings] == ["PAR020"]
    # revert: served from cache again, with the original (clean) result
    (d / "image_processing_pil_toy.py").write_text(PIL)
    r4 = check_paths([str(d)], cache_dir=cache, jobs=1)
    assert r4.stats == {"hits": 2, "parsed": 0} and r4.findings == []


def test_cached_facts_carry_the_current_path(pair_dir, tmp_path):
    cache = tmp_path / "cache"
    a = pair_dir(model="toy")
    check_paths([str(a)], cache_dir=cache, jobs=1)
    # same content under another directory: a hit, but findings must name the new path
    import shutil

    b = tmp_path / "copy" / "toy"
    shutil.copytree(a, b)
    (b / "image_processing_pil_toy.py").write_text(PIL.replace("    patch_size = 14\n", "    patch_size = 16\n"))
    r = check_paths([str(b)], cache_dir=cache, jobs=1)
    assert r.stats["hits"] == 1
    assert all(str(b) in f.path for f in r.findings)


def test_corrupt_entry_is_a_miss(pair_dir, tmp_path):
    cache = tmp_path / "cache"
    d = pair_dir()
    check_paths([str(d)], cache_dir=cache, jobs=1)
    for entry in cache.rglob("*.pkl"):
        entry.write_bytes(b"garbage")
    r = check_paths([str(d)], cache_dir=cache, jobs=1)
    assert r.stats == {"hits": 0, "parsed": 2} and r.findings == []


def test_pool_gives_same_facts_as_serial(tmp_path):
    from parity.pairs import TORCH, write_pair

    paths = []
    for i in range(8):
        d = write_pair(tmp_path, TORCH, PIL, model=f"m{i}")
        paths += [str(d / f"image_processing_m{i}.py"), str(d / f"image_processing_pil_m{i}.py")]
    serial = FactsLoader(use_cache=False, jobs=1)
    serial.load(paths)
    pooled = FactsLoader(use_cache=False, jobs=2)
    pooled.load(paths)
    assert [serial.facts[p] for p in paths] == [pooled.facts[p] for p in paths]


def test_cache_key_covers_the_transformers_facts(tmp_path):
    """Entries hold values folded with transformers_api's tables: editing that module must change the key."""
    import scaffold.transformers_api
    from scaffold.parity import cache

    sources = cache.key_sources()
    assert Path(scaffold.transformers_api.__file__).resolve() in sources
    copies = []
    for i, src in enumerate(sources):
        copies.append(tmp_path / f"{i}.py")
        copies[-1].write_bytes(src.read_bytes())
    assert cache.key_of(copies) == cache.tool_key()
    api = copies[sources.index(Path(scaffold.transformers_api.__file__).resolve())]
    api.write_bytes(api.read_bytes().replace(b'"BICUBIC": 3', b'"BICUBIC": 2'))
    assert cache.key_of(copies) != cache.tool_key()


def test_a_crashing_worker_costs_only_its_file(tmp_path, monkeypatch):
    """A parser crash (simulated: the worker process dies) makes that file unparseable; the others are parsed."""
    import os

    from parity.pairs import TORCH, write_pair

    from scaffold.parity import cache

    paths = []
    for i in range(8):
        d = write_pair(tmp_path, TORCH, PIL, model=f"m{i}")
        paths += [str(d / f"image_processing_m{i}.py"), str(d / f"image_processing_pil_m{i}.py")]
    real = cache._extract_one

    def crashing(path, data):  # forked workers inherit this
        if path.endswith("image_processing_pil_m3.py"):
            os._exit(139)
        return real(path, data)

    monkeypatch.setattr(cache, "_extract_one", crashing)
    loader = FactsLoader(use_cache=False, jobs=2)
    loader.load(paths)
    crashed = loader.facts[paths[7]]
    assert crashed.parse_error == (1, 1, "the parser crashed on this file")
    assert all(loader.facts[p].parse_error is None and loader.facts[p].classes for p in paths if p != paths[7])
