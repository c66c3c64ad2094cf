"""scaler.simulate equals `scaler-sim run`: summary.json, timeline.csv, observations.csv."""

from __future__ import annotations

import json

import pytest

import scaler
from conftest import ROOT

QUICK = ROOT / "sims" / "quickstart.toml"
BURSTY = ROOT / "sims" / "bursty.toml"


def test_simulate_equals_the_command_lines_files(tmp_path, cli):
    out = tmp_path / "run"
    cli("run", str(QUICK), "--out", str(out))
    r = scaler.simulate(QUICK)
    assert r.summary == json.loads((out / "summary.json").read_text())
    assert r.timeline.to_csv() == (out / "timeline.csv").read_text()
    assert r.observations.to_csv() == (out / "observations.csv").read_text()
    summary, timeline = r  # unpacks as the two the issue names
    assert summary["tasks"] == 43933 and len(timeline) > 1000
    row = timeline[100]
    assert set(row) >= {"time_s", "current_workers", "action", "reason", "cost"}


def test_overrides_are_the_command_lines_set(tmp_path, cli):
    out = tmp_path / "run"
    cli(
        "run",
        str(QUICK),
        "--set",
        "scaler.cooldown_period=300",
        "--set",
        "scaler.max_workers=30",
        "--set",
        "cluster.provision_delay_s=90",
        "--seed",
        "3",
        "--out",
        str(out),
    )
    expected = json.loads((out / "summary.json").read_text())
    a = scaler.simulate(QUICK, cooldown_period=300, max_workers=30, provision_delay_s=90, seed=3)
    b = scaler.simulate(QUICK, set={"scaler.cooldown_period": 300, "scaler.max_workers": 30, "cluster.provision_delay_s": 90}, seed=3)
    c = scaler.simulate(QUICK, set=["scaler.cooldown_period=300", "scaler.max_workers=30", "cluster.provision_delay_s=90"], seed=3)
    assert a.summary == b.summary == c.summary == expected
    assert a.timeline.to_csv() == (out / "timeline.csv").read_text()


def test_an_invalid_override_is_the_command_lines_error(cli):
    with pytest.raises(ValueError) as e:
        scaler.simulate(QUICK, scale_up_threshold=2)
    p = cli("run", str(QUICK), "--set", "scaler.scale_up_threshold=2", "--out", "target/py-never", check=False)
    assert p.returncode == 2
    assert str(e.value) in p.stderr
    assert "scaler.scale_up_threshold" in str(e.value)


def test_a_scenario_as_a_dict_equals_the_file(monkeypatch):
    monkeypatch.chdir(ROOT)
    scenario = {
        "trace": {"path": "traces/bursty_onoff_2h_tasks.csv", "seed": 3},
        "cluster": {
            "initial_workers": 10,
            "provision_delay_s": 45,
            "price_per_worker_hour": 0.10,
            "billing_minimum_s": 60,
            "slo_wait_s": 30,
        },
        "scaler": {
            "min_workers": 5,
            "max_workers": 200,
            "scale_up_threshold": 0.8,
            "scale_down_threshold": 0.2,
            "cooldown_period": 120,
            "metrics_window": 180,
            "evaluation_interval": 30,
        },
    }
    from_file = scaler.simulate(BURSTY)
    from_dict = scaler.simulate(scenario)
    a = {k: v for k, v in from_file.summary.items() if k != "scenario"}
    b = {k: v for k, v in from_dict.summary.items() if k != "scenario"}
    assert a == b
    assert from_dict.timeline.to_csv() == from_file.timeline.to_csv()
    with pytest.raises(ValueError, match="cluster.initial_workrs"):
        scaler.simulate({**scenario, "cluster": {"initial_workrs": 3}})


def test_the_simulators_observations_replay_to_its_decisions():
    """The same observation, arithmetic and decision in the simulator and in replay."""
    r = scaler.simulate(BURSTY)
    cfg = scaler.Config.from_file(BURSTY)
    decisions = scaler.replay(cfg, r.observations)
    ticks = [t for t in r.timeline if t["action"] is not None]
    by_time = {d["timestamp_s"]: d for d in decisions}
    checked = 0
    for t in ticks:
        d = by_time.get(t["time_s"])
        if d is None:
            continue
        assert (d["action"], d["target_workers"], d["reason"]) == (t["action"], t["target_workers"], t["reason"])
        checked += 1
    assert checked == len(decisions) > 200


def test_pandas_timeline():
    pd = pytest.importorskip("pandas")
    r = scaler.simulate(BURSTY, pandas=True)
    assert isinstance(r.timeline, pd.DataFrame) and "cost" in r.timeline.columns
