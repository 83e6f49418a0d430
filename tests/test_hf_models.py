"""The facts scaffold keeps about transformers models (scaffold/components/hf_models.py) against the installed
transformers, and the checks of config keys built on them."""

from __future__ import annotations

import pytest

from scaffold.components.hf_models import (
    KNOWN,
    UnknownModelType,
    config_key_problems,
    config_value,
    facts_from_transformers,
    model_facts,
    value_problem,
)


@pytest.mark.parametrize("model_type", sorted(KNOWN))
def test_known_facts_equal_the_installed_transformers(model_type):
    assert KNOWN[model_type] == facts_from_transformers(model_type)


def test_other_model_types_are_read_from_transformers():
    facts = model_facts("gemma")
    assert (facts.config_class, facts.model_class, facts.causal_lm_class) == (
        "GemmaConfig",
        "GemmaModel",
        "GemmaForCausalLM",
    )
    with pytest.raises(UnknownModelType, match="'no_such_model' is not a model type"):
        model_facts("no_such_model")


@pytest.mark.parametrize(
    "annotation, value, ok",
    [
        ("int", 3, True),
        ("int", True, False),
        ("int", 3.0, False),
        ("float", 3, True),
        ("float", "3", False),
        ("int | None", None, True),
        ("int | list[int] | tuple[int, int] | None", [448, 448], True),
        ("int | list[int] | tuple[int, int] | None", [448, "x"], False),
        ("list[str] | None", ["full_attention", "sliding_attention"], True),
        ("list[str] | None", [1], False),
        ("bool", 0, False),
        ("transformers.modeling_rope_utils.RopeParameters | dict | None", {"rope_type": "default"}, True),
        ("Literal['a', 'b']", "b", True),
        ("Literal['a', 'b']", "c", False),
    ],
)
def test_values_are_checked_against_the_annotation(annotation, value, ok):
    assert (value_problem(annotation, value) is None) is ok


def test_an_int_for_a_float_only_field_becomes_a_float():
    # transformers' strict configs refuse an int for a float field; YAML writes 1 for 1.0
    assert isinstance(config_value("float", 1), float)
    assert isinstance(config_value("int | float | None", 1), int)
    assert config_value("bool", True) is True


def test_config_key_problems_name_the_key():
    facts = KNOWN["gemma2"]
    problems = dict(
        config_key_problems(
            "text",
            facts,
            {"hidden_size": 32, "hidden_act": "gelu"},
            {"head_dim": 8, "hidden_activaton": "gelu", "final_logit_softcapping": "x", "hidden_size": 3},
        )
    )
    assert problems == {
        ("text", "hidden_act"): "Gemma2Config has no hidden_act (did you mean hidden_activation?)",
        (
            "text",
            "config",
            "hidden_activaton",
        ): "Gemma2Config has no hidden_activaton (did you mean hidden_activation?)",
        ("text", "config", "final_logit_softcapping"): "expected float | None, got 'x'",
        ("text", "config", "hidden_size"): "set it as text.hidden_size",
    }
