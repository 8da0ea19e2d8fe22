"""Chat (and optional embedding) models behind any OpenAI-compatible endpoint. The only importer of openai.

CONTRACT (used by answering.py and tests/fakes.py; keep these names and shapes):
  Completion(text, model, usage)                       frozen dataclass
  ChatModel protocol: .name; .complete(messages, **opts) -> Completion;
                      .stream(messages, **opts) -> Iterator[str | Completion]  (str deltas, then one Completion)
  chat_model_from_settings(settings) -> (ChatModel, closer or None)
  OpenAIEmbedder(model, settings)  -> .name, .dim, .embed(texts) -> np.ndarray

Retries are the openai client's own (openai 3.51.0, `SyncAPIClient.request`): it retries timeouts,
connection errors, 408, 409, 429 and 5xx up to `max_retries` times with exponential backoff
(0.5 s doubling, capped at 8 s, minus up to 25% jitter). It honours `Retry-After` (seconds, float or
HTTP date) and `retry-after-ms`, but only up to 120 s: a server asking for longer is not retried at
all and the 429 surfaces at once. A stream is retried only until its first byte arrives; a stream that
breaks later raises LLMError rather than being replayed, because its text was already shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, Protocol, Sequence
import numpy as np

from ..errors import ConfigError, LLMError
from ..redact import mask_secrets, url_without_credentials

if TYPE_CHECKING:
    import openai

    from ..config import Settings

OPENAI_DEFAULT_URL = "https://api.openai.com/v1"
EMBED_BATCH = 128
RETRY_AFTER_CAP_S = 120  # openai._constants.MAX_RETRY_AFTER_DELAY: longer waits are not retried at all


@dataclass(frozen=True)
class Completion:
    """A finished model reply."""

    text: str
    model: str = ""
    usage: dict[str, int] = field(default_factory=dict)
    # With complete(..., top_logprobs=N): the first token's N likeliest tokens and their log probabilities,
    # as the endpoint reports them (empty when it reports none).
    first_token: tuple[tuple[str, float], ...] = ()


class ChatModel(Protocol):
    """What the answer pipeline needs from a chat model."""

    name: str

    def complete(self, messages: list[dict[str, str]], **opts: Any) -> Completion:
        """The whole reply at once."""
        ...

    def stream(self, messages: list[dict[str, str]], **opts: Any) -> Iterator[str | Completion]:
        """Text deltas as they arrive, then one Completion with the whole text and usage."""
        ...


def _first_token(choice: Any) -> tuple[tuple[str, float], ...]:
    """The first generated token's top alternatives, (token, logprob), from a chat choice's logprobs."""
    content = getattr(getattr(choice, "logprobs", None), "content", None) or []
    if not content:
        return ()
    tops = getattr(content[0], "top_logprobs", None) or []
    return tuple((str(t.token), float(t.logprob)) for t in tops if getattr(t, "logprob", None) is not None)


def _display_url(url: str) -> str:
    # A base_url may carry user:password@; never echo it. No trailing slash: messages read ".../v1".
    return url_without_credentials(url).rstrip("/")


def _make_client(base_url: str | None, api_key: str, timeout_s: float, max_retries: int) -> "openai.OpenAI":
    import openai

    # base_url is passed explicitly so the client never falls back to OPENAI_BASE_URL on its own.
    return openai.OpenAI(api_key=api_key or "not-needed", base_url=base_url or OPENAI_DEFAULT_URL,
                         timeout=timeout_s, max_retries=max_retries)


class _ErrorMapper:
    """Turns any failure of one endpoint into a one-line LLMError naming the URL and what to check."""

    def __init__(self, url: str, model: str, secret: str, timeout_s: float, max_retries: int) -> None:
        self.url, self.model, self._secret = url, model, secret
        self.timeout_s, self.max_retries = timeout_s, max_retries

    def _scrub(self, text: str) -> str:
        text = " ".join(str(text).split())[:200]
        return mask_secrets(text, [self._secret])

    def __call__(self, exc: BaseException, doing: str = "request", midway: bool = False) -> LLMError:
        """The LLMError for `exc`; `midway` means a stream had started, so nothing was retried."""
        import openai

        where = f"LLM endpoint {self.url} (model {self.model!r})"
        n = self.max_retries
        tries = "mid-stream" if midway else (f"after {n} retr{'y' if n == 1 else 'ies'}" if n else "with retries off")
        if isinstance(exc, openai.APITimeoutError):
            msg, hint = (f"{where} timed out after {self.timeout_s:g}s {tries}",
                         "check that the server is up and not overloaded, or raise BRIEFING_LLM__TIMEOUT_S")
        elif isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc.__context__
            detail = f": {self._scrub(type(cause).__name__)}" if cause else ""
            what = "the connection dropped mid-stream" if midway else f"connection failed {tries}"
            msg, hint = (f"{where}: {what}{detail}",
                         "check BRIEFING_LLM__BASE_URL / OPENAI_BASE_URL and that the server is running")
        elif isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            msg, hint = (f"{where} rejected the API key (HTTP {exc.status_code})",
                         "check BRIEFING_LLM__API_KEY / OPENAI_API_KEY")
        elif isinstance(exc, openai.NotFoundError):
            msg, hint = (f"{where} answered 404: {self._scrub(exc.message)}",
                         "check BRIEFING_LLM__MODEL and that the base URL ends in /v1")
        elif isinstance(exc, openai.RateLimitError):
            wait = exc.response.headers.get("retry-after") or ""
            asked = f" (server asked to wait {wait}s)" if wait else ""
            if wait.replace(".", "", 1).isdigit() and float(wait) > RETRY_AFTER_CAP_S:
                tries = "without retrying"
                asked = f" (server asked to wait {wait}s, beyond the client's {RETRY_AFTER_CAP_S}s cap)"
            msg, hint = (f"{where} is rate limiting (HTTP 429) {tries}{asked}",
                         "wait and try again, or check the quota of your API key")
        elif isinstance(exc, openai.APIStatusError):
            retried = f" {tries}" if exc.status_code >= 500 else ""
            msg, hint = (f"{where} answered HTTP {exc.status_code}{retried}: {self._scrub(exc.message)}",
                         "check the server's log and the model settings")
        elif isinstance(exc, openai.APIError):  # an error event inside a stream, or a bad schema
            msg, hint = (f"{where} reported an error during the {doing}: {self._scrub(exc.message)}",
                         "check the server's log")
        else:
            msg, hint = (f"{where} sent a malformed {doing} ({type(exc).__name__}: {self._scrub(exc)})",
                         "check that BRIEFING_LLM__BASE_URL points at an OpenAI-compatible /v1 endpoint")
        return LLMError(msg, hint=hint)


class OpenAIChat:
    """A ChatModel over the real `openai.OpenAI` client: any OpenAI-compatible /v1 endpoint."""

    def __init__(self, base_url: str | None, api_key: str, model: str, temperature: float = 0.0,
                 seed: int | None = None, timeout_s: float = 120.0, max_retries: int = 3,
                 max_tokens: int = 220, constrain: str = "none") -> None:
        if not model:
            raise ConfigError("no chat model name given", hint="set BRIEFING_LLM__MODEL")
        self.name = model
        self.model = model
        self.temperature = temperature
        self.seed = seed
        self.max_tokens = max_tokens
        # "grammar": this endpoint takes llama.cpp GBNF grammars (the bundled server does).
        self.constrain = constrain
        self._client = _make_client(base_url, api_key, timeout_s, max_retries)
        self.base_url = _display_url(str(self._client.base_url))
        self._error = _ErrorMapper(self.base_url, model, api_key, timeout_s, max_retries)
        self._rejected: set[str] = set()  # optional parameters this endpoint refused once

    def __repr__(self) -> str:
        return f"OpenAIChat(base_url={self.base_url!r}, model={self.model!r})"

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._client.close()

    def _params(self, messages: list[dict[str, str]], max_tokens: int | None, temperature: float | None,
                stop: str | list[str] | None, extra: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": self.max_tokens if max_tokens is None else max_tokens,
            "temperature": self.temperature if temperature is None else temperature,
        }
        seed = extra.pop("seed", self.seed)
        if seed is not None and "seed" not in self._rejected:
            params["seed"] = seed
        if stop:
            params["stop"] = stop
        if extra:  # endpoint-specific knobs (top_p, repeat_penalty ...) go in the body as-is
            params["extra_body"] = extra
        return params

    def _create(self, params: dict[str, Any]) -> Any:
        import openai

        while True:
            try:
                return self._client.chat.completions.create(**params)
            except (openai.BadRequestError, openai.UnprocessableEntityError, openai.InternalServerError) as exc:
                # Some compatible servers refuse optional fields (llama-cpp-python answers 500 to logprobs
                # without logits_all); drop the one named and ask again.
                said = f"{exc.message} {exc.body}".lower()
                refused = [k for k in ("seed", "stream_options", "logprobs") if k in params and k in said]
                if "logprobs" in refused:  # the pair goes together: top_logprobs means nothing without it
                    refused.append("top_logprobs")
                if not refused:
                    raise
                for key in refused:
                    params.pop(key, None)
                    self._rejected.add(key)

    def complete(self, messages: list[dict[str, str]], max_tokens: int | None = None,
                 temperature: float | None = None, stop: str | list[str] | None = None,
                 **extra: Any) -> Completion:
        """The whole reply at once; any failure after the client's retries raises LLMError."""
        import openai

        extra = dict(extra)
        top = int(extra.pop("top_logprobs", 0) or 0)
        params = self._params(messages, max_tokens, temperature, stop, extra)
        if top and "logprobs" not in self._rejected:
            params.update(logprobs=True, top_logprobs=top)
        try:
            resp = self._create(params)
            choice = resp.choices[0]
            text = choice.message.content
            if not isinstance(text, str):
                raise ValueError(f"reply has no text (finish_reason={choice.finish_reason!r})")
            usage = resp.usage
            return Completion(text=text, model=str(resp.model or self.model), usage={
                "prompt_tokens": int(usage.prompt_tokens or 0) if usage else 0,
                "completion_tokens": int(usage.completion_tokens or 0) if usage else 0,
            }, first_token=_first_token(choice) if top else ())
        except openai.OpenAIError as exc:
            raise self._error(exc, "reply") from exc
        except (ValueError, AttributeError, TypeError, IndexError, KeyError) as exc:
            # A body that was not JSON, or JSON without choices: the client hands back what it got.
            raise self._error(exc, "reply") from exc

    def stream(self, messages: list[dict[str, str]], max_tokens: int | None = None,
               temperature: float | None = None, stop: str | list[str] | None = None,
               **extra: Any) -> Iterator[str | Completion]:
        """Text deltas as they arrive, then one Completion; a stream cut short raises LLMError.

        The Completion's usage is empty when the endpoint reports none for streams
        (llama-cpp-python 0.3.36 ignores stream_options.include_usage).
        """
        import openai

        params = self._params(messages, max_tokens, temperature, stop, dict(extra))
        params["stream"] = True
        if "stream_options" not in self._rejected:
            params["stream_options"] = {"include_usage": True}
        parts: list[str] = []
        finish: str | None = None
        model = self.model
        usage: dict[str, int] = {}
        chunks = None
        try:
            chunks = self._create(params)
            for chunk in chunks:
                model = str(getattr(chunk, "model", None) or model)
                if chunk.usage is not None:
                    usage = {"prompt_tokens": int(chunk.usage.prompt_tokens or 0),
                             "completion_tokens": int(chunk.usage.completion_tokens or 0)}
                for choice in chunk.choices or []:
                    delta = choice.delta.content if choice.delta is not None else None
                    if delta:
                        parts.append(delta)
                        yield delta
                    if choice.finish_reason:
                        finish = choice.finish_reason
        except openai.OpenAIError as exc:
            raise self._error(exc, "stream", midway=chunks is not None) from exc
        except (ValueError, AttributeError, TypeError, IndexError, KeyError) as exc:
            raise self._error(exc, "stream", midway=chunks is not None) from exc
        finally:
            if chunks is not None and hasattr(chunks, "close"):
                chunks.close()  # also when the caller stops early: free the connection
        if finish is None:
            raise LLMError(f"LLM endpoint {self.base_url} (model {self.model!r}) ended the stream before the "
                           f"model finished ({len(parts)} pieces received)",
                           hint="check the server's log; a proxy may be cutting long responses")
        yield Completion(text="".join(parts), model=model, usage=usage)


