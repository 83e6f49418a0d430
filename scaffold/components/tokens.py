"""Image-token arithmetic, written once: scaffold validates specs with these functions, and every generated package
carries their source (emitted verbatim into the modular file), so its processor, model and vLLM plugin count
exactly as scaffold does."""

from __future__ import annotations

import inspect


def tokens_per_view(
    height: int,
    width: int,
    patch_size: int,
    num_additional_image_tokens: int,
    select_strategy: str,
    merge_factor: int = 1,
) -> int:
    """Features of one tower input of (height, width) pixels: one per patch, plus the tokens the tower adds (a CLS
    token), less the first token when the "default" strategy drops it; a connector that merges each
    `merge_factor` x `merge_factor` block of patches (no CLS token left) divides the patches by its square."""
    rows, columns = height // patch_size // merge_factor, width // patch_size // merge_factor
    count = rows * columns + num_additional_image_tokens
    return count - 1 if select_strategy == "default" else count


EMITTED = (tokens_per_view,)


def emitted_source() -> str:
    """The source of the functions every generated package carries, as scaffold runs them."""
    return "\n\n".join(inspect.getsource(function) for function in EMITTED)
