"""The parts a VLM is made of, each owning its arithmetic once (see tokens.py)."""
