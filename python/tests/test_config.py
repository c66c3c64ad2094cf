"""Invalid settings raise ValueError with the command line's message: key, value and rule."""

from __future__ import annotations

import pytest

import scaler

BAD = [
    ({"max_workers": 0}, "scaler.max_workers=0"),
    ({"min_workers": 5, "max_workers": 3}, None),
    ({"scale_up_threshold": 1.5}, "scaler.scale_up_threshold=1.5"),
    ({"scale_down_threshold": 0.9}, "scaler.scale_down_threshold=0.9"),
    ({"cooldown_period": -1}, "scaler.cooldown_period=-1"),
    ({"metrics_window": 0}, "scaler.metrics_window=0"),
    ({"utilization_aggregate": "median"}, 'scaler.utilization_aggregate="median"'),
    ({"scale_up_step": {"percent": 50, "min": 0}}, "scaler.scale_up_step={ percent = 50, min = 0 }"),
    ({"cooldown_perod": 30}, "scaler.cooldown_perod=30"),
    ({"policy": "magic"}, 'scaler.policy="magic"'),
]


@pytest.mark.parametrize("settings,cli_set", BAD)
def test_invalid_settings_raise_value_error_naming_key_value_and_rule(settings, cli_set, cli):
    with pytest.raises(ValueError) as e:
        scaler.Config(**settings)
    message = str(e.value)
    key = next(iter(settings))
    assert f"scaler.{key}" in message or "scaler.min_workers" in message
    if cli_set is None:
        return
    p = cli("run", "sims/quickstart.toml", "--set", cli_set, "--out", "target/py-never", check=False)
    assert p.returncode == 2
    assert message in p.stderr, f"python: {message!r}\ncli: {p.stderr!r}"


def test_a_config_file_with_an_error_names_the_file_line_and_column(tmp_path, cli):
    bad = tmp_path / "bad.toml"
    bad.write_text("[scaler]\nmin_workers = 2\nmax_workers = 1\n")
    with pytest.raises(ValueError) as e:
        scaler.Config.from_file(bad)
    p = cli("replay", "--config", str(bad), "--observations", "traces/example_observations.csv", check=False)
    assert p.returncode == 2
    assert str(e.value) in p.stderr
    assert str(bad) in str(e.value) and ":2:15: scaler.min_workers = 2: must be <= max_workers (1)" in str(e.value)
    with pytest.raises(ValueError) as e2:
        scaler.replay(bad, "traces/example_observations.csv")
    assert str(e2.value) == str(e.value)


def test_config_round_trips_and_keeps_decimals_exact():
    c = scaler.Config(min_workers=2, max_workers=8, scale_up_threshold=0.7, cooldown_period=1.0005)
    d = c.to_dict()
    assert d["scale_up_threshold"] == "0.7"
    assert d["cooldown_period"] == "1.001"  # ms, ties away from zero, as in a file
    assert scaler.Config(**{k: v for k, v in (("min_workers", 2), ("max_workers", 8))}).max_workers == 8
    assert c == scaler.Config(min_workers=2, max_workers=8, scale_up_threshold=0.7, cooldown_period=1.001)
    assert "scale_up_threshold=0.7" in repr(c)
    assert c.to_toml().startswith("[scaler]\n")


def test_other_policies_take_their_own_keys():
    c = scaler.Config(policy="hpa", min_workers=1, max_workers=20)
    assert c.policy == "hpa"
    with pytest.raises(ValueError, match="scaler"):
        scaler.Config(policy="hpa", hpa={"no_such_key": 1})


def test_a_value_python_cannot_express_in_a_config_is_refused():
    with pytest.raises(ValueError, match="not a configuration value"):
        scaler.Config(max_workers=object())
