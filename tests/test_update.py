"""`scaffold update` on real files in temp dirs: the user's edits survive a spec change or a scaffold upgrade."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import ROOT
from test_intree import sdist, tree_copy  # noqa: F401 - the sdist fixture: transformers 5.23, once per run

from scaffold.cli import main
from scaffold.codegen import render
from scaffold.generate.lock import lock_path

EXAMPLE = ROOT / "examples" / "llava_clip_llama.yaml"
M = "llava_clip_llama"
CONFIG = f"{M}/configuration_{M}.py"
MODELING = f"{M}/modeling_{M}.py"
INIT = f"{M}/tests/__init__.py"
LOCK = lock_path(M)
VISION_LAYERS = '    "num_hidden_layers": 2,\n    "num_attention_heads": 2,\n'  # the vision defaults' lines


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def spec_variant(tmp_path: Path, name: str, *replacements: tuple[str, str]) -> Path:
    text = EXAMPLE.read_text()
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text)
    return path


# The vision tower's depth: one line of the config file changes with it.
DEEPER = ("  num_hidden_layers: 2\n  num_attention_heads: 2\n", "  num_hidden_layers: 3\n  num_attention_heads: 2\n")


@pytest.fixture
def out(tmp_path) -> Path:
    out = tmp_path / "out"
    code, output = cli("new-vlm", str(EXAMPLE), "-o", str(out))
    assert code == 0, output
    return out


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def outcomes(output: str) -> dict[str, str]:
    """path -> outcome, from the status lines the CLI prints."""
    found = {}
    for line in output.splitlines():
        status, _, path = line.strip().partition("  ")
        if path.strip().startswith("/"):
            found[Path(path.strip()).as_posix().split("/out/", 1)[-1]] = status.strip()
    return found


def test_new_vlm_records_the_lock_and_a_pristine_base(out):
    lock = json.loads((out / LOCK).read_text())
    assert lock["scaffold_version"] and lock["target"] == "package" and lock["model_type"] == M
    assert lock["year"] == 2026  # SOURCE_DATE_EPOCH in conftest
    assert lock["spec"]["vision"]["num_hidden_layers"] == 2 and lock["spec"]["image_processor"]["do_resize"] is True
    generated = {p for p in snapshot(out) if not p.startswith(".scaffold/")}
    assert set(lock["files"]) == generated
    assert {entry["role"] for entry in lock["files"].values()} == {"generated"}
    for path in generated:
        assert (out / ".scaffold" / M / "base" / path).read_bytes() == (out / path).read_bytes()


def test_update_without_changes_changes_nothing(out):
    before = snapshot(out)
    code, output = cli("update", "-o", str(out))
    assert code == 0, output
    assert set(outcomes(output).values()) == {"unchanged"}
    assert snapshot(out) == before


def test_an_edit_survives_a_spec_change(out, tmp_path):
    edit(out / CONFIG, "# Defaults of the sub-configs", "# My note on the defaults.\n# Defaults of the sub-configs")
    edit(out / MODELING, "class LlavaClipLlamaModel(", "# my hand edit\nclass LlavaClipLlamaModel(")
    code, output = cli("update", str(spec_variant(tmp_path, "deeper.yaml", DEEPER)), "-o", str(out))
    assert code == 0, output
    assert outcomes(output)[CONFIG] == "merged" and outcomes(output)[MODELING] == "kept"
    config = (out / CONFIG).read_text()
    assert (
        "# My note on the defaults." in config and '"num_hidden_layers": 3,\n    "num_attention_heads": 2,' in config
    )
    assert "# my hand edit" in (out / MODELING).read_text()
    lock = json.loads((out / LOCK).read_text())
    assert lock["spec"]["vision"]["num_hidden_layers"] == 3
    # the new base is the new render: a second update is a no-op
    before = snapshot(out)
    code, output = cli("update", str(tmp_path / "deeper.yaml"), "-o", str(out))
    assert code == 0 and set(outcomes(output).values()) <= {"unchanged", "kept"}, output
    assert snapshot(out) == before


def test_an_unedited_file_takes_the_new_render(out, tmp_path):
    code, output = cli("update", str(spec_variant(tmp_path, "deeper.yaml", DEEPER)), "-o", str(out))
    assert code == 0, output
    assert outcomes(output)[CONFIG] == "updated"
    fresh = tmp_path / "fresh"
    assert cli("new-vlm", str(tmp_path / "deeper.yaml"), "-o", str(fresh))[0] == 0
    assert {p: b for p, b in snapshot(out).items() if not p.startswith(".scaffold/")} == {
        p: b for p, b in snapshot(fresh).items() if not p.startswith(".scaffold/")
    }
    assert snapshot(out) == snapshot(fresh)  # the lock and base too


def test_a_conflicting_edit_gets_diff3_markers_exit_1_and_continue_records_it(out, tmp_path):
    edit(out / CONFIG, VISION_LAYERS, VISION_LAYERS.replace("2,", "5,", 1))
    lock_before = (out / LOCK).read_bytes()
    spec = spec_variant(tmp_path, "deeper.yaml", DEEPER)
    code, output = cli("update", str(spec), "-o", str(out))
    assert code == 1, output
    assert outcomes(output)[CONFIG] == "conflict" and "conflicts, written with diff3 markers" in output
    text = (out / CONFIG).read_text()
    assert f"<<<<<<< yours ({CONFIG})\n" in text and "||||||| base (scaffold's last render)\n" in text
    ours, rest = text.split("<<<<<<< ", 1)[1].split("||||||| ", 1)
    base, theirs = rest.split("=======\n", 1)
    assert '"num_hidden_layers": 5,' in ours and '"num_hidden_layers": 2,' in base
    assert '"num_hidden_layers": 3,' in theirs.split(">>>>>>> ", 1)[0]
    assert (out / LOCK).read_bytes() == lock_before  # the lock waits for the resolution
    # another update would nest markers: refused until the pending one is finished
    code, output = cli("update", str(spec), "-o", str(out))
    assert code == 2 and "update --continue" in output
    # --continue refuses while markers remain
    code, output = cli("update", "--continue", "-o", str(out))
    assert code == 1 and CONFIG in output
    # resolve: keep the user's 5
    resolved = _resolve(text, pick="yours")
    (out / CONFIG).write_text(resolved)
    code, output = cli("update", "--continue", "-o", str(out))
    assert code == 0, output
    lock = json.loads((out / LOCK).read_text())
    assert lock["spec"]["vision"]["num_hidden_layers"] == 3 and lock["conflicts"] == []
    assert not (out / ".scaffold" / M / "pending").exists()
    assert '"num_hidden_layers": 3,' in (out / ".scaffold" / M / "base" / CONFIG).read_text()
    # from the new base, the resolution is the user's edit: kept by a later update
    code, output = cli("update", str(spec), "-o", str(out))
    assert code == 0 and outcomes(output)[CONFIG] == "kept", output
    assert (out / CONFIG).read_text() == resolved


def _resolve(text: str, pick: str) -> str:
    """Resolve every diff3 conflict of `text` by taking one side."""
    out, rest = [], text
    while "<<<<<<< " in rest:
        before, rest = rest.split("<<<<<<< ", 1)
        rest = rest.split("\n", 1)[1]
        ours, rest = rest.split("||||||| ", 1)
        rest = rest.split("\n", 1)[1]
        _, rest = rest.split("=======\n", 1)
        theirs, rest = rest.split(">>>>>>> ", 1)
        rest = rest.split("\n", 1)[1]
        out += [before, ours if pick == "yours" else theirs]
    return "".join(out) + rest


def test_a_deleted_file_stays_deleted(out, tmp_path):
    (out / INIT).unlink()
    code, output = cli("update", str(spec_variant(tmp_path, "deeper.yaml", DEEPER)), "-o", str(out))
    assert code == 0, output
    assert outcomes(output)[INIT] == "stays deleted"
    assert not (out / INIT).exists()


def test_dry_run_and_diff_write_nothing(out, tmp_path):
    edit(out / CONFIG, "# Defaults of the sub-configs", "# My note.\n# Defaults of the sub-configs")
    before = snapshot(out)
    code, output = cli(
        "update", str(spec_variant(tmp_path, "deeper.yaml", DEEPER)), "-o", str(out), "--dry-run", "--diff"
    )
    assert code == 0, output
    assert outcomes(output)[CONFIG] == "merged" and "dry run: nothing was written" in output
    assert f"+++ b/{CONFIG}" in output and '+    "num_hidden_layers": 3,' in output
    assert snapshot(out) == before


def test_a_scaffold_upgrade_is_merged(out, tmp_path, monkeypatch):
    """A new scaffold version, simulated with a changed template: re-rendered from the lock's spec and merged."""
    edit(out / CONFIG, "# Never run.", "# My note.\n# Never run.")
    templates = tmp_path / "templates"
    shutil.copytree(render.templates_dir(), templates)
    block = templates / "modular.py.jinja"
    text = block.read_text()
    anchor = "# Defaults of the sub-configs"
    assert anchor in text
    block.write_text(text.replace(anchor, "# (new in this scaffold version)\n" + anchor, 1))
    monkeypatch.setattr(render, "templates_dir", lambda: templates)
    render.environment.cache_clear()
    try:
        code, output = cli("update", "-o", str(out))  # no spec: the one recorded in the lock
    finally:
        render.environment.cache_clear()
    assert code == 0, output
    assert outcomes(output)[CONFIG] == "merged"
    config = (out / CONFIG).read_text()
    assert "# My note.\n# Never run." in config
    assert "# (new in this scaffold version)\n# Defaults of the sub-configs" in config


