"""The image-token scheme: how one image appears in a prompt. Bare repetition of the image token (LLaVA), or the
repetition between a start and an end token (InternVL's `<img>` ... `</img>`). Delimiters are text tokens: the model
embeds them as text, the image mask covers the image token alone, and the processor's placeholder count includes
them (as upstream's `_get_num_multimodal_tokens` does)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TokenScheme:
    image_token: str
    image_token_id: int
    start: str | None = None
    start_id: int | None = None
    end: str | None = None
    end_id: int | None = None

    @classmethod
    def from_spec(cls, processor) -> TokenScheme:
        d = processor.image_delimiters
        if d is None:
            return cls(processor.image_token, processor.image_token_id)
        return cls(processor.image_token, processor.image_token_id, d.start, d.start_id, d.end, d.end_id)

    @property
    def delimited(self) -> bool:
        return self.start is not None

    @property
    def num_delimiters(self) -> int:
        """Text tokens each image adds besides its image tokens."""
        return 2 if self.delimited else 0

    @property
    def text_tokens(self) -> dict[int, str]:
        """The delimiters by id: tokenizers (and the generated tests' tokenizers) must hold them as single tokens."""
        return {self.start_id: self.start, self.end_id: self.end} if self.delimited else {}