def chat_model_from_settings(settings: "Settings") -> tuple[ChatModel, Callable[[], None] | None]:
    """The configured chat model and a closer to call when done (None when nothing needs stopping).

    With no endpoint configured this starts (or reuses, with keep_warm) the bundled local model.
    """
    llm = settings.llm
    common = dict(temperature=llm.temperature, seed=llm.seed, timeout_s=llm.timeout_s,
                  max_retries=llm.max_retries, max_tokens=llm.max_tokens)
    if llm.uses_local:
        from .local_server import start_local_server

        from .bundled import BundledChat

        server = start_local_server(settings)
        constrain = "none" if llm.constrain == "none" else "grammar"
        # server.api_key is read on each connect: a restarted server has a new key.
        chat: Any = BundledChat(server, lambda url: OpenAIChat(url, server.api_key, server.model_name,
                                                               constrain=constrain, **common))
        if settings.local.keep_warm:
            return chat, None

        def close() -> None:
            chat.close()
            server.stop()

        return chat, close
    if not llm.model:
        # Shown to API clients too (a 400): the URL may carry user:password@ or ?api-key=.
        raise ConfigError(f"no model name for the endpoint {_display_url(llm.base_url or OPENAI_DEFAULT_URL)}",
                          hint="set BRIEFING_LLM__MODEL")
    key = llm.api_key.get_secret_value() if llm.api_key is not None else "not-needed"
    constrain = "grammar" if llm.constrain == "grammar" else "none"
    return OpenAIChat(llm.base_url, key, llm.model, constrain=constrain, **common), None