VLLM_EXAMPLE = ROOT / "examples" / "llava_vllm.yaml"


def vllm_variants(tmp_path: Path) -> tuple[Path, Path]:
    text = VLLM_EXAMPLE.read_text()
    assert "\nvllm: true\n" in text
    with_vllm, without = tmp_path / "with.yaml", tmp_path / "without.yaml"
    with_vllm.write_text(text)
    without.write_text(text.replace("\nvllm: true\n", "\nvllm: false\n"))
    return with_vllm, without


def test_files_no_longer_rendered_are_removed_unless_edited(tmp_path):
    with_vllm, without = vllm_variants(tmp_path)
    out, m = tmp_path / "out", "llava_vllm"
    assert cli("new-vlm", str(with_vllm), "-o", str(out))[0] == 0
    plugin, vllm = f"{m}/vllm_plugin_{m}.py", f"{m}/vllm_{m}.py"
    edit(out / vllm, "class ", "# mine\nclass ")
    code, output = cli("update", str(without), "-o", str(out))
    assert code == 0, output
    assert outcomes(output)[plugin] == "removed" and not (out / plugin).exists()
    assert outcomes(output)[vllm] == "orphaned" and "# mine" in (out / vllm).read_text()
    lock = json.loads((out / lock_path(m)).read_text())
    assert plugin not in lock["files"] and vllm not in lock["files"]
    assert not (out / ".scaffold" / m / "base" / plugin).exists()


