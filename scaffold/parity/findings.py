"""Findings are data; formatting them is the reporter's job."""

from __future__ import annotations

from dataclasses import dataclass

from scaffold.errors import Location

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    col: int
    code: str
    severity: str  # "error" | "warning"
    message: str
    related: Location | None = None  # the other backend's place

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"

    def sort_key(self):
        return (self.path, self.line, self.col, self.code, self.message)

    def to_dict(self) -> dict:
        out = {
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "related": None,
        }
        if self.related is not None:
            out["related"] = {"path": self.related.path, "line": self.related.line, "col": self.related.col}
        return out


# code -> (severity, title). The single table the docs and the reporters rely on.
RULES: dict[str, tuple[str, str]] = {
    "PAR000": (ERROR, "file does not parse"),
    "PAR001": (ERROR, "processor class has no counterpart in the other backend file"),
    "PAR002": (WARNING, "processor class name does not follow <M>ImageProcessor / <M>ImageProcessorPil"),
    "PAR003": (ERROR, "base classes do not correspond"),
    "PAR004": (WARNING, "image-processing file has no counterpart file"),
    "PAR010": (ERROR, "__init__ signatures differ"),
    "PAR020": (ERROR, "effective class-attribute default differs"),
    "PAR021": (ERROR, "class attribute defined on one side only"),
    "PAR022": (ERROR, "model_input_names differ"),
    "PAR030": (ERROR, "backends use differently named Kwargs classes"),
    "PAR031": (ERROR, "Kwargs class copies differ"),
    "PAR032": (ERROR, "PIL file imports its Kwargs class from a module that needs torch/torchvision"),
    "PAR033": (WARNING, "Kwargs copy lacks the '# Adapted from' marker"),
    "PAR034": (ERROR, "Kwargs sharing mode not allowed by --kwargs-sharing"),
    "PAR035": (ERROR, "Unpack[...] names different Kwargs classes"),
    "PAR040": (ERROR, "public method defined on one side only"),
    "PAR041": (ERROR, "public method signatures differ"),
    "PAR050": (WARNING, "kwarg read by one backend's preprocessing only"),
    "PAR060": (ERROR, "processor class missing from __all__"),
    "PAR061": (WARNING, "file has no __all__"),
    "PAR070": (ERROR, "torch/torchvision imported unguarded in the PIL file"),
}


def make(path: str, pos, code: str, message: str, related=None) -> Finding:
    severity = RULES[code][0]
    rel = None
    if related is not None:
        rpath, rpos = related
        rel = Location(rpath, rpos[0], rpos[1])
        message = f"{message} (see {rel})"
    return Finding(path=path, line=pos[0], col=pos[1], code=code, severity=severity, message=message, related=rel)
