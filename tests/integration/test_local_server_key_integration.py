"""Issue 28, item 7 on the real llama_cpp.server and the real 1.1 GB model: the key it reads from API_KEY in
its environment is required on every endpoint, and our client sends it. (The same with a fake server, and
the port race: tests/component/test_local_server_key.py.)"""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from assistant.config import Settings
from assistant.errors import LLMError
from assistant.models.llm import OpenAIChat
from assistant.models.local_server import LocalServer, ensure_model

from .test_local_llm_integration import needs_local


def _status(url: str, key: str | None) -> int:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.integration
@needs_local
def test_real_server_requires_the_key_it_was_given(tmp_path):
    with LocalServer(ensure_model(Settings().model_cache), tmp_path, n_ctx=512, n_threads=2,
                     startup_timeout_s=300) as server:
        models = f"{server.base_url}/models"
        assert _status(models, None) == 401 and _status(models, "not-needed") == 401
        assert _status(models, server.api_key) == 200
        msgs = [{"role": "user", "content": "Say OK."}]
        assert OpenAIChat(server.base_url, server.api_key, server.model_name, max_tokens=3, timeout_s=300,
                          max_retries=0).complete(msgs).text.strip()
        stranger = OpenAIChat(server.base_url, "not-needed", server.model_name, max_tokens=3, timeout_s=30,
                              max_retries=0)
        with pytest.raises(LLMError, match="rejected the API key"):
            stranger.complete(msgs)
