"""Image-token arithmetic, written once: scaffold validates specs with these functions, and every generated package
carries their source (emitted verbatim into the modular file), so its processor, model and vLLM plugin count
exactly as scaffold does."""

from __future__ import annotations

import inspect
import math


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


def smart_resize(
    height: int, width: int, factor: int = 28, min_pixels: int = 56 * 56, max_pixels: int = 14 * 14 * 4 * 1280
) -> tuple[int, int]:
    """The (height, width) a native-resolution tower sees for an image of (height, width) pixels (Qwen2-VL's rule).

    Both sides become multiples of `factor` (patch size times merge size), the area stays within
    [`min_pixels`, `max_pixels`], and the aspect ratio is kept as closely as that rounding allows: each side is
    rounded to the nearest multiple; an area above `max_pixels` scales both sides down by the same factor and rounds
    them down (never below one `factor`), an area below `min_pixels` scales them up and rounds them up. An image more
    than 200 times longer than wide (or the reverse) is refused with a ValueError.
    """
    ratio = max(height, width) / min(height, width)
    if ratio > 200:
        raise ValueError(f"absolute aspect ratio must be smaller than 200, got {ratio}")
    resized_height, resized_width = round(height / factor) * factor, round(width / factor) * factor
    if resized_height * resized_width > max_pixels:
        scale = math.sqrt((height * width) / max_pixels)
        resized_height = max(factor, math.floor(height / scale / factor) * factor)
        resized_width = max(factor, math.floor(width / scale / factor) * factor)
    elif resized_height * resized_width < min_pixels:
        scale = math.sqrt(min_pixels / (height * width))
        resized_height = math.ceil(height * scale / factor) * factor
        resized_width = math.ceil(width * scale / factor) * factor
    return resized_height, resized_width


def native_patch_grid(
    height: int, width: int, patch_size: int, merge_size: int, min_pixels: int, max_pixels: int
) -> tuple[int, int]:
    """(rows, columns) of patches of an image of (height, width) pixels once `smart_resize` has resized it."""
    resized_height, resized_width = smart_resize(
        height, width, patch_size * merge_size, min_pixels=min_pixels, max_pixels=max_pixels
    )
    return resized_height // patch_size, resized_width // patch_size


def native_num_tokens(num_patches: int, merge_size: int) -> int:
    """Image tokens of an image of `num_patches` patches (temporal x rows x columns of its patch grid): each
    `merge_size` x `merge_size` block of patches becomes one token."""
    return num_patches // merge_size**2


def tile_marker_tokens(rows: int, columns: int) -> int:
    """Text tokens Idefics3-style tile markers add to an image cut into rows x columns tiles: the around token and a
    `<row_r_col_c>` token before each tile, a newline after each row of tiles and one more, then the around token, the
    global-image token before the thumbnail's features and the around token after them (newlines count one token
    each, as Idefics3's processor counts them). An image of one tile is its global image alone: three tokens."""
    if rows * columns <= 1:
        return 3
    return 2 * rows * columns + rows + 1 + 3


def mrope_positions(
    token_types: list[int], grids: list[tuple[int, int, int]], merge_size: int
) -> tuple[list[list[int]], int]:
    """M-RoPE positions (temporal, height, width) of one sequence without its padding, and its rope delta.

    `token_types` marks each token: 0 text, 1 image token; `grids` holds the (t, h, w) patch grid of each image in
    the order they appear. A text token advances all three positions by one. An image's tokens, one per
    `merge_size` x `merge_size` block of patches in raster order, all start at the position after the text before
    it: the temporal position counts frames (an image has one), the height position counts rows of blocks and the width position columns;
    the text after it continues at that start plus the longer side of the block grid (Qwen2-VL's rule). Images that
    follow each other without text between them are taken one grid at a time. The delta is what a position of the
    sequence exceeds its index by at the end (the highest position + 1 - the length): a token generated after the
    sequence sits at its index plus the delta in all three rows.
    """
    rows: list[list[int]] = [[], [], []]
    grid_iter = iter(grids)
    start = index = 0
    while index < len(token_types):
        if token_types[index] == 0:
            for row in rows:
                row.append(start)
            start += 1
            index += 1
            continue
        temporal, height, width = next(grid_iter)
        block_rows, block_columns = height // merge_size, width // merge_size
        count = temporal * block_rows * block_columns
        if token_types[index : index + count] != [1] * count:
            raise ValueError(f"an image of grid {(temporal, height, width)} needs {count} consecutive image tokens")
        for frame in range(temporal):
            for block_row in range(block_rows):
                for block_column in range(block_columns):
                    rows[0].append(start + frame)
                    rows[1].append(start + block_row)
                    rows[2].append(start + block_column)
        start += max(block_rows, block_columns)
        index += count
    highest = max(rows[0] + rows[1] + rows[2], default=-1)
    return rows, highest + 1 - len(token_types)


def emitted_source(functions=(tokens_per_view,)) -> str:
    """The source of the functions a generated package carries (those its components count with), as scaffold
    runs them."""
    return "\n\n".join(inspect.getsource(function) for function in functions)
