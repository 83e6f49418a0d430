"""Sweep `scaffold gen-tests` over real transformers models (a script, not a test).

For each model: write the generated parity test file into a temp dir with `scaffold gen-tests`, run pytest on
it (sequentially, one model at a time, subprocess timeout per model), and collect passed/failed/error counts
plus every failing test id with the first line of its failure message. Results are printed as a table and,
with --json, written to a file (updated after every model, so a partial sweep is still usable).

    python benchmarks/gen_tests_sweep.py [--models DIR] [--timeout 300] [--json out.json] [MODEL ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

DEFAULT_MODELS = [
    "clip", "siglip", "llava_next", "llava_onevision", "convnext", "vit", "deit", "beit", "blip", "bit", "dpt",
    "imagegpt", "donut", "efficientnet", "gemma3", "aria", "idefics3", "smolvlm", "pixtral", "qwen2_vl",
    "chameleon", "levit", "segformer", "glpn", "mobilenet_v2",
]  # fmt: skip


def models_dir() -> str:
    import transformers

    return os.path.join(os.path.dirname(transformers.__file__), "models")


def first_line(message: str) -> str:
    """The first informative line of a failure: the assertion / exception line pytest reports."""
    for line in (message or "").splitlines():
        line = line.strip()
        if line:
            return line[:300]
    return ""


def parse_junit(path: str) -> dict:
    counts = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
    failures = []
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        name = case.get("name")
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[child.tag]
                if child.tag != "skipped":
                    failures.append({"test": name, "kind": outcome, "message": first_line(child.get("message", ""))})
                break
        counts[outcome] += 1
    return {**counts, "failures": failures}


def run_model(model: str, root: str, timeout: float) -> dict:
    model_dir = os.path.join(root, model)
    with tempfile.TemporaryDirectory(prefix=f"gentests_{model}_") as tmp:
        test_file = os.path.join(tmp, f"test_{model}_parity.py")
        gen = subprocess.run(
            [sys.executable, "-m", "scaffold", "gen-tests", model_dir, "-o", test_file], capture_output=True, text=True
        )
        if gen.returncode != 0:
            return {"model": model, "status": "gen-tests failed", "detail": (gen.stderr or gen.stdout).strip()[-500:]}
        junit = os.path.join(tmp, "junit.xml")
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", test_file],
                capture_output=True,
                text=True,
                cwd=tmp,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return {"model": model, "status": f"timeout after {timeout:.0f}s", "seconds": timeout}
        seconds = time.perf_counter() - start
        if not os.path.exists(junit):
            return {"model": model, "status": f"pytest exit {proc.returncode}", "detail": proc.stdout[-1500:]}
        result = parse_junit(junit)
        status = "pass" if not (result["failed"] or result["error"]) else "fail"
        if proc.returncode not in (0, 1):  # collection errors etc.
            status = f"pytest exit {proc.returncode}"
            result["detail"] = proc.stdout[-1500:]
        return {"model": model, "status": status, "seconds": round(seconds, 1), **result}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("models", nargs="*", default=DEFAULT_MODELS)
    parser.add_argument("--models-dir", default=None)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    root = args.models_dir or models_dir()
    results = []
    for model in args.models:  # sequential on purpose: shared machine
        res = run_model(model, root, args.timeout)
        results.append(res)
        print(
            f"{model:18} {res['status']:22} passed={res.get('passed', '-')} failed={res.get('failed', '-')} "
            f"error={res.get('error', '-')} {res.get('seconds', '-')}s",
            flush=True,
        )
        for f in res.get("failures", []):
            print(f"    {f['kind']}: {f['test']}: {f['message']}", flush=True)
        if "detail" in res:
            print("    " + res["detail"].replace("\n", "\n    "), flush=True)
        if args.json:
            with open(args.json, "w", encoding="utf-8") as fh:
                json.dump(results, fh, indent=1)
    full = sum(r["status"] == "pass" for r in results)
    print(f"\n{len(results)} models, {full} fully passing")


if __name__ == "__main__":
    main()
