"""The config's limits: one table read by config.validate(), the setup form's validators and the CLI help."""

import math
from dataclasses import fields, replace

import pytest

from rnntui.core import config as c
from rnntui.core.config import LIMITS, MAX_SEED, ConfigError, ModelConfig, TrainConfig
from rnntui.ui.screens.forms import WithinLimits

FLOATS = [f.name for cls in (ModelConfig, TrainConfig) for f in fields(cls) if "float" in str(f.type)]


def with_value(name: str, value) -> TrainConfig:
    """The default config with one setting (of the model or of the run) changed."""
    base = TrainConfig()
    if name in {f.name for f in fields(ModelConfig)}:
        return replace(base, model=replace(base.model, **{name: value}))
    return replace(base, **{name: value})


def accepted(name: str, value) -> bool:
    try:
        with_value(name, value).validate()
    except ConfigError:
        return False
    return True


def test_defaults_are_valid_and_every_limit_names_a_field():
    TrainConfig().validate()
    TrainConfig(model=c.suggested_model("cuda")).validate()
    names = {f.name for cls in (ModelConfig, TrainConfig) for f in fields(cls)}
    assert set(LIMITS) <= names
    for name in LIMITS:  # the defaults lie inside their own limits
        default = c.default(name)
        assert default is None or LIMITS[name].allows(default), name


@pytest.mark.parametrize("name", FLOATS)
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_refused_with_one_message(name, value):
    with pytest.raises(ConfigError) as err:
        with_value(name, value).validate()
    assert str(err.value) == f"{c.flag(name)} must be a finite number, not {value}"


def test_float_fields_are_found():  # guards the parametrisation above: it must not be empty
    assert {"dropout", "lr", "clip", "minutes", "epochs", "probe_hz"} <= set(FLOATS)


def test_seed_must_fit_in_64_bits():
    assert accepted("seed", 0) and accepted("seed", MAX_SEED)
    for bad in (-1, MAX_SEED + 1, 99999999999999999999999, 10**400):
        with pytest.raises(ConfigError, match="seed must be a whole number 0-9223372036854775807"):
            with_value("seed", bad).validate()


@pytest.mark.parametrize(
    "name,good,bad",
    [
        ("dropout", [0.0, 0.5, 0.97], [-0.1, 1.0]),  # the form stopped at 0.95, validate at < 1
        ("lr", [1e-9, 1.0, 5.0], [0.0, -1e-3, 10.0]),  # the form stopped at 1, validate at < 10
        ("seq_len", [1, 2, 100_000], [0, 100_001]),  # the form started at 2, validate at 1
        ("hidden", [1, 8192], [0, 8193]),
        ("layers", [1, 16], [0, 17]),
        ("clip", [0.0, 1e6], [-0.5]),
        ("val_frac", [0.01, 0.5], [0.0, 0.9]),
        ("minutes", [0.001, 60.0], [0.0, -1.0]),
        ("steps", [1, 10**12], [0, -3]),
    ],
)
def test_bounds(name, good, bad):
    assert all(accepted(name, v) for v in good), name
    assert not any(accepted(name, v) for v in bad), name


def test_integer_settings_refuse_fractions_and_bools():
    assert not accepted("hidden", 8.5) and not accepted("hidden", 8.0) and not accepted("layers", True)


def test_choices_and_one_budget():
    assert not accepted("kind", "transformer") and not accepted("device", "tpu")
    assert not accepted("schedule", "linear")
    with pytest.raises(ConfigError, match="only one of"):
        TrainConfig(steps=10, minutes=1.0).validate()


# -----------------------------------------------------------------------------
# the setup form and the help text derive from the same table


PROBES = [
    "0",
    "1",
    "2",
    "-1",
    "0.5",
    "0.95",
    "0.97",
    "1.0",
    "5",
    "9.99",
    "10",
    "16",
    "17",
    "8192",
    "8193",
    "100000",
    "100001",
    "1e-9",
    "nan",
    "inf",
    "-inf",
    "x",
    "",
]


@pytest.mark.parametrize("name", [n for n, lim in LIMITS.items() if not lim.choices])
def test_form_validator_agrees_with_validate(name):
    limit = LIMITS[name]
    validator = WithinLimits(name, name, optional=c.default(name) is None)
    for text in PROBES:
        try:
            value = int(text) if limit.integer else float(text)
        except ValueError:
            value = None
        if value is None:  # empty or not a number: only an optional field takes empty text
            assert validator.validate(text).is_valid == (text == "" and validator.optional), (name, text)
            continue
        assert validator.validate(text).is_valid == accepted(name, value), (name, text)


def test_form_messages_name_the_field_and_the_range():
    assert WithinLimits("hidden", "hidden").failure_description == "hidden: a whole number 1-8192"
    assert WithinLimits("dropout", "dropout").failure_description == "dropout: a number in [0, 1)"
    assert WithinLimits("minutes", "minutes", optional=True).failure_description == "minutes: a number > 0, or empty"


def test_describe_builds_help_from_the_defaults():
    assert c.describe("hidden") == "units per layer (default 256)"
    assert c.describe("lr") == "peak learning rate (default 0.005)"
    assert c.describe("steps") == "total optimiser steps of the run"  # no default: none shown
    assert c.describe("kind") == "recurrent cell (default gru)"


def test_cli_train_refuses_nan_inf_and_huge_seeds_in_one_line(tmp_path, capsys):
    from rnntui.cli import main

    tiny = tmp_path / "t.txt"
    tiny.write_text("some text to train on, long enough for a window or two. " * 20)
    for flag, value, says in (
        ("--clip", "nan", "clip must be a finite number"),
        ("--minutes", "inf", "minutes must be a finite number"),
        ("--seed", "99999999999999999999999", "seed must be a whole number"),
    ):
        code = main(["train", str(tiny), flag, value, "--out-dir", str(tmp_path), "--device", "cpu"])
        err = capsys.readouterr().err
        assert code == 2 and says in err and len(err.strip().splitlines()) == 1, (flag, err)


def test_setup_form_fields_are_built_from_the_limits():
    from rnntui.ui.screens.setup_form import FIELDS

    for key, (_label, validators, kind) in FIELDS.items():
        assert [type(v) for v in validators] == [WithinLimits], key
        assert kind == ("integer" if validators[0].limit.integer else "number"), key
    accepts = lambda key, text: FIELDS[key][1][0].validate(text).is_valid
    assert accepts("dropout", "0.97") and accepts("lr", "5") and accepts("seq_len", "1")  # as validate()
    assert not accepts("dropout", "1") and not accepts("lr", "10") and not accepts("seq_len", "0")
    assert accepts("steps", "") and not accepts("hidden", "")
