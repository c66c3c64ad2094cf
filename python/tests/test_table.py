"""scaler.Table: rows of a CSV the project writes."""

from __future__ import annotations

import collections.abc

import pytest

import scaler
from conftest import ROOT


def test_header_only_is_an_empty_table(tmp_path):
    p = tmp_path / "obs.csv"
    p.write_text("timestamp_s,current_workers,pending_tasks,running_tasks,avg_task_duration_s,worker_utilization\n")
    t = scaler.replay(ROOT / "sims" / "replay_example.toml", p)
    assert len(t) == 0 and list(t) == [] and t.to_list() == []
    assert t.header[0] == "timestamp_s" and t.columns()["action"] == []
    with pytest.raises(IndexError):
        t[0]


def test_quoted_cells_missing_line_end_and_indexing(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text('setting,scaler.scale_up_step,cost\n0,"{ percent = 50, min = 1 }",1.5\n1,"say ""hi""",\n2,x,3')
    t = scaler.read_csv(p)
    assert isinstance(t, collections.abc.Sequence)
    assert len(t) == 3
    assert t[0] == {"setting": 0, "scaler.scale_up_step": "{ percent = 50, min = 1 }", "cost": 1.5}
    assert t[1]["scaler.scale_up_step"] == 'say "hi"' and t[1]["cost"] is None
    assert t[-1] == {"setting": 2, "scaler.scale_up_step": "x", "cost": 3.0}
    assert t[::2] == [t[0], t[2]]
    with pytest.raises(IndexError):
        t[-4]
    with pytest.raises(TypeError):
        t["cost"]
    assert "3 rows" in repr(t)
