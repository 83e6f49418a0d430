"""Run `scaffold update` over a table of edit / change scenarios and print each file's outcome and the update time.

    python benchmarks/update_scenarios.py

Each scenario generates examples/llava_clip_llama.yaml (or llava_vllm.yaml) into a temp dir, makes the user's
edit, changes the spec or a template, runs `scaffold update` in-process and reports what happened to the file the
scenario is about. Not a test: tests/test_update.py asserts the behaviour; this prints the table for the docs.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from scaffold.cli import main
from scaffold.codegen import render

ROOT = Path(__file__).resolve().parents[1]
M = "llava_clip_llama"
CONFIG = f"{M}/configuration_{M}.py"
MODELING = f"{M}/modeling_{M}.py"
DEEPER = ("  num_hidden_layers: 2\n  num_attention_heads: 2\n", "  num_hidden_layers: 3\n  num_attention_heads: 2\n")
VISION_LAYERS = '    "num_hidden_layers": 2,\n    "num_attention_heads": 2,\n'


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def spec_file(tmp: Path, example: str, *replacements: tuple[str, str]) -> Path:
    text = (ROOT / "examples" / example).read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp / f"spec-{len(list(tmp.glob('spec-*')))}.yaml"
    path.write_text(text)
    return path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def outcome_of(output: str, rel: str) -> str:
    for line in output.splitlines():
        status, _, path = line.strip().partition("  ")
        if path.strip().endswith("/" + rel):
            return status.strip()
    return "(not listed)"


class NewTemplate:
    """A scaffold upgrade, simulated: a copy of the templates with one line added to the modular template."""

    def __init__(self, tmp: Path):
        self.dir = tmp / "templates"
        shutil.copytree(render.templates_dir(), self.dir)
        modular = self.dir / "modular.py.jinja"
        anchor = "# Defaults of the sub-configs"
        modular.write_text(modular.read_text().replace(anchor, "# (new in this version)\n" + anchor, 1))
        self.saved = render.templates_dir

    def __enter__(self):
        render.templates_dir = lambda: self.dir
        render.environment.cache_clear()

    def __exit__(self, *exc):
        render.templates_dir = self.saved
        render.environment.cache_clear()


def scenario(example: str, user: Callable[[Path], None], change, about: str) -> tuple[str, int, float]:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        out = tmp / "out"
        code, output = cli("new-vlm", str(spec_file(tmp, example)), "-o", str(out))
        assert code == 0, output
        user(out)
        args = ["update", "-o", str(out)]
        if change == "template":
            with NewTemplate(tmp):
                start = time.perf_counter()
                code, output = cli(*args)
        else:
            spec = spec_file(tmp, example, *change)
            start = time.perf_counter()
            code, output = cli(*args[:1], str(spec), *args[1:])
        elapsed = time.perf_counter() - start
        return outcome_of(output, about), code, elapsed


NOTE = ("# Defaults of the sub-configs", "# My note.\n# Defaults of the sub-configs")
TOP_NOTE = ("# Never run.", "# My note.\n# Never run.")
VLLM_OFF = ("\nvllm: true\n", "\nvllm: false\n")

SCENARIOS = [
    ("no edit; spec change", "llava_clip_llama.yaml", lambda out: None, [DEEPER], CONFIG),
    (
        "edit elsewhere in the file; spec change",
        "llava_clip_llama.yaml",
        lambda out: edit(out / CONFIG, *NOTE),
        [DEEPER],
        CONFIG,
    ),
    (
        "edit in a file the change does not touch",
        "llava_clip_llama.yaml",
        lambda out: edit(out / MODELING, "class LlavaClipLlamaModel(", "# mine\nclass LlavaClipLlamaModel("),
        [DEEPER],
        MODELING,
    ),
    (
        "edit on the lines the spec changes",
        "llava_clip_llama.yaml",
        lambda out: edit(out / CONFIG, VISION_LAYERS, VISION_LAYERS.replace("2,", "5,", 1)),
        [DEEPER],
        CONFIG,
    ),
    (
        "the same edit as the spec change",
        "llava_clip_llama.yaml",
        lambda out: edit(out / CONFIG, VISION_LAYERS, VISION_LAYERS.replace("2,", "3,", 1)),
        [DEEPER],
        CONFIG,
    ),
    ("file deleted; spec change", "llava_clip_llama.yaml", lambda out: (out / CONFIG).unlink(), [DEEPER], CONFIG),
    ("scaffold upgrade (template change), no edit", "llava_clip_llama.yaml", lambda out: None, "template", CONFIG),
    (
        "scaffold upgrade, edit elsewhere in the file",
        "llava_clip_llama.yaml",
        lambda out: edit(out / CONFIG, *TOP_NOTE),
        "template",
        CONFIG,
    ),
    (
        "scaffold upgrade, edit next to the changed line",
        "llava_clip_llama.yaml",
        lambda out: edit(out / CONFIG, *NOTE),
        "template",
        CONFIG,
    ),
    (
        "file no longer generated (vllm: false), unedited",
        "llava_vllm.yaml",
        lambda out: None,
        [VLLM_OFF],
        "llava_vllm/vllm_plugin_llava_vllm.py",
    ),
    (
        "file no longer generated, edited",
        "llava_vllm.yaml",
        lambda out: edit(out / "llava_vllm/vllm_llava_vllm.py", "class ", "# mine\nclass "),
        [VLLM_OFF],
        "llava_vllm/vllm_llava_vllm.py",
    ),
]


def main_() -> int:
    rows, times = [], []
    for title, example, user, change, about in SCENARIOS:
        outcome, code, elapsed = scenario(example, user, change, about)
        rows.append((title, about.rsplit("/", 1)[-1], outcome, code))
        times.append(elapsed)
    print("| scenario | file | outcome | exit |")
    print("| --- | --- | --- | --- |")
    for title, file, outcome, code in rows:
        print(f"| {title} | `{file}` | `{outcome}` | {code} |")
    print(
        f"\nupdate, in-process, per run: median {statistics.median(times):.2f} s, "
        f"min {min(times):.2f} s, max {max(times):.2f} s over {len(times)} runs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main_())
