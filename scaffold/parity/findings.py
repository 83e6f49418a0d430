"""Findings are data: where, which rule, what about (subject and both sides' values), and a message for people.

``--fix`` and the JSON output read the structured fields; nothing parses ``message``.
"""

from __future__ import annotations

from dataclasses import dataclass

from scaffold.errors import Location

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Subject:
    """What a finding is about: an attribute, method, kwarg, class, Kwargs class, import or file."""

    kind: str  # "attribute" | "method" | "kwarg" | "class" | "kwargs_class" | "import" | "file"
    name: str
    torchvision_class: str | None = None
    pil_class: str | None = None

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "name": self.name,
            "torchvision_class": self.torchvision_class,
            "pil_class": self.pil_class,
        }


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    col: int
    code: str
    severity: str  # "error" | "warning"
    message: str
    related: Location | None = None  # the other backend's place
    subject: Subject | None = None
    torchvision: str | None = None  # the torchvision side's value, as shown in the message (None: absent / n/a)
    pil: str | None = None  # the PIL side's value

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
            "subject": self.subject.to_dict() if self.subject is not None else None,
            "values": {"torchvision": self.torchvision, "pil": self.pil},
        }
        if self.related is not None:
            out["related"] = {"path": self.related.path, "line": self.related.line, "col": self.related.col}
        return out
