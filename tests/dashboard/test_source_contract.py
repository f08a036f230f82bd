"""Both dashboard sources fulfil the declared contract the window, app and wizard use."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from myoflow.dashboard.live_source import LiveSource
from myoflow.dashboard.replay_source import ReplaySource
from myoflow.dashboard.source import DashboardSource, ReplayControls
from myoflow.dashboard.virtual_source import virtual_source

RECORDING = Path(__file__).resolve().parents[2] / "recordings" / "glute_bridge_virtual.h5"


def _members(protocol: type) -> set[str]:
    return {
        name
        for klass in protocol.__mro__
        if klass.__module__ == "myoflow.dashboard.source"
        for name in [*vars(klass), *getattr(klass, "__annotations__", {})]
        if not name.startswith("_")
    }


def test_a_live_source_is_a_dashboard_source_and_not_a_replay() -> None:
    source = virtual_source(20.0, fast=True, seed=1)  # built, never started
    assert isinstance(source, LiveSource) and source.kind == "live"
    assert isinstance(source, DashboardSource)
    assert not isinstance(source, ReplayControls)


def test_a_replay_source_has_the_replay_controls_too() -> None:
    source = ReplaySource(RECORDING, playing=False)
    try:
        assert source.kind == "replay"
        assert isinstance(source, DashboardSource) and isinstance(source, ReplayControls)
    finally:
        source.stop()


@pytest.mark.parametrize("klass", [LiveSource, ReplaySource])
def test_the_contract_methods_take_the_declared_arguments(klass: type) -> None:
    """Each declared method exists on the class with at least the declared parameters."""
    declared = DashboardSource if klass is LiveSource else ReplayControls
    members = _members(declared)
    assert len(members) >= 25, sorted(members)
    for name in members:
        spec = getattr(declared, name, None)
        if not inspect.isfunction(spec):
            continue
        mine = getattr(klass, name)
        wanted = [p for p in inspect.signature(spec).parameters if p != "self"]
        params = inspect.signature(mine).parameters
        has_var = any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params.values())
        assert has_var or all(p in params for p in wanted), (
            f"{klass.__name__}.{name}{inspect.signature(mine)}"
        )