def test_a_file_new_on_both_sides_is_merged_against_an_empty_base(tmp_path):
    with_vllm, without = vllm_variants(tmp_path)
    out, m = tmp_path / "out", "llava_vllm"
    assert cli("new-vlm", str(without), "-o", str(out))[0] == 0
    (out / "pyproject.toml").write_text("[project]\nname = 'mine'\n")
    code, output = cli("update", str(with_vllm), "-o", str(out))
    assert code == 1, output
    assert outcomes(output)["pyproject.toml"] == "conflict"
    assert "||||||| base (empty)" in (out / "pyproject.toml").read_text()
    assert outcomes(output)[f"{m}/vllm_{m}.py"] == "created"


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda out: (out / LOCK).unlink(), "no lock for model type"),
        (lambda out: (out / LOCK).write_text('{"lock_version": 1,'), "lock.json:1:20: not valid JSON"),
        (lambda out: (out / LOCK).write_text('{"lock_version": 7}'), "lock_version"),
        (lambda out: (out / ".scaffold" / M / "base" / CONFIG).write_text("x\n"), "does not match its sha256"),
        (lambda out: (out / ".scaffold" / M / "base" / CONFIG).unlink(), "merge base of"),
    ],
    ids=["missing", "not-json", "wrong-schema", "edited-base", "missing-base"],
)
def test_a_missing_or_corrupt_lock_is_a_clear_error_and_changes_nothing(out, tmp_path, damage, message):
    damage(out)
    before = snapshot(out)
    code, output = cli("update", str(EXAMPLE), "-o", str(out))
    assert code == 2, output
    assert message in output and "Traceback" not in output
    assert snapshot(out) == before


