"""The cost markers tests/conftest.py derives: the table as a table test (the hook that applies it runs on every
collection, so `pytest --collect-only -m server` shows what it picked)."""

from __future__ import annotations

import pytest

from tests.conftest import derive_costs


@pytest.mark.parametrize(("fixtures", "params", "names", "strings", "costs"), [
    (["chroma_server"], {}, [], [], {"server"}),
    (["postgres_url", "postgres_server"], {}, [], [], {"server"}),
    (["gguf_path", "model_run_dir"], {}, [], [], {"model"}),
    (["model_run_dir", "isolated_env", "news_site", "seeded"], {}, [], [], set()),  # every test has model_run_dir
    (["index_settings"], {"index_settings": "embedded"}, [], [], set()),
    (["index_settings"], {"index_settings": "server"}, [], [], {"server"}),
    (["index_settings"], {"index_settings": "postgres"}, [], [], {"server"}),
    (["deployment"], {"deployment": "sqlite"}, [], [], set()),
    (["deployment"], {"deployment": "postgres"}, [], [], {"server"}),
    (["catalogue_db_url"], {"catalogue_db_url": "sqlite"}, [], [], set()),
    (["catalogue_db_url"], {"catalogue_db_url": "postgres"}, [], [], {"server"}),
    ([], {"k": [1, 2]}, [], [], set()),  # unhashable parameters are fine
    ([], {}, ["streamlit_app"], [], {"server"}),
    ([], {}, ["launch_browser", "sync_playwright"], [], {"browser"}),
    ([], {}, ["llama_server"], [], {"server", "model"}),
    ([], {}, ["ChromaServer"], [], {"server"}),
    ([], {}, [], ["-m", "ui.cli", "serve", "--port"], {"server"}),
    ([], {}, [], ["-m", "ui.cli", "ui", "--port"], {"server"}),
    ([], {}, [], ["-m", "ui.cli", "chat", "--backend"], set()),
    ([], {}, [], ["serve"], set()),
])
def test_derive_costs(fixtures: list[str], params: dict[str, object], names: list[str], strings: list[str],
                      costs: set[str]) -> None:
    assert derive_costs(fixtures, params, names, strings) == costs
