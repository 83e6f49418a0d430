# Copyright 2026 The HuggingFace Team. All rights reserved.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""Runtime tests of the InternvlTiles model, config and processor: a tiny random model built from the spec, fully
offline (the tokenizer is a local word-level one), run on CPU.
"""

import numpy as np
import pytest
import torch
from PIL import Image
from tokenizers import Tokenizer, models, pre_tokenizers

from internvl_tiles import (
    InternvlTilesConfig,
    InternvlTilesForConditionalGeneration,
    InternvlTilesImageProcessor,
    InternvlTilesImageProcessorPil,
    InternvlTilesProcessor,
)
from transformers import (
    AddedToken,
    AutoConfig,
    AutoModelForImageTextToText,
    AutoProcessor,
    AutoTokenizer,
    PreTrainedTokenizerFast,
)


IMAGE_TOKEN = "<image>"
IMAGE_TOKEN_ID = 127
IMAGE_SIZE = 112
# Features per tower input (one per patch, plus the CLS token when the spec keeps it); the tiles layout gives an
# image several inputs, so its token count depends on its size.
NUM_IMAGE_FEATURES = 64
# What the processor returns besides pixel_values, and the model takes with them.
LAYOUT_INPUTS = ["num_patches"]
CHAT_TEMPLATE = None
# Same tolerances as the image-processor parity tests (PIL and torchvision resizers round differently).
ATOL = 0.04
MEAN_ABS_TOL = 1e-3
MAX_NEW_TOKENS = 3


def build_tokenizer(config):
    """A word-level tokenizer over the whole vocabulary: special tokens at the config's ids, words `w<id>` elsewhere."""
    text_config = config.text_config
    tokens = {IMAGE_TOKEN_ID: IMAGE_TOKEN}
    roles = {}
    for role, token in (("pad_token", "<pad>"), ("bos_token", "<s>"), ("eos_token", "</s>")):
        token_id = getattr(text_config, role + "_id")
        if token_id is not None:
            roles[role] = tokens.setdefault(token_id, token)
    free = [i for i in range(text_config.vocab_size) if i not in tokens]
    tokens[free[0]] = roles["unk_token"] = "<unk>"
    tokens.update({i: f"w{i}" for i in free[1:]})
    backend = Tokenizer(models.WordLevel(vocab={token: i for i, token in tokens.items()}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    roles.setdefault("pad_token", "<unk>")
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, padding_side="left", **roles)
    tokenizer.add_tokens([AddedToken(IMAGE_TOKEN, special=True, normalized=False)], special_tokens=True)
    return tokenizer


def words(tokenizer, count, offset=0):
    """`count` ordinary words of the test vocabulary, as prompt text."""
    vocab = sorted((i, token) for token, i in tokenizer.get_vocab().items() if token[0] == "w" and token[1:].isdigit())
    return " ".join(vocab[(offset + k) % len(vocab)][1] for k in range(count))


# Mixed sizes and aspect ratios (wide, tall, small, large) in one batch: two images in the first prompt, one in the second.
IMAGE_SIZES = [(IMAGE_SIZE, IMAGE_SIZE * 2), (IMAGE_SIZE * 3, IMAGE_SIZE // 2), (IMAGE_SIZE // 2 + 3, IMAGE_SIZE // 2)]


def image_prompts(tokenizer):
    """Three images of different sizes and aspect ratios; two prompts of different lengths."""
    images = [smooth_image(height, width, seed=i + 1) for i, (height, width) in enumerate(IMAGE_SIZES)]
    text = [
        f"{words(tokenizer, 2)} {IMAGE_TOKEN} {words(tokenizer, 3, 5)} {IMAGE_TOKEN}",
        f"{IMAGE_TOKEN} {words(tokenizer, 1, 9)}",
    ]
    return {"images": images, "text": text}


def layout_inputs(batch):
    return {key: batch[key] for key in ["pixel_values", *LAYOUT_INPUTS]}


def smooth_image(height, width, seed=0):
    rng = np.random.default_rng(seed)
    y = np.linspace(0.0, 1.0, height)[:, None, None]
    x = np.linspace(0.0, 1.0, width)[None, :, None]
    freq = rng.uniform(0.1, 0.4, size=(2, 3))
    phase = rng.uniform(0.0, 2 * np.pi, size=3)
    pixels = 127.5 + 100.0 * np.sin(2 * np.pi * (freq[0] * x + freq[1] * y) + phase)
    return Image.fromarray(np.clip(pixels, 0, 255).round().astype(np.uint8))


def config_dict(config):
    """The config's values, without where it was loaded from and the dtype loading records."""

    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if k not in ("_name_or_path", "dtype")}
        return value

    return clean(config.to_dict())


@pytest.fixture(scope="module")
def config():
    return InternvlTilesConfig()


@pytest.fixture(scope="module")
def model(config):
    torch.manual_seed(0)
    return InternvlTilesForConditionalGeneration(config).eval()


@pytest.fixture(scope="module")
def tokenizer(config):
    return build_tokenizer(config)


@pytest.fixture(scope="module")
def processor(tokenizer):
    return InternvlTilesProcessor(image_processor=InternvlTilesImageProcessor(), tokenizer=tokenizer)


@pytest.fixture(scope="module")
def image_batch(processor):
    return processor(**image_prompts(processor.tokenizer), padding=True, return_tensors="pt")


def test_config_matches_spec(config, tokenizer):
    assert config.model_type == "internvl_tiles"
    assert config.vision_config.model_type == "siglip_vision_model"
    assert config.text_config.model_type == "qwen2"
    assert config.image_token_id == IMAGE_TOKEN_ID == tokenizer.convert_tokens_to_ids(IMAGE_TOKEN)
    assert config.image_seq_length == NUM_IMAGE_FEATURES
    assert config.vision_config.image_size == IMAGE_SIZE


def test_config_round_trip(config, tmp_path):
    assert InternvlTilesConfig.from_dict(config.to_dict()).to_dict() == config.to_dict()
    config.save_pretrained(tmp_path)
    loaded = AutoConfig.from_pretrained(tmp_path)
    assert type(loaded) is InternvlTilesConfig
    assert config_dict(loaded) == config_dict(config)


def predicted_counts(processor):
    return processor._get_num_multimodal_tokens(image_sizes=IMAGE_SIZES).num_image_tokens


def test_processor_expands_each_image_token_to_the_feature_count(processor, image_batch):
    """Each prompt holds the predicted tokens of its images (two in the first prompt, one in the second)."""
    predicted = predicted_counts(processor)
    assert len(set(predicted)) > 1, f"the test images should give different counts, got {predicted}"
    counts = (image_batch["input_ids"] == IMAGE_TOKEN_ID).sum(-1).tolist()
    assert counts == [predicted[0] + predicted[1], predicted[2]]
    views = [processor.image_processor.get_number_of_image_patches(height, width) for height, width in IMAGE_SIZES]
    channels = 3
    assert tuple(image_batch["pixel_values"].shape) == (sum(views), channels, IMAGE_SIZE, IMAGE_SIZE)
    assert image_batch["num_patches"].tolist() == views
    assert predicted == [count * NUM_IMAGE_FEATURES for count in views]


def test_processor_predicts_the_token_count_without_processing(processor):
    """Every size, including extreme aspect ratios, gets exactly the tokens the processor expands to."""
    sizes = [
        (48, 64),
        (IMAGE_SIZE * 2, 17),
        (5, IMAGE_SIZE * 9),
        (IMAGE_SIZE * 9, 5),
        (IMAGE_SIZE, IMAGE_SIZE),
        (1000, 999),
    ]
    predicted = processor._get_num_multimodal_tokens(image_sizes=sizes).num_image_tokens
    for (height, width), count in zip(sizes, predicted):
        inputs = processor(images=[smooth_image(height, width)], text=[IMAGE_TOKEN], return_tensors="pt")
        assert (inputs["input_ids"] == IMAGE_TOKEN_ID).sum().item() == count, (height, width)


def test_model_gives_one_feature_per_image_token(model, processor, image_batch):
    with torch.no_grad():
        features = model.get_image_features(**layout_inputs(image_batch)).pooler_output
    hidden = model.config.text_config.hidden_size
    assert [tuple(f.shape) for f in features] == [(count, hidden) for count in predicted_counts(processor)]


def test_forward_and_generate_with_images(model, image_batch):
    with torch.no_grad():
        logits = model(**image_batch).logits
        generated = model.generate(**image_batch, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
    batch, length = image_batch["input_ids"].shape
    assert tuple(logits.shape) == (batch, length, model.config.text_config.vocab_size)
    assert torch.isfinite(logits).all()
    assert generated.shape[0] == batch and length < generated.shape[1] <= length + MAX_NEW_TOKENS
    assert torch.equal(generated[:, :length], image_batch["input_ids"])


def test_generate_text_only(model, processor):
    text = [words(processor.tokenizer, 4), words(processor.tokenizer, 2, 7)]
    inputs = processor(text=text, padding=True, return_tensors="pt")
    assert "pixel_values" not in inputs
    with torch.no_grad():
        generated = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
    length = inputs["input_ids"].shape[1]
    assert generated.shape[0] == 2 and length < generated.shape[1] <= length + MAX_NEW_TOKENS


def test_wrong_number_of_image_tokens_is_a_clear_error(model, processor, image_batch):
    input_ids = image_batch["input_ids"].clone()
    first = (input_ids[0] == IMAGE_TOKEN_ID).nonzero()[0, 0]
    input_ids[0, first] = model.config.text_config.vocab_size - 1 if IMAGE_TOKEN_ID == 0 else 0
    with pytest.raises(ValueError, match="image tokens") as error:
        model(input_ids=input_ids, **layout_inputs(image_batch))
    total = sum(predicted_counts(processor))
    assert f"{total - 1} image tokens" in str(error.value) and f"{total} features" in str(error.value)
    with pytest.raises(ValueError, match="tokens"):  # the processor counts image tokens against images, too
        processor(images=[smooth_image(32, 32)], text=[f"{IMAGE_TOKEN} {IMAGE_TOKEN}"])


def test_save_and_load_keep_logits(model, processor, image_batch, tmp_path):
    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    loaded_model = AutoModelForImageTextToText.from_pretrained(tmp_path).eval()
    loaded_processor = AutoProcessor.from_pretrained(tmp_path)
    assert type(loaded_model) is InternvlTilesForConditionalGeneration
    assert type(loaded_processor) is InternvlTilesProcessor
    assert config_dict(loaded_model.config) == config_dict(model.config)
    assert type(AutoTokenizer.from_pretrained(tmp_path)).__name__ == type(processor.tokenizer).__name__
    again = loaded_processor(**image_prompts(processor.tokenizer), padding=True, return_tensors="pt")
    assert torch.equal(again["input_ids"], image_batch["input_ids"])
    torch.testing.assert_close(again["pixel_values"], image_batch["pixel_values"], atol=0, rtol=0)
    with torch.no_grad():
        assert torch.equal(loaded_model(**again).logits, model(**image_batch).logits)
    pil_processor = AutoProcessor.from_pretrained(tmp_path, backend="pil")
    assert type(pil_processor.image_processor) is InternvlTilesImageProcessorPil
    with_pil = pil_processor(**image_prompts(processor.tokenizer), padding=True, return_tensors="pt")
    assert torch.equal(with_pil["input_ids"], image_batch["input_ids"])
    diff = (with_pil["pixel_values"] - image_batch["pixel_values"]).abs()
    assert diff.max() <= ATOL and diff.mean() <= MEAN_ABS_TOL


@pytest.mark.parametrize("size", [(48, 64), (64, 48), (IMAGE_SIZE + 7, IMAGE_SIZE // 2)])
def test_both_image_processor_backends_give_the_same_inputs(tokenizer, size):
    text = [f"{words(tokenizer, 2)} {IMAGE_TOKEN}"]
    image = smooth_image(*size, seed=3)
    outputs = [
        InternvlTilesProcessor(image_processor=backend(), tokenizer=tokenizer)(
            images=[image], text=text, return_tensors="pt"
        )
        for backend in (InternvlTilesImageProcessor, InternvlTilesImageProcessorPil)
    ]
    assert torch.equal(outputs[0]["input_ids"], outputs[1]["input_ids"])
    diff = (outputs[0]["pixel_values"] - outputs[1]["pixel_values"]).abs()
    assert diff.max() <= ATOL and diff.mean() <= MEAN_ABS_TOL


@pytest.mark.parametrize("projector_type", ["identity", "linear", "mlp3x_gelu"])
def test_every_projector_type_runs(config, image_batch, projector_type):
    """The projector is chosen by `config.projector_type`; identity needs text hidden size = vision features."""
    layers = config.vision_feature_layer
    width = config.vision_config.hidden_size * (1 if isinstance(layers, int) else len(layers))
    text_config = config.text_config.to_dict()
    if projector_type == "identity":
        text_config.update(hidden_size=width, num_attention_heads=2, num_key_value_heads=1)
        if text_config.get("head_dim") is not None:
            text_config["head_dim"] = width // 2
    variant = InternvlTilesConfig(
        projector_type=projector_type, vision_config=config.vision_config.to_dict(), text_config=text_config
    )
    torch.manual_seed(0)
    model = InternvlTilesForConditionalGeneration(variant).eval()
    linears = [m for m in model.model.multi_modal_projector.modules() if isinstance(m, torch.nn.Linear)]
    assert len(linears) == {"identity": 0, "linear": 1, "mlp3x_gelu": 3}[projector_type]
    with torch.no_grad():
        logits = model(**image_batch).logits
    assert tuple(logits.shape) == (*image_batch["input_ids"].shape, variant.text_config.vocab_size)
