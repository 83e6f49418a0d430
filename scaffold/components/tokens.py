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


def tile_marker_tokens(rows: int, columns: int) -> int:
    """Text tokens Idefics3-style tile markers add to an image cut into rows x columns tiles: the around token and a
    `<row_r_col_c>` token before each tile, a newline after each row of tiles and one more, then the around token, the
    global-image token before the thumbnail's features and the around token after them (newlines count one token
    each, as Idefics3's processor counts them). An image of one tile is its global image alone: three tokens."""
    if rows * columns <= 1:
        return 3
    return 2 * rows * columns + rows + 1 + 3


def emitted_source(functions=(tokens_per_view,)) -> str:
    """The source of the functions a generated package carries (those its components count with), as scaffold
    runs them."""
    return "\n\n".join(inspect.getsource(function) for function in functions)
