"""scaler.replay equals `scaler-sim replay` on the shipped example, byte for byte."""

from __future__ import annotations

import csv
import io

import pytest

import scaler
from conftest import ROOT

CONFIG = ROOT / "sims" / "replay_example.toml"
OBS = ROOT / "traces" / "example_observations.csv"


def typed(row):
    out = dict(row)
    out["timestamp_s"] = float(row["timestamp_s"])
    for k in ("target_workers", "current_workers", "pending_tasks"):
        out[k] = int(row[k])
    out["window_utilization"] = float(row["window_utilization"]) if row["window_utilization"] else None
    return out


def test_replay_equals_the_command_lines_decisions_file(tmp_path, cli):
    out = tmp_path / "decisions.csv"
    cli("replay", "--config", str(CONFIG), "--observations", str(OBS), "--out", str(out))
    expected = out.read_text()
    t = scaler.replay(CONFIG, OBS)
    assert t.to_csv() == expected
    rows = list(csv.DictReader(io.StringIO(expected)))
    assert len(t) == len(rows) > 100
    assert t.to_list() == [typed(r) for r in rows]
    assert list(t) == t.to_list()
    assert t[-1] == typed(rows[-1]) and t[1:3] == [typed(r) for r in rows[1:3]]
    assert t.header == list(rows[0].keys())
    assert {r["action"] for r in t} >= {"scale_up", "hold"}


def test_in_memory_observations_and_settings_give_the_same_decisions():
    from_file = scaler.replay(CONFIG, OBS)
    rows = scaler.read_csv(OBS).to_list()
    settings = {k: v for k, v in scaler.Config.from_file(CONFIG).to_dict().items()}
    # A dict of settings with Python values, the observations as a list of dicts.
    cfg = dict(
        min_workers=2,
        max_workers=10,
        scale_up_threshold=0.8,
        scale_down_threshold=0.3,
        cooldown_period=180,
        metrics_window=300,
        evaluation_interval=60,
    )
    assert scaler.Config(**cfg).to_dict() == settings
    assert scaler.replay(cfg, rows).to_csv() == from_file.to_csv()
    # and as columns
    cols = scaler.read_csv(OBS).columns()
    assert scaler.replay(scaler.Config(**cfg), cols).to_csv() == from_file.to_csv()


def test_an_invalid_row_names_its_line_and_column(tmp_path, cli):
    bad = tmp_path / "obs.csv"
    lines = OBS.read_text().splitlines()
    lines[5] = lines[5].replace(lines[5].split(",")[-1], "1.5")  # utilization above 1
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError) as e:
        scaler.replay(CONFIG, bad)
    p = cli("replay", "--config", str(CONFIG), "--observations", str(bad), check=False)
    assert p.returncode == 2 and str(e.value) in p.stderr
    assert ":6:" in str(e.value)
    with pytest.warns(UserWarning, match="skipped 1 invalid row"):
        t = scaler.replay(CONFIG, bad, skip_invalid=True)
    assert len(t) == len(lines) - 2
    # in memory, the error names <observations> rather than a temporary file
    rows = scaler.read_csv(OBS).to_list()
    rows[3]["worker_utilization"] = -0.5
    with pytest.raises(ValueError, match=r"^<observations>:5:"):
        scaler.replay(CONFIG, rows)


def test_a_missing_file_is_a_value_error_with_its_path(tmp_path):
    with pytest.raises(ValueError, match="nope.csv"):
        scaler.replay(CONFIG, tmp_path / "nope.csv")


def test_pandas_when_installed_and_asked_for():
    pd = pytest.importorskip("pandas")
    df = scaler.replay(CONFIG, OBS, pandas=True)
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == scaler.replay(CONFIG, OBS).header
    obs = scaler.read_csv(OBS, pandas=True)
    assert scaler.replay(CONFIG, obs).to_csv() == scaler.replay(CONFIG, OBS).to_csv()
