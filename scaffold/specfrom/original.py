"""The original LLaVA repository's training layout: a decoder's config.json with `mm_*` keys, weights named
`model.mm_projector.*` and `model.vision_tower.vision_tower.*`, a tokenizer without an image token, and a vision tower
named by a hub id (`mm_vision_tower`) whose config and image processor the user gives as a local folder.

The folder is restated as a LLaVA source (LlavaConfig built from the decoder's keys and the tower's config), so the
usual mapping writes the spec; `finish` then marks the spec `original_checkpoint: {layout: llava}` (the output gets a
conversion script) and sizes the vocabulary for the tokens the conversion adds.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from scaffold.components.tower import TRAITS
from scaffold.specfrom.mapping import FILE_KEYS, Draft, Problems, Source, _instantiate_image_processor
from scaffold.specfrom.read import CheckpointError, Folder, read_json

# model_type of the original config -> the decoder's model type.
TEXT_FAMILIES = {"llava": "llama", "llava_llama": "llama", "llava_mistral": "mistral"}
# Keys of the original config that describe the multimodal model (read below).
MULTIMODAL_KEYS = {
    "mm_vision_tower",
    "mm_projector_type",
    "mm_hidden_size",
    "mm_vision_select_layer",
    "mm_vision_select_feature",
    "image_aspect_ratio",
    "image_grid_pinpoints",
    "mm_patch_merge_type",
    "mm_use_im_start_end",
    "mm_use_im_patch_token",
}
# Keys of the training run that the model does not compute with.
TRAINING_KEYS = {
    "use_mm_proj",
    "freeze_mm_mlp_adapter",
    "tune_mm_mlp_adapter",
    "unfreeze_mm_vision_tower",
    "mm_projector_lr",
    "mm_vision_tower_lr",
    "tokenizer_model_max_length",
    "tokenizer_padding_side",
    "mm_vision_tower_type",
}
# The original weight names the conversion script maps (its KEY_RENAMES), and the buffers it drops.
WEIGHT_PREFIXES = ("model.embed_tokens.", "model.layers.", "model.norm.", "lm_head.", "model.mm_projector.",
                   "model.vision_tower.vision_tower.")  # fmt: skip
DROPPED = (r"\.rotary_emb\.inv_freq$", r"\.embeddings\.position_ids$")
TOWER_PROCESSORS = r"(CLIP|Siglip)(ImageProcessor|FeatureExtractor)(Fast|Pil)?"
SELECT_FEATURE = {"patch": "default", "cls_patch": "full"}
PAD_TOKEN = "<pad>"


def is_original(config: dict[str, Any]) -> bool:
    """The original LLaVA layout: its config.json carries the multimodal settings as `mm_*` keys."""
    return any(str(key).startswith("mm_") for key in config)


def source_from_original(folder: Folder, vision_tower: Path | None) -> Source:
    """A LLaVA source from the original folder and the tower's folder; every problem is reported at once."""
    from transformers import AutoTokenizer, LlavaConfig
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    data, where = folder.config, folder.where("config.json")
    problems = Problems()
    if vision_tower is None:
        raise CheckpointError(
            [
                f"{where}: mm_vision_tower: {data.get('mm_vision_tower')!r}: the original LLaVA layout names its "
                "vision tower by a hub id; give the tower's local folder (config.json, preprocessor_config.json) "
                "with --vision-tower FOLDER"
            ]
        )
    tower_config_path, tower_ip_path = vision_tower / "config.json", vision_tower / "preprocessor_config.json"
    for path in (tower_config_path, tower_ip_path):
        if not path.is_file():
            raise CheckpointError([f"{path}: missing; --vision-tower needs the tower's config.json and "
                                   "preprocessor_config.json"])  # fmt: skip
    model_type = data.get("model_type")
    family = TEXT_FAMILIES.get(model_type)
    if family is None:
        raise CheckpointError([f"{where}: model_type: {model_type!r}: an original LLaVA checkpoint's decoder is one "
                               f"of {', '.join(TEXT_FAMILIES)}"])  # fmt: skip

    # The decoder: every key the decoder's config has, the multimodal keys read below, training keys ignored.
    text_class = CONFIG_MAPPING[family]
    default_text = text_class()
    text_keys: dict[str, Any] = {}
    for key, value in data.items():
        if key in MULTIMODAL_KEYS or key in TRAINING_KEYS or key in FILE_KEYS:
            continue
        if hasattr(default_text, key):
            text_keys[key] = value
        else:
            problems.add(where, key, value, "scaffold's spec has no setting for it")

    # The multimodal keys.
    projector_type = data.get("mm_projector_type", "linear")
    if not (projector_type == "linear" or re.fullmatch(r"mlp[1-9][0-9]*x_gelu", str(projector_type))):
        problems.add(where, "mm_projector_type", projector_type,
                     "scaffold converts LLaVA's linear and mlpNx_gelu projectors only")  # fmt: skip
    select = data.get("mm_vision_select_feature", "patch")
    if select not in SELECT_FEATURE:
        problems.add(where, "mm_vision_select_feature", select, "expected 'patch' or 'cls_patch'")
    aspect = data.get("image_aspect_ratio") or "square"
    if str(aspect).startswith("anyres"):
        problems.add(where, "image_aspect_ratio", aspect,
                     "not yet: the any-resolution grid of the original layout (its image_newline, spatial_unpad) "
                     "has no conversion in scaffold")  # fmt: skip
    elif aspect not in ("pad", "square"):
        problems.add(where, "image_aspect_ratio", aspect, "expected 'pad' or 'square'")
    merge = data.get("mm_patch_merge_type", "flat")
    if merge != "flat":
        problems.add(where, "mm_patch_merge_type", merge,
                     "scaffold restates 'flat' only (the spatial merges add image_newline rows)")  # fmt: skip
    for key in ("mm_use_im_start_end", "mm_use_im_patch_token"):
        if data.get(key):
            problems.add(where, key, data[key], "image start/end or patch tokens added in training: not expressed")

    # The tower: its config (a CLIPVisionConfig, or a CLIPConfig's vision_config) and image processor.
    tower = read_json(tower_config_path)
    tower_type = tower.get("model_type")
    if tower_type in ("clip", "siglip") and isinstance(tower.get("vision_config"), dict):
        tower = {**tower["vision_config"], "model_type": f"{tower_type}_vision_model"}
        tower_type = tower["model_type"]
    if tower_type not in TRAITS:
        raise CheckpointError([f"{tower_config_path}: model_type: {tower_type!r}: scaffold converts towers of "
                               f"model type {', '.join(sorted(TRAITS))}"])  # fmt: skip
    try:
        vision_config = CONFIG_MAPPING[tower_type].from_dict(
            {key: value for key, value in tower.items() if key not in FILE_KEYS}
        )
    except Exception as exc:  # transformers raises many kinds for a config it cannot build
        raise CheckpointError([f"{tower_config_path}: cannot be built: {exc}"]) from None
    mm_hidden = data.get("mm_hidden_size")
    if mm_hidden is not None and mm_hidden != vision_config.hidden_size:
        problems.add(where, "mm_hidden_size", mm_hidden,
                     f"differs from the tower's hidden_size {vision_config.hidden_size} ({tower_config_path})")  # fmt: skip
    ip_data = read_json(tower_ip_path)
    stored = ip_data.pop("image_processor_type", None) or ip_data.pop("feature_extractor_type", None)
    ip_data.pop("feature_extractor_type", None)
    if not re.fullmatch(TOWER_PROCESSORS, str(stored)):
        raise CheckpointError([f"{tower_ip_path}: image_processor_type: {stored!r}: scaffold reads CLIP and SigLIP "
                               "image processors for the original layout"])  # fmt: skip
    # LLaVA's `pad` pads each image to a square with the mean colour before the tower's image processor, as
    # LlavaImageProcessor's do_pad does; `square` (or no setting) runs the tower's image processor as it is.
    ip_data.update(image_processor_type="LlavaImageProcessor", do_pad=aspect == "pad")
    ip_class, ip_settings = _instantiate_image_processor("llava", ip_data, str(tower_ip_path))

    # The tokenizer: the conversion adds the image token (and a pad token if there is none) after its tokens.
    from transformers.utils import logging

    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()  # AutoTokenizer warns that config.json's model_type is not one it knows
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder.path)
    except Exception as exc:  # a folder without a tokenizer, or one transformers cannot load
        raise CheckpointError([f"{folder.path}: the tokenizer cannot be loaded: {exc}"]) from None
    finally:
        logging.set_verbosity(verbosity)
    vocab_size = text_keys.get("vocab_size", default_text.vocab_size)
    if len(tokenizer) != vocab_size:
        problems.add(where, "vocab_size", vocab_size, f"the tokenizer has {len(tokenizer)} tokens")
    if "<image>" in tokenizer.get_vocab():
        problems.add(folder.where("tokenizer_config.json"), "<image>", tokenizer.get_vocab()["<image>"],
                     "the original layout's tokenizer has no image token; the conversion adds it")  # fmt: skip
    adds_pad = tokenizer.pad_token is None
    image_token_id = vocab_size
    bad = sorted(
        name
        for name in folder.weight_names
        if not name.startswith(WEIGHT_PREFIXES) and not any(re.search(pattern, name) for pattern in DROPPED)
    )
    if bad:
        problems.add(folder.where("*.safetensors"), "weights", bad[:5] + ["..."] * (len(bad) > 5),
                     "the conversion maps no such weight of the original layout")  # fmt: skip
    if problems:
        raise CheckpointError(list(problems))
    if text_keys.get("pad_token_id") is None and adds_pad:
        text_keys["pad_token_id"] = vocab_size + 1
    # The converted model's vocabulary: the original tokens, <image>, and <pad> when the tokenizer has none.
    text_keys["vocab_size"] = vocab_size + 1 + adds_pad
    try:
        config = LlavaConfig(
            vision_config=vision_config.to_dict(),
            text_config={**text_keys, "model_type": family},
            image_token_id=image_token_id,
            vision_feature_layer=data.get("mm_vision_select_layer", -2),
            vision_feature_select_strategy=SELECT_FEATURE[select],
            projector_hidden_act="gelu",
            multimodal_projector_bias=True,
            tie_word_embeddings=bool(text_keys.get("tie_word_embeddings", False)),
        )
    except Exception as exc:  # transformers raises many kinds for a config it cannot build
        raise CheckpointError([f"{where}: LlavaConfig cannot be built from it: {exc}"]) from None
    has_cls = TRAITS[tower_type].has_cls
    return Source(
        model_type="llava",
        config=config,
        config_data={},  # the original keys are checked above
        config_file=where,
        image_processor=ip_settings,
        image_processor_class=ip_class,
        image_processor_file=str(tower_ip_path),
        processor={"num_additional_image_tokens": 1 if has_cls else 0},
        processor_file=folder.where("tokenizer_config.json"),
        tokens={"<image>": image_token_id},
        tokenizer_config=folder.tokenizer_config,
        tokenizer_file=folder.where("tokenizer_config.json"),
        weight_names=folder.weight_names,
        chat_template=folder.chat_template,
        origin=f"the original LLaVA checkpoint {folder.path} ({', '.join(data.get('architectures') or [model_type])}) "
        f"and the vision tower {vision_tower}",
        original={
            "projector_type": projector_type,
            "aspect": aspect,
            "vocab_size": vocab_size,
            "adds_pad": adds_pad,
            "tower": data.get("mm_vision_tower"),
        },
    )