class OpenAIEmbedder:
    """A hosted embedding model through the same client: float32 rows, L2-normalised."""

    def __init__(self, model: str, settings: "Settings | None" = None) -> None:
        if settings is None:
            from ..config import load_settings

            settings = load_settings()
        llm = settings.llm
        if not model:
            raise ConfigError("no embedding model named", hint="set BRIEFING_EMBEDDER=openai:<model>")
        if llm.uses_local:
            raise ConfigError(f"the embedder openai:{model} needs an endpoint, but none is configured",
                              hint="set OPENAI_API_KEY or BRIEFING_LLM__BASE_URL, or BRIEFING_EMBEDDER=minilm")
        key = llm.api_key.get_secret_value() if llm.api_key is not None else "not-needed"
        self.model = model
        self.name = f"openai:{model}"
        self._client = _make_client(llm.base_url, key, llm.timeout_s, llm.max_retries)
        self.base_url = _display_url(str(self._client.base_url))
        self._error = _ErrorMapper(self.base_url, model, key, llm.timeout_s, llm.max_retries)
        self._dim: int | None = None

    @property
    def dim(self) -> int:
        """Vector width, learnt from the first call (one probe request if nothing was embedded yet)."""
        if self._dim is None:
            self._dim = int(self._batch(["dimension probe"]).shape[1])
        return self._dim

    def _batch(self, texts: list[str]) -> np.ndarray:
        import openai

        try:
            # Hosted APIs reject empty strings; a space embeds as "nothing" just as well.
            resp = self._client.embeddings.create(model=self.model, input=[t or " " for t in texts],
                                                  encoding_format="float")
            rows = sorted(resp.data, key=lambda d: d.index)
            out = np.asarray([r.embedding for r in rows], dtype=np.float32)
        except openai.OpenAIError as exc:
            raise self._error(exc, "embeddings") from exc
        except (ValueError, AttributeError, TypeError, IndexError, KeyError) as exc:
            raise self._error(exc, "embeddings") from exc
        if out.ndim != 2 or out.shape[0] != len(texts) or (self._dim is not None and out.shape[1] != self._dim):
            raise self._error(ValueError(f"got shape {out.shape} for {len(texts)} texts"), "embeddings")
        self._dim = int(out.shape[1])
        return out

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length float32 row per text, in batches of 128."""
        if not texts:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        blocks = [self._batch(list(texts[i:i + EMBED_BATCH])) for i in range(0, len(texts), EMBED_BATCH)]
        out = np.concatenate(blocks, axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.clip(norms, 1e-12, None)).astype(np.float32)

    def count_tokens(self, text: str) -> int:
        """A hosted model's tokenizer is not at hand: about four characters per token."""
        return len(text) // 4

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._client.close()
