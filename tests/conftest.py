"""Shared fixtures: a started portal simulator and the real CLI on a config pointing at it."""
from __future__ import annotations

import pytest

from helpers import Cli, write_config
from simulator import PortalSimulator


@pytest.fixture
def portal():
    with PortalSimulator(seed=7, docs=120) as sim:
        yield sim


@pytest.fixture
def cli(tmp_path, portal):
    return Cli(write_config(tmp_path, portal))