def finish(draft: Draft, source: Source) -> None:
    """The spec of the converted model: the original layout's projector, the vocabulary with the added tokens,
    `original_checkpoint` instead of key renames."""
    original = source.original
    assert original is not None
    draft.data.pop("checkpoint_key_renames", None)
    draft.comments.pop(("checkpoint_key_renames",), None)
    draft.put(("projector", "type"), original["projector_type"], "mm_projector_type")
    draft.put(("projector", "bias"), True, "LLaVA's mm_projector layers have biases")
    vocab, adds_pad = original["vocab_size"], original["adds_pad"]
    added = "<image>" + (f" and {PAD_TOKEN}" if adds_pad else "")
    draft.put(("text", "vocab_size"), vocab + 1 + adds_pad,
              f"config.json vocab_size {vocab} + {added}, which the conversion adds")  # fmt: skip
    if adds_pad:
        draft.comments[("text", "pad_token_id")] = f"{PAD_TOKEN}, added by the conversion (the tokenizer has none)"
    draft.comments[("processor", "image_token_id")] = (
        f"the first id after the original {vocab} tokens: the conversion adds <image> to the tokenizer"
    )
    draft.comments[("image_processor", "pad_to_square")] = f"image_aspect_ratio {original['aspect']!r}" + (
        " (pad to a square, mean colour)" if original["aspect"] == "pad" else " (the tower's processor as is)"
    )
    draft.put(("original_checkpoint",), {"layout": "llava"},
              "the original LLaVA layout: the output includes convert_<model_type>_weights_to_hf.py")  # fmt: skip
    # The generated model loads the converted folder, not this one: say so instead of the usual second sentence.
    reference = (
        "LlavaForConditionalGeneration computes."
        if original["projector_type"] == "mlp2x_gelu"
        else "the original decoder computes on text."
    )
    draft.header[1:3] = [
        "The generated model loads the folder its conversion script writes; given those weights it computes what",
        f"{reference} Each comment names the setting a value was read from.",
    ]
    draft.header += [
        f"The tower ({original['tower']}) and its image processor come from the --vision-tower folder.",
        f"The conversion adds {added} to the tokenizer, their embedding and lm_head rows drawn around the mean of",
        "the existing rows with their covariance (transformers' mean_resizing, as its LLaVA conversion did): run",
        "convert_<model_type>_weights_to_hf.py on the original folder, then load the folder it writes.",
    ]
