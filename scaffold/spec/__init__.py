"""The spec: load YAML with positions, validate into a typed model, derive every name once."""

from scaffold.spec.load import load_spec
from scaffold.spec.model import Spec
from scaffold.spec.names import Names

__all__ = ["Names", "Spec", "load_spec"]
