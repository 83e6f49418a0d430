"""scaffold: generate and check parity-correct VLMs for Hugging Face transformers v5."""

__version__ = "0.2.0"
