"""Run check-parity over the installed transformers models/ tree and write docs/transformers-5.23-findings.md.

Every finding must be classified below (by rule code and model); the reasoning was done by reading both files.
An unclassified finding makes the script exit 1, so a rule change that adds findings cannot slip into the doc.

    python benchmarks/real_tree_findings.py [--check]   # --check: only verify, do not write
"""

from __future__ import annotations

import collections
import os
import sys

TRUE, ACCEPTABLE, FALSE_POSITIVE = "true divergence", "acceptable difference", "false positive"

# (code, model) -> (classification, reasoning)
CLASSIFIED = {
    ("PAR030", "minicpmv4_6"): (
        TRUE,
        "The PIL file renames its Kwargs copy to `MiniCPMV4_6ImageProcessorPilKwargs`; `valid_kwargs` of the two "
        "backends name different classes, so typed kwargs and docs differ by backend.",
    ),
    ("PAR035", "minicpmv4_6"): (
        TRUE,
        "Same root cause as PAR030: `__init__`/`preprocess` unpack the renamed PIL Kwargs class.",
    ),
    ("PAR041", "janus"): (
        TRUE,
        "`JanusImageProcessorPil.postprocess` accepts `input_data_format`, the torchvision `postprocess` does "
        "not: the same call raises TypeError on one backend.",
    ),
    # PAR042: one-sided public backend helpers; none is called by the other backend (that would be PAR040).
    ("PAR042", "efficientnet"): (
        ACCEPTABLE,
        "`rescale_and_normalize_efficientnet` is the batched torchvision form of the PIL side's overridden "
        "`rescale` + `normalize` (EfficientNet's optional offset); the PIL backend does the same in `rescale`.",
    ),
    ("PAR042", "gemma3"): (
        TRUE,
        "A rename across backends: torchvision `pan_and_scan_batched`, PIL `pan_and_scan` (same algorithm, "
        "batched vs per image); code calling one public name fails on the other backend.",
    ),
    ("PAR042", "janus"): (
        TRUE,
        "`JanusImageProcessorPil.unnormalize` is public API (its `postprocess` uses it); the torchvision class "
        "inlines the step, so `processor.unnormalize(...)` works on PIL only.",
    ),
    ("PAR042", "llava_next"): (
        TRUE,
        "PIL has public `get_image_patches`, torchvision the same step as private `_get_image_patches`: "
        "a public method on one backend only (a rename to private on the other).",
    ),
    ("PAR042", "llava_onevision"): (
        TRUE,
        "As llava_next: public `get_image_patches` on PIL, private `_get_image_patches` on torchvision.",
    ),
    ("PAR042", "tvp"): (
        ACCEPTABLE,
        "Per-image PIL padding helper `pad_image`; the torchvision side pads batched tensors with the backend's "
        "own `pad` inside `_preprocess`. Backend-specific implementation, not called by the other side.",
    ),
    ("PAR042", "vitmatte"): (
        TRUE,
        "PIL has public `pad_image`, torchvision the same step as private `_pad_image`: a public method on one "
        "backend only.",
    ),
    ("PAR042", "zoedepth"): (
        TRUE,
        "PIL has public `pad_image`, torchvision private `_pad_images` (batched): a public method on one backend "
        "only.",
    ),
    ("PAR050", "dpt"): (
        TRUE,
        "The torchvision `_preprocess` center-crops when `do_center_crop=True`; the PIL `_preprocess` has no "
        "crop step, so the kwarg is silently ignored on PIL (defaults are None, so default outputs agree).",
    ),
    ("PAR050", "imagegpt"): (
        TRUE,
        "As DPT: torchvision honours `do_center_crop`/`crop_size`, the PIL `_preprocess` never reads them.",
    ),
    ("PAR050", "glm5_next"): (
        TRUE,
        "torchvision resizes to a multiple of `patch_size * merge_size * patch_expand_factor`, PIL to "
        "`patch_size * merge_size`: outputs differ as soon as `patch_expand_factor != 1` (default 1).",
    ),
    ("PAR050", "glmga"): (
        TRUE,
        "Same as glm5_next: the PIL `_preprocess` takes `patch_expand_factor` but never uses it.",
    ),
}


def classify_marker(path: str) -> tuple[str, str]:
    """PAR033 (Kwargs copy without '# Adapted from'): acceptable when the file is generated from a modular file."""
    with open(path, encoding="utf-8") as fh:
        head = fh.read(2000)
    if "This file was automatically generated from" in head:
        return (
            ACCEPTABLE,
            "Identical copy (no PAR031) in a file generated from modular_*.py; transformers' modular converter "
            "regenerates both backends from one source, so the copy cannot drift even without the marker.",
        )
    return (
        TRUE,
        "Identical copy today (no PAR031), but hand-written and unmarked: nothing keeps it in sync with the "
        "torchvision class (the `# Adapted from` marker is what tooling keys on).",
    )


