"""The OpenAI-compatible backend against a real server on 127.0.0.1: llama-cpp-python's own
OpenAI-compatible server with the packaged model, reached through langchain-openai / the openai client."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.settings import Settings
from tests.conftest import free_port
from tests.servers import llama_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def llm_server(gguf_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    yield from llama_server(gguf_path)


def test_openai_client_talks_to_the_server(llm_server: tuple[str, subprocess.Popen]) -> None:  # type: ignore[type-arg]
    import openai

    client = openai.OpenAI(base_url=llm_server[0], api_key="not-needed")
    reply = client.chat.completions.create(model="qwen-local", temperature=0, max_tokens=8,
                                           messages=[{"role": "user", "content": "Say OK."}])
    assert reply.choices[0].message.content


def test_assistant_answers_through_the_openai_backend(
        seeded_home: Path, llm_server: tuple[str, subprocess.Popen],  # type: ignore[type-arg]
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDESK_HOME", str(seeded_home))
    monkeypatch.setenv("NEWSDESK_LLM__BACKEND", "openai")
    monkeypatch.setenv("OPENAI_BASE_URL", llm_server[0])  # the usual OPENAI_* variables work too
    monkeypatch.setenv("NEWSDESK_LLM__MODEL", "qwen-local")
    assistant = Assistant.from_settings(Settings())
    answer = assistant.ask("Who met Biden on Monday?")
    assert answer.backend == "openai" and not answer.refused and answer.notice is None
    assert any("Stoltenberg and Biden met on Monday" in c.quote for c in answer.citations if c.supported)


def test_unreachable_server_falls_back_to_extractive_with_a_notice(seeded_home: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    assistant = Assistant.from_settings(Settings(home=seeded_home, llm={"backend": "openai", "base_url": dead,
                                                                       "timeout_s": 5}))
    answer = assistant.ask("Who met Biden on Monday?")
    assert answer.backend == "extractive" and answer.notice and dead in answer.notice
    assert any("Stoltenberg and Biden met on Monday" in c.quote for c in answer.citations)
