"""The library's events reach Python's `logging` under `powergym`, and a whole desk day
logs no name, document number or e-mail."""

import asyncio
import logging

import powergym
from conftest import execute

from desk_day import DOCUMENTS, NAMES, desk_day


def test_a_desk_day_logs_events_and_no_personal_data(gym_url, caplog):
    caplog.set_level(logging.DEBUG, logger="powergym")
    with powergym.Gym.connect(gym_url, max_connections=5) as gym:
        gym.migrate()
        asyncio.run(desk_day(gym, gym_url, execute))
    ours = [r for r in caplog.records if r.name == "powergym"]
    messages = [r.getMessage() for r in ours]
    assert any(m.startswith("client registered") for m in messages), messages
    assert any(m.startswith("payment recorded") for m in messages), messages
    assert any(m.startswith("face enrolled") for m in messages), messages
    assert all(hasattr(r, "powergym_target") for r in ours)
    text = "\n".join(messages).lower()
    for secret in NAMES + DOCUMENTS + ["vale@example.invalid"]:
        assert secret.lower() not in text, f"{secret!r} reached the log"