def main() -> int:
    import transformers

    from scaffold.parity.api import check_paths

    models = os.path.join(os.path.dirname(transformers.__file__), "models")
    result = check_paths([models])
    rows, unclassified = [], []
    for f in result.findings:
        rel = os.path.relpath(f.path, models)
        model = rel.split(os.sep)[0]
        if f.code == "PAR033":
            cls, why = classify_marker(f.path)
        else:
            entry = CLASSIFIED.get((f.code, model))
            if entry is None:
                unclassified.append(f)
                continue
            cls, why = entry
        message = f.message.replace(models + os.sep, "")
        rows.append((cls, f"{rel}:{f.line}:{f.col}", f.code, f.severity, message, why))
    if unclassified:
        for f in unclassified:
            print(f"UNCLASSIFIED: {f.path}:{f.line}:{f.col}: {f.code} {f.message}", file=sys.stderr)
        return 1
    counts = collections.Counter(r[0] for r in rows)
    by_code = collections.Counter((r[2], r[3]) for r in rows)
    errors = sum(1 for r in rows if r[3] == "error")
    lines = [
        f"# check-parity on transformers {transformers.__version__}",
        "",
        "Generated by `python benchmarks/real_tree_findings.py` from `scaffold check-parity` over the installed",
        f"`transformers/models/` tree: {len([p for p in result.pairs if not p.is_lone])} pairs, "
        f"{result.files_checked} files, no crashes, no parse errors.",
        "",
        f"- findings: **{len(rows)}** ({errors} error-level, {len(rows) - errors} warnings)",
        f"- true divergences: **{counts[TRUE]}**",
        f"- acceptable differences: **{counts[ACCEPTABLE]}**",
        f"- false positives: **{counts[FALSE_POSITIVE]}**",
        "",
        "By rule: " + ", ".join(f"{code} ({sev}) x{n}" for (code, sev), n in sorted(by_code.items())) + ".",
        "",
        "The test `tests/parity/test_real_tree.py` pins these counts.",
        "",
        "## False positives found and fixed while building the rules",
        "",
        "The first runs reported several hundred findings; each group below was a false positive, fixed in the rule:",
        "",
        "- ~100 PAR040/PAR041 on `resize`, `pad`, `rescale`, ... : transformers' base modules were parsed as "
        "ordinary parents, so backend methods looked model-defined. Fix: `TorchvisionBackend`, `PilBackend`, "
        "`BaseImageProcessor` and `ImageProcessingMixin` are described by the checker (resolve.BUILTINS), never "
        "parsed; a method one side overrides and the other inherits from its backend is not compared.",
        "- ~100 PAR041 on helpers such as `patchify(images: torch.Tensor)` vs `patchify(image: np.ndarray)`: "
        "batched torchvision helpers and per-image PIL helpers legitimately differ. Fix: methods whose data "
        "argument is a backend array are backend helpers (not compared, and allowed on one side only).",
        "- 7 PAR041 on `resample: PILImageResampling | int | tvF.InterpolationMode` vs `PILImageResampling`: "
        "the same set of accepted values. Fix: InterpolationMode and int are dropped from a union with "
        "PILImageResampling when comparing method signatures.",
        "- PAR041 on an annotation present on one side only (`images` vs `images: ImageInput`). Fix: only "
        "compared when both sides annotate.",
        "- 4 PAR021 (dpt `crop_size`/`do_center_crop`/`do_reduce_labels = None`, gemma4 `size = None`): `_set_attributes` gives every valid "
        "kwarg without a class default the value None, so `x = None` equals no attribute. Fix: so treated.",
        "- PAR050 on llava_onevision `pad_size`: declared by the PIL `_preprocess` but never used. Fix: a "
        "parameter counts as read only if the body uses it.",
        "- PAR010 duplicating PAR035 (minicpmv4_6): `**kwargs: Unpack[...]` class names are compared by PAR035 only.",
        "- One-sided public backend helpers (PAR042) are warnings, not PAR040 errors: none of the 9 in this tree is "
        "called by the other backend's code (the case that fails at run time, which PAR040 reports as an error).",
        "",
        "## Findings",
        "",
        "| class | location | code | severity | message | reasoning |",
        "|---|---|---|---|---|---|",
    ]
    order = {TRUE: 0, ACCEPTABLE: 1, FALSE_POSITIVE: 2}
    for cls, loc, code, sev, message, why in sorted(rows, key=lambda r: (order[r[0]], r[1])):
        esc = message.replace("|", "\\|")
        lines.append(f"| {cls} | `{loc}` | {code} | {sev} | {esc} | {why} |")
    text = "\n".join(lines) + "\n"
    if "--check" not in sys.argv:
        out = os.path.join(os.path.dirname(__file__), "..", "docs", "transformers-5.23-findings.md")
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(text)
    print(f"{len(rows)} findings: {dict(counts)}; error-level {errors}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
