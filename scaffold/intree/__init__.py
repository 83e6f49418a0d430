"""In-tree mode: edits that add a generated model to a transformers checkout."""
