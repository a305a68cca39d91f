"""The desk day (desk_day.py) through the blocking `Gym` and through `AsyncGym`."""

import asyncio

import pytest

import powergym
from conftest import execute

from desk_day import desk_day


def test_desk_day_blocking(gym_url):
    with powergym.Gym.connect(gym_url, max_connections=5) as gym:
        gym.migrate()
        asyncio.run(desk_day(gym, gym_url, execute))


@pytest.mark.asyncio
async def test_desk_day_async(gym_url):
    async with await powergym.AsyncGym.connect(gym_url, max_connections=5) as gym:
        await gym.migrate()
        await desk_day(gym, gym_url, execute)
