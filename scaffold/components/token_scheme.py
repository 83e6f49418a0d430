"""The image-token scheme: how one image appears in a prompt. Bare repetition of the image token (LLaVA), or the
repetition between a start and an end token (InternVL's `<img>` ... `</img>`). Delimiters are text tokens: the model
embeds them as text, the image mask covers the image token alone, and the processor's placeholder count includes
them (as upstream's `_get_num_multimodal_tokens` does)."""

from __future__ import annotations

from dataclasses import dataclass

from scaffold.components import tokens


@dataclass(frozen=True)
class TokenScheme:
    image_token: str
    image_token_id: int
    start: str | None = None
    start_id: int | None = None
    end: str | None = None
    end_id: int | None = None
    # Idefics3-style tile markers (tiles layout): the around token, the global-image token, and `<row_r_col_c>`.
    around: str | None = None
    around_id: int | None = None
    global_image: str | None = None
    global_image_id: int | None = None
    max_tiles: int = 0  # the layout's most tiles: which row/column markers an image can need

    @classmethod
    def from_spec(cls, processor, layout=None) -> TokenScheme:
        d, m = processor.image_delimiters, processor.tile_markers
        scheme = cls(processor.image_token, processor.image_token_id)
        if d is not None:
            scheme = cls(processor.image_token, processor.image_token_id, d.start, d.start_id, d.end, d.end_id)
        if m is not None:
            max_tiles = layout.max_tiles if layout is not None and layout.kind == "tiles" else 0
            scheme = cls(
                processor.image_token,
                processor.image_token_id,
                around=m.around,
                around_id=m.around_id,
                global_image=m.global_image,
                global_image_id=m.global_image_id,
                max_tiles=max_tiles,
            )
        return scheme

    @property
    def tile_markers(self) -> bool:
        return self.around is not None

    @property
    def token_functions(self) -> list:
        """The token arithmetic the scheme adds to a package (scaffold.components.tokens, emitted verbatim)."""
        return [tokens.tile_marker_tokens] if self.tile_markers else []

    @property
    def image_utils_imports(self) -> list[str]:
        """transformers.image_utils names the processor's block for the scheme uses: tile markers read each image's
        original size."""
        if not self.tile_markers:
            return []
        return ["get_image_size", "to_numpy_array", "is_pil_image", "make_flat_list_of_images"]

    @property
    def row_column_markers(self) -> list[str]:
        """Every `<row_r_col_c>` token a tile of the layout can need (rows x columns <= max_tiles)."""
        return [
            f"<row_{row}_col_{column}>"
            for row in range(1, self.max_tiles + 1)
            for column in range(1, self.max_tiles // row + 1)
        ]

    @property
    def delimited(self) -> bool:
        return self.start is not None

    @property
    def num_delimiters(self) -> int:
        """Text tokens each image adds besides its image tokens."""
        return 2 if self.delimited else 0

    @property
    def text_tokens(self) -> dict[int, str]:
        """The delimiters (or the around and global-image markers) by id: tokenizers (and the generated tests'
        tokenizers) must hold them as single tokens."""
        if self.tile_markers:
            return {self.around_id: self.around, self.global_image_id: self.global_image}
        return {self.start_id: self.start, self.end_id: self.end} if self.delimited else {}
