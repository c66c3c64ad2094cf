"""Shared helpers: the repository's root, the command line, fake components."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]


def scaler_sim() -> Optional[str]:
    """The `scaler-sim` binary: $SCALER_SIM_BIN (scripts/test sets it), else a built one."""
    env = os.environ.get("SCALER_SIM_BIN")
    if env:
        return env
    for p in (ROOT / "target" / "debug" / "scaler-sim", ROOT / "target" / "release" / "scaler-sim"):
        if p.exists():
            return str(p)
    return shutil.which("scaler-sim")


@pytest.fixture
def cli():
    """Runs `scaler-sim ARGS...` in the repository root; returns the CompletedProcess."""
    exe = scaler_sim()
    if exe is None:
        if os.environ.get("SCALER_REQUIRE_CLI"):
            pytest.fail("scaler-sim is required (SCALER_REQUIRE_CLI is set) but was not found")
        pytest.skip("no scaler-sim binary (build it with `cargo build -p scaler-sim`)")

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        p = subprocess.run([exe, *args], cwd=ROOT, capture_output=True, text=True)
        if check and p.returncode != 0:
            raise AssertionError(f"scaler-sim {' '.join(args)} failed ({p.returncode}): {p.stderr}")
        return p

    return run


class Pool:
    """A fake pool: one object is registry, distributor and cloud manager (async methods)."""

    def __init__(self, ready: int = 4, busy: int = 4, pending: int = 10, running: int = 4) -> None:
        self.ready = ready
        self.busy = busy
        self.pending = pending
        self.running = running
        self.calls: List[int] = []

    async def workers(self) -> Dict[str, Any]:
        return {"ready": self.ready, "provisioning": 0, "busy_slots": min(self.busy, self.ready), "slots_per_worker": 1}

    async def tasks(self) -> Dict[str, Any]:
        return {"pending": self.pending, "running": self.running, "avg_task_duration_s": 30.0}

    async def set_workers(self, target: int) -> None:
        self.calls.append(target)
        self.ready = target


async def wait_for(pred, timeout: float = 5.0, step: float = 0.005) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not pred():
        if loop.time() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(step)
