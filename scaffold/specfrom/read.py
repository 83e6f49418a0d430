"""Read a checkpoint folder: config.json, the processor's and image processor's settings, the tokenizer's added tokens
and the weight names. Every problem names its file (and line:col for JSON that does not parse)."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scaffold.errors import ScaffoldError


class CheckpointError(ScaffoldError):
    """The folder cannot be read, or holds something a spec cannot express (exit 2); one line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Folder:
    path: Path
    config: dict[str, Any]
    image_processor: dict[str, Any] | None  # flat settings, None without any processor file
    image_processor_file: str  # where they came from, for messages
    processor: dict[str, Any]  # the processor's own kwargs (patch_size, image_token, ...)
    processor_file: str
    tokenizer_config: dict[str, Any]
    tokens: dict[str, int]  # added tokens: text -> id
    weight_names: list[str] = field(default_factory=list)
    chat_template: str | None = None

    def where(self, name: str) -> str:
        return str(self.path / name)


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object; a file that does not parse is an error at its line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CheckpointError([f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})"]) from None
    except OSError as exc:
        raise CheckpointError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CheckpointError([f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"]) from None
    if not isinstance(data, dict):
        raise CheckpointError([f"{path}: expected a JSON object, got {type(data).__name__}"])
    return data


def read_folder(path: Path) -> Folder:
    if not path.is_dir():
        raise CheckpointError([f"{path}: not a folder (spec-from reads a checkpoint folder: config.json, ...)"])
    config_path = path / "config.json"
    if not config_path.is_file():
        raise CheckpointError([f"{config_path}: missing; spec-from needs the model's config.json"])
    config = read_json(config_path)
    processor: dict[str, Any] = {}
    processor_file = "processor_config.json"
    image_processor: dict[str, Any] | None = None
    image_processor_file = "processor_config.json"
    if (path / "processor_config.json").is_file():
        processor = read_json(path / "processor_config.json")
        nested = processor.pop("image_processor", None)
        processor.pop("video_processor", None)
        if isinstance(nested, dict):
            image_processor = nested
    if image_processor is None and (path / "preprocessor_config.json").is_file():
        image_processor_file = "preprocessor_config.json"
        image_processor = read_json(path / "preprocessor_config.json")
    tokenizer_config = {}
    if (path / "tokenizer_config.json").is_file():
        tokenizer_config = read_json(path / "tokenizer_config.json")
    tokens = _added_tokens(path, tokenizer_config)
    chat_template = None
    if (path / "chat_template.jinja").is_file():
        chat_template = (path / "chat_template.jinja").read_text(encoding="utf-8")
    elif isinstance(processor.get("chat_template"), str):
        chat_template = processor["chat_template"]
    return Folder(
        path=path,
        config=config,
        image_processor=image_processor,
        image_processor_file=image_processor_file,
        processor=processor,
        processor_file=processor_file,
        tokenizer_config=tokenizer_config,
        tokens=tokens,
        weight_names=weight_names(path),
        chat_template=chat_template,
    )


def _added_tokens(path: Path, tokenizer_config: dict[str, Any]) -> dict[str, int]:
    """Added tokens by text, from tokenizer.json (`added_tokens`) and tokenizer_config.json (`added_tokens_decoder`)."""
    tokens: dict[str, int] = {}
    if (path / "tokenizer.json").is_file():
        data = read_json(path / "tokenizer.json")
        for entry in data.get("added_tokens") or []:
            if isinstance(entry, dict) and isinstance(entry.get("content"), str) and isinstance(entry.get("id"), int):
                tokens[entry["content"]] = entry["id"]
        vocab = (data.get("model") or {}).get("vocab")
        if isinstance(vocab, dict):
            for text, token_id in vocab.items():
                if isinstance(token_id, int):
                    tokens.setdefault(text, token_id)
    for token_id, entry in (tokenizer_config.get("added_tokens_decoder") or {}).items():
        if isinstance(entry, dict) and isinstance(entry.get("content"), str) and str(token_id).isdigit():
            tokens.setdefault(entry["content"], int(token_id))
    return tokens


def weight_names(path: Path) -> list[str]:
    """The weight names of the folder's safetensors files (read from their headers, no tensors loaded)."""
    index = path / "model.safetensors.index.json"
    if index.is_file():
        weight_map = read_json(index).get("weight_map")
        return sorted(weight_map) if isinstance(weight_map, dict) else []
    names: list[str] = []
    for file in sorted(path.glob("*.safetensors")):
        try:
            with file.open("rb") as handle:
                (length,) = struct.unpack("<Q", handle.read(8))
                header = json.loads(handle.read(length))
        except (OSError, struct.error, ValueError) as exc:
            raise CheckpointError([f"{file}: not a safetensors file ({exc})"]) from None
        names += [name for name in header if name != "__metadata__"]
    return sorted(names)
