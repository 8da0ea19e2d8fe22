"""OpenAIChat and OpenAIEmbedder driven through the real openai client against a real scripted HTTP server."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.config import Settings
from assistant.errors import ConfigError, LLMError
from assistant.models.llm import Completion, OpenAIChat, OpenAIEmbedder, chat_model_from_settings

from ..support.openai_fault_server import FaultServer

KEY = "sk-test-SECRET-0123456789"
MSGS = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Is it raining?"}]


@pytest.fixture
def srv():
    with FaultServer() as server:
        yield server


def chat_for(srv: FaultServer, **kw) -> OpenAIChat:
    opts = {"timeout_s": 5.0, "max_retries": 2, "seed": 7} | kw
    return OpenAIChat(srv.base_url, KEY, "fault-model", **opts)


def assert_clean(err: pytest.ExceptionInfo[LLMError], srv: FaultServer) -> None:
    """One line, names the endpoint, never the key."""
    line = err.value.one_line()
    assert srv.base_url in line
    assert KEY not in line and KEY not in repr(err)
    assert "\n" not in line


def collect(chat: OpenAIChat, got: list) -> None:
    for item in chat.stream(MSGS):
        got.append(item)


def test_complete_normal_reply_and_request_shape(srv):
    srv.script(["ok:Yes, it is raining [1]."])
    out = chat_for(srv).complete(MSGS, max_tokens=50, stop=["\n\n"])
    assert out == Completion("Yes, it is raining [1].", "fault-model", {"prompt_tokens": 5, "completion_tokens": 5})
    (req,) = srv.posts
    assert req.path == "/v1/chat/completions"
    assert req.body["messages"] == MSGS and req.body["model"] == "fault-model"
    assert req.body["max_tokens"] == 50 and req.body["temperature"] == 0.0 and req.body["seed"] == 7
    assert req.body["stop"] == ["\n\n"] and not req.stream
    assert req.headers["authorization"] == f"Bearer {KEY}"


def test_seed_sent_only_when_set(srv):
    srv.script(["ok:a"])
    chat_for(srv, seed=None).complete(MSGS)
    assert "seed" not in srv.posts[0].body


def test_seed_dropped_when_endpoint_rejects_it(srv):
    srv.script(["400::Unrecognized request argument supplied: seed", "ok:fine", "ok:again"])
    chat = chat_for(srv)
    assert chat.complete(MSGS).text == "fine"
    assert chat.complete(MSGS).text == "again"
    bodies = [r.body for r in srv.posts]
    assert "seed" in bodies[0] and "seed" not in bodies[1] and "seed" not in bodies[2]


def test_log_probabilities_dropped_when_the_endpoint_cannot_give_them(srv):
    refusal = "500::logprobs is not supported for models created with logits_all=False"
    srv.script([refusal] * 3 + ["ok:yes", "ok:no"])  # the client retries a 500 twice before giving up
    chat = chat_for(srv)
    first = chat.complete(MSGS, top_logprobs=10)
    assert (first.text, first.first_token) == ("yes", ())
    assert chat.complete(MSGS, top_logprobs=10).text == "no"
    bodies = [r.body for r in srv.posts]
    assert bodies[0]["top_logprobs"] == 10 and bodies[0]["logprobs"] is True
    assert "logprobs" not in bodies[3] and "logprobs" not in bodies[4]  # remembered: not asked again


def test_stream_yields_deltas_then_one_completion(srv):
    srv.script(["ok:Yes, it is raining [1]."])
    items = list(chat_for(srv).stream(MSGS))
    *deltas, final = items
    assert all(isinstance(d, str) for d in deltas) and len(deltas) > 1
    assert isinstance(final, Completion)
    assert final.text == "".join(deltas) == "Yes, it is raining [1]."
    assert final.model == "fault-model"
    assert final.usage == {"prompt_tokens": 5, "completion_tokens": 5}
    body = srv.posts[0].body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


def test_429_waits_for_retry_after_then_succeeds(srv):
    srv.script(["429:1", "ok:after the wait"])
    assert chat_for(srv).complete(MSGS).text == "after the wait"
    first, second = srv.posts
    gap = second.at - first.at
    # Without Retry-After the client's first backoff is at most 0.5 s; ~1 s shows it honoured the header.
    assert 0.9 <= gap < 10, gap
    assert second.headers.get("x-stainless-retry-count") == "1"


def test_stream_retries_before_first_byte(srv):
    srv.script(["503:0.01", "ok:streamed after a retry"])
    *_, final = list(chat_for(srv).stream(MSGS))
    assert final.text == "streamed after a retry" and len(srv.posts) == 2


def test_500_until_retries_exhausted(srv):
    srv.script(["500:0.01"] * 3)
    with pytest.raises(LLMError) as err:
        chat_for(srv, max_retries=2).complete(MSGS)
    assert len(srv.posts) == 3  # the first try and two retries
    assert "500" in str(err.value) and "after 2 retries" in str(err.value)
    assert_clean(err, srv)


def test_rate_limit_exhausted_names_the_wait(srv):
    srv.script(["429:0.05"] * 2)
    with pytest.raises(LLMError, match="429") as err:
        chat_for(srv, max_retries=1).complete(MSGS)
    assert "0.05" in str(err.value)
    assert_clean(err, srv)


def test_timeout(srv):
    srv.script(["delay:5", "delay:5"])
    with pytest.raises(LLMError, match="timed out after 0.3s") as err:
        chat_for(srv, timeout_s=0.3, max_retries=1).complete(MSGS)
    assert len(srv.posts) == 2  # timeouts are retried too
    assert_clean(err, srv)


def test_malformed_json(srv):
    srv.script(["malformed"])
    with pytest.raises(LLMError, match="malformed") as err:
        chat_for(srv).complete(MSGS)
    assert_clean(err, srv)


def test_json_that_is_not_a_completion(srv):
    srv.script(["badshape"])
    with pytest.raises(LLMError, match="malformed") as err:
        chat_for(srv).complete(MSGS)
    assert_clean(err, srv)


def test_stream_cut_midway_raises_after_partial_text(srv):
    srv.script(["cut:one two three four five six"])
    got: list = []
    with pytest.raises(LLMError, match="mid-stream") as err:
        collect(chat_for(srv), got)
    assert got and all(isinstance(g, str) for g in got)  # partial text came, but no Completion
    assert len(srv.posts) == 1  # a started stream is never replayed
    assert_clean(err, srv)


def test_stream_ending_without_finish_raises(srv):
    srv.script(["nofinish:a clean end but no finish"])
    got: list = []
    with pytest.raises(LLMError, match="before the model finished") as err:
        collect(chat_for(srv), got)
    assert not any(isinstance(g, Completion) for g in got)
    assert_clean(err, srv)


def test_rejected_key_is_not_echoed(srv):
    srv.script([f"401::Incorrect API key provided: {KEY}"])
    with pytest.raises(LLMError, match="rejected the API key") as err:
        chat_for(srv).complete(MSGS)
    assert "API_KEY" in err.value.one_line()
    assert_clean(err, srv)


def test_connection_refused_names_the_url():
    with FaultServer() as gone:
        url = gone.base_url
    chat = OpenAIChat(url, KEY, "m", timeout_s=1.0, max_retries=0)
    with pytest.raises(LLMError, match="connection failed") as err:
        chat.complete(MSGS)
    assert url in err.value.one_line() and KEY not in err.value.one_line()


def test_embedder_batches_and_normalises(srv):
    srv.script(["ok", "ok", "500:0.01", "500:0.01"])
    settings = Settings(llm={"base_url": srv.base_url, "api_key": KEY, "model": "m"})
    emb = OpenAIEmbedder("text-embed", settings)
    vecs = emb.embed([f"text {i}" for i in range(130)] + [""])
    assert emb.name == "openai:text-embed" and emb.dim == 8
    assert vecs.shape == (131, 8) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    sizes = [len(r.body["input"]) for r in srv.posts]
    assert sizes == [128, 3] and srv.posts[0].body["encoding_format"] == "float"
    assert srv.posts[1].body["input"][-1] == " "  # empty strings are not sent as ""
    # The Embedder protocol's token count (no tokenizer for a hosted model: ~4 characters a token), no request.
    posted = len(srv.posts)
    assert emb.count_tokens("x" * 40) == 10 and len(srv.posts) == posted
    with pytest.raises(LLMError, match="HTTP 500"):
        OpenAIEmbedder("text-embed", settings.model_copy(update={"llm": settings.llm.model_copy(
            update={"max_retries": 1})})).embed(["x"])


def test_embedder_needs_an_endpoint(tmp_path):
    with pytest.raises(ConfigError, match="needs an endpoint"):
        OpenAIEmbedder("text-embed", Settings(data_dir=tmp_path))


def test_chat_model_from_settings_remote(srv, tmp_path):
    srv.script(["ok:remote"])
    settings = Settings(data_dir=tmp_path, llm={"base_url": srv.base_url, "api_key": KEY, "model": "fault-model",
                                                "max_tokens": 33, "seed": 3})
    chat, closer = chat_model_from_settings(settings)
    assert closer is None and isinstance(chat, OpenAIChat) and chat.name == "fault-model"
    assert chat.complete(MSGS).text == "remote"
    assert srv.posts[0].body["max_tokens"] == 33 and srv.posts[0].body["seed"] == 3
    assert KEY not in repr(chat)


def test_chat_model_from_settings_requires_a_model(srv, tmp_path):
    settings = Settings(data_dir=tmp_path, llm={"base_url": srv.base_url})
    with pytest.raises(ConfigError) as err:
        chat_model_from_settings(settings)
    assert "BRIEFING_LLM__MODEL" in err.value.one_line()


def test_retry_after_beyond_the_client_cap_is_not_retried(srv):
    srv.script(["429:600", "ok:never reached"])
    with pytest.raises(LLMError, match="without retrying") as err:
        chat_for(srv, max_retries=3).complete(MSGS)
    assert len(srv.posts) == 1 and "600" in str(err.value)
    assert_clean(err, srv)
