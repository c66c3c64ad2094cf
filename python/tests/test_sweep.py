"""scaler.sweep equals `scaler-sim sweep`: results.csv and recommendation.json."""

from __future__ import annotations

import json

import pytest

import scaler
from conftest import ROOT


def small_sweep(tmp_path):
    trace = ROOT / "traces" / "bursty_onoff_2h_tasks.csv"
    text = (ROOT / "sims" / "bursty.toml").read_text()
    text = text.replace('path = "../traces/bursty_onoff_2h_tasks.csv"', f"path = {json.dumps(str(trace))}")
    text = text.split("[sweep]")[0]
    text += (
        "\n[sweep]\n"
        'objective = "minimize cost subject to wait_p95_s <= 600"\n'
        "scaler.cooldown_period = [60, 300]\n"
        "scaler.scale_up_threshold = [0.7, 0.9]\n"
    )
    path = tmp_path / "small.toml"
    path.write_text(text)
    return path


def test_sweep_equals_the_command_line(tmp_path, cli):
    sc = small_sweep(tmp_path)
    cli("sweep", str(sc), "--out", str(tmp_path / "cli"))
    r = scaler.sweep(sc, tmp_path / "py")
    assert r.results.to_csv() == (tmp_path / "cli" / "results.csv").read_text()
    expected = json.loads((tmp_path / "cli" / "recommendation.json").read_text())
    assert r.recommendation == expected
    assert len(r.results) == 4
    assert r.results[0]["setting"] == 0
    assert (tmp_path / "py" / "report.html").exists()
    assert any(f.endswith("recommendation.json") for f in r.files)
    assert isinstance(r.feasible, bool)


def test_a_sweep_of_a_scenario_without_a_sweep_table_is_refused(tmp_path):
    with pytest.raises(ValueError):
        scaler.sweep(ROOT / "sims" / "replay_example.toml", tmp_path / "x")


def test_a_sweep_of_a_dict_equals_the_sweep_of_its_file(tmp_path):
    trace = ROOT / "traces" / "bursty_onoff_2h_tasks.csv"
    sc = {
        "trace": {"path": str(trace)},
        "cluster": {"provision_delay_s": 60},
        "scaler": {"min_workers": 1, "max_workers": 20, "evaluation_interval": 30},
        "sweep": {
            "objective": "minimize cost subject to wait_p95_s <= 600",
            "scaler.cooldown_period": [60, 300],
            "scaler.scale_up_threshold": [0.7, 0.9],
        },
    }
    r = scaler.sweep(sc, tmp_path / "d")
    assert (tmp_path / "d" / "scenario.toml").exists()
    f = scaler.sweep(tmp_path / "d" / "scenario.toml", tmp_path / "f")
    assert r.results.to_csv() == f.results.to_csv()
    assert len(r.results) == 4
    assert r.recommendation["recommended"] == f.recommendation["recommended"]