def test_update_without_a_spec_needs_exactly_one_lock(tmp_path):
    out = tmp_path / "out"
    code, output = cli("update", "-o", str(out))
    assert code == 2 and "no scaffold lock here" in output
    assert cli("new-vlm", str(EXAMPLE), "-o", str(out))[0] == 0
    assert cli("new-vlm", str(ROOT / "examples" / "siglip_qwen2.yaml"), "-o", str(out))[0] == 0
    code, output = cli("update", "-o", str(out))
    assert code == 2 and "several models" in output


KILLER = """
import os, signal, sys
real = os.replace
moves = []
def replace(src, dst):
    real(src, dst)
    if "/.scaffold-staging-" in str(src) and "journal" not in str(dst):
        moves.append(dst)
        if len(moves) == {after}:
            os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
from scaffold.cli import main
sys.argv = ["scaffold", *sys.argv[1:]]
main()
"""


def test_an_update_killed_midway_loses_nothing(out, tmp_path):
    edit(out / CONFIG, "# Defaults of the sub-configs", "# My note.\n# Defaults of the sub-configs")
    spec = spec_variant(tmp_path, "deeper.yaml", DEEPER)
    before = snapshot(out)
    script = tmp_path / "killer.py"
    script.write_text(textwrap.dedent(KILLER).replace("{after}", "2"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, str(script), "update", str(spec), "-o", str(out)], env=env, timeout=300)
    assert proc.returncode == -signal.SIGKILL
    assert list(out.glob(".scaffold-staging-*")) and snapshot(out) != before  # killed halfway through its moves
    # the next run first rolls the killed one back, then updates as if nothing had happened
    code, output = cli("update", str(spec), "-o", str(out))
    assert code == 0, output
    assert not list(out.glob(".scaffold-staging-*"))
    config = (out / CONFIG).read_text()
    assert "# My note." in config and '"num_hidden_layers": 3,\n    "num_attention_heads": 2,' in config
    assert json.loads((out / LOCK).read_text())["spec"]["vision"]["num_hidden_layers"] == 3


def test_in_tree_update_keeps_a_modular_edit_and_reapplies_the_registrations(sdist, tmp_path):  # noqa: F811
    tree = tree_copy(sdist, tmp_path / "transformers")
    code, output = cli("new-vlm", str(EXAMPLE), "--transformers", str(tree))
    assert code == 0, output
    assert (tree / ".scaffold" / ".gitignore").read_text().endswith("\n*\n")  # never committed by accident
    lock = json.loads((tree / LOCK).read_text())
    src = f"src/transformers/models/{M}"
    roles = {path: entry["role"] for path, entry in lock["files"].items()}
    assert roles[f"{src}/modular_{M}.py"] == "generated" and roles[f"{src}/configuration_{M}.py"] == "derived"
    assert roles["src/transformers/models/auto/auto_mappings.py"] == "registration"
    assert not (tree / ".scaffold" / M / "base" / "src/transformers/models/auto/auto_mappings.py").exists()

    modular = tree / src / f"modular_{M}.py"
    edit(modular, "class LlavaClipLlamaModel(", "# my hand edit\nclass LlavaClipLlamaModel(")
    auto = tree / "src/transformers/models/auto/auto_mappings.py"
    registered = f'        ("{M}", "LlavaClipLlamaConfig"),\n'
    edit(auto, registered, "")  # lost in a rebase, say
    code, output = cli("update", str(spec_variant(tmp_path, "deeper.yaml", DEEPER)), "--transformers", str(tree))
    assert code == 0, output
    found = outcomes(output.replace(str(tree), "/out"))
    assert found[f"{src}/modular_{M}.py"] == "merged" and found[f"{src}/configuration_{M}.py"] == "updated"
    assert found["src/transformers/models/auto/auto_mappings.py"] == "registered"
    assert "# my hand edit" in modular.read_text() and '"num_hidden_layers": 3,' in modular.read_text()
    assert registered in auto.read_text()
    assert "modular_model_converter.py --files" in output  # what to run next: the converter
    # a second update re-applies nothing and changes nothing
    before = snapshot(tree / "src/transformers/models")
    code, output = cli("update", str(tmp_path / "deeper.yaml"), "--transformers", str(tree))
    assert code == 0, output
    assert "registered" not in outcomes(output.replace(str(tree), "/out")).values()
    assert snapshot(tree / "src/transformers/models") == before
