"""Shared test helpers: the example specs, golden-file location, running the CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
GOLDEN = ROOT / "tests" / "golden"


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `python -m scaffold ...` as a user would: separate process, real exit code, real stderr."""
    return subprocess.run(
        [sys.executable, "-m", "scaffold", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def word_tokenizer(specials: dict[int, str], vocab_size: int, **extra):
    """An offline word-level tokenizer: the special tokens at their ids (each a single added token), `<unk>` at id 0
    unless a special token takes it, `w<id>` words at the other ids below `vocab_size`; `<unk>` pads. `extra` goes
    to PreTrainedTokenizerFast (bos_token, ...)."""
    from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = {0: "<unk>", **specials}
    vocab = {token: i for i, token in specials.items()}
    vocab.update({f"w{i}": i for i in range(vocab_size) if i not in specials})
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", pad_token="<unk>", **extra)
    added = [AddedToken(t, special=True, normalized=False) for t in specials.values() if t != "<unk>"]
    tokenizer.add_tokens(added, special_tokens=True)
    return tokenizer
