"""Render findings: ruff-like text, JSON, or GitHub workflow annotations."""

from __future__ import annotations

import json

from scaffold.parity.findings import ERROR, Finding


def summary(findings: list[Finding], files_checked: int) -> str:
    errors = sum(1 for f in findings if f.severity == ERROR)
    warnings = len(findings) - errors
    if not findings:
        return f"All checks passed ({files_checked} files)."
    return f"Found {errors} error{'s' if errors != 1 else ''} and {warnings} warning{'s' if warnings != 1 else ''} in {files_checked} files."


def _gh_escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_escape_prop(s: str) -> str:
    return _gh_escape_data(s).replace(":", "%3A").replace(",", "%2C")


def render(findings: list[Finding], fmt: str, files_checked: int) -> str:
    if fmt == "json":
        errors = sum(1 for f in findings if f.severity == ERROR)
        doc = {
            "findings": [f.to_dict() for f in findings],
            "summary": {"errors": errors, "warnings": len(findings) - errors, "files": files_checked},
        }
        return json.dumps(doc, indent=2)
    if fmt == "github":
        lines = []
        for f in findings:
            kind = "error" if f.severity == ERROR else "warning"
            lines.append(
                f"::{kind} file={_gh_escape_prop(f.path)},line={f.line},col={f.col},"
                f"title={_gh_escape_prop(f.code)}::{_gh_escape_data(f.message)}"
            )
        lines.append(summary(findings, files_checked))
        return "\n".join(lines)
    lines = [f"{f.path}:{f.line}:{f.col}: {f.code} {f.message}" for f in findings]
    lines.append(summary(findings, files_checked))
    return "\n".join(lines)
