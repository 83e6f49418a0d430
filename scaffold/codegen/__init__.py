"""Low-level code generation shared by generate, testgen, intree and parity: the Jinja2 environment (render),
Python literals (literals) and ruff formatting (format). Imports no other scaffold package."""
