"""`scaffold spec-from`: start a spec from a checkpoint folder (or an installed model type's defaults).

read.py (the folder's JSON files, tokens and weight names, with positions) -> mapping.py (transformers' config
classes -> spec data, comments, key renames; what scaffold cannot express is an error naming the key) -> write.py (a
commented YAML spec, checked by the spec loader before it is written). original.py restates a checkpoint of the
original LLaVA repository (`mm_*` config keys, a tower folder from --vision-tower) as a LLaVA source for the same
mapping.
"""
