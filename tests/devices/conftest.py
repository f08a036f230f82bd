"""Fixtures for tests that run virtual straps on an in-process Bumble link."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from myoflow.devices.virtual import VirtualLink

LinkBody = Callable[[VirtualLink], Awaitable[None]]

# test helpers beside this file (fuzz_streams), importable by name under --import-mode=importlib
sys.path.insert(0, str(Path(__file__).parent))


def run_on_link(body: LinkBody) -> None:
    """Run ``body(link)`` in a fresh event loop; fail if any task or thread outlives the link."""
    threads = {t.ident for t in threading.enumerate()}

    async def main() -> None:
        async with VirtualLink() as link:
            await body(link)
        leftover = asyncio.all_tasks() - {asyncio.current_task()}
        assert not leftover, f"pending tasks after close: {leftover}"

    asyncio.run(main())
    assert {t.ident for t in threading.enumerate()} <= threads


@pytest.fixture
def on_link() -> Callable[[LinkBody], None]:
    """:func:`run_on_link`, for tests: ``on_link(body)``."""
    return run_on_link
