from __future__ import annotations

import pytest

from .chat_server import ChatServer


@pytest.fixture
def chat_server():
    server = ChatServer()
    yield server
    server.close()
