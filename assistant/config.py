"""The one place settings come from: arguments, then BRIEFING_* environment variables, then .env."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .errors import ConfigError

# The shortest login password accepted (BRIEFING_AUTH=user:password). Failed logins are throttled per
# address (access.FailureThrottle), but many addresses can still guess in parallel, and 8 characters
# accepted "password1": 12 is the floor, and `briefing serve` suggests a random token (access.new_token).
MIN_PASSWORD_CHARS = 12


def default_data_dir() -> Path:
    """Where the library lives unless BRIEFING_DATA_DIR says otherwise (XDG data home)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "briefing-assistant"


def default_model_cache() -> Path:
    """Where the bundled model is assembled once per machine unless BRIEFING_MODEL_CACHE says otherwise
    (XDG cache home): every data dir, eval run and test shares it."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "briefing-assistant"


class LLMSettings(BaseModel):
    """An OpenAI-compatible chat endpoint. Empty base_url and api_key mean: the bundled local model."""

    base_url: str | None = None
    api_key: SecretStr | None = None
    model: str = ""
    temperature: float = 0.0
    seed: int = 7
    timeout_s: float = 120.0
    max_retries: int = 3
    max_tokens: int = 220
    # How to constrain short structured replies (claim judge, key selection): "grammar" sends a llama.cpp
    # GBNF grammar; "none" parses free text; "auto" = grammar for the bundled model, none for endpoints.
    constrain: Literal["auto", "grammar", "none"] = "auto"

    @property
    def uses_local(self) -> bool:
        """True when no endpoint is configured, so the bundled model is started."""
        return not self.base_url and self.api_key is None


class LocalModelSettings(BaseModel):
    """The bundled model served by llama.cpp on 127.0.0.1."""

    model_path: Path | None = None  # a GGUF file of your own instead of the bundled one
    n_ctx: int = 4096
    n_threads: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1))
    startup_timeout_s: float = 180.0
    keep_warm: bool = False  # leave the server running between CLI calls and reuse it
    # llama-cpp-python's RAM prompt cache, off by default: it copies the model's state after every request,
    # which cost ~0.8 s per answer here and brought back nothing (the server reuses the live prompt prefix
    # without it): see local_server.LocalServer._cache_args. Real memory is far above this figure.
    prompt_cache_mb: int = 0
    flash_attn: bool = True  # llama.cpp's flash attention: the prompt is read faster on a CPU too


class AnswerSettings(BaseModel):
    """How answers are written and checked (answer/pipeline.py, answer/entailment.py)."""

    # "prose": the model writes the answer citing keys; "select": it first picks the keys that answer,
    # then writes from those; "quote": it picks keys and the answer is their exact sentences (faithful by
    # construction), with a checked lead sentence when one passes. "auto": quote for the bundled model,
    # prose for an endpoint of your own (see README: chosen by the faithfulness measurements).
    style: Literal["auto", "prose", "select", "quote"] = "auto"
    judge: bool = True  # ask the chat model whether each claim is stated by its evidence (after the guards)
    # The claim judge says yes when its P(yes) over "yes"/"no" reaches this, read from the endpoint's log
    # probabilities; None: the judge's own word. For endpoints that report them (OpenAI's does): choose it on the
    # labelled dev set with evals/judge_threshold.py, never on the blind set. The bundled llama-cpp-python server
    # reports none (it would need logits_all: every prompt token's logits, ~2.5 GB at a 4k context for this
    # model's 152k-token vocabulary), so the bundled judge keeps its own word.
    judge_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    lead: bool = True  # in quote style, try a one-sentence lead answer and keep it only if it passes the checks
    max_quotes: int = Field(default=2, ge=1, le=6)
    # The answer prompt (prompts/<name>.md). "answer_direct" asks for the direct answer in one sentence, then
    # at most two supporting ones, and to refuse only when no evidence sentence answers (issue 26).
    # "answer_checked": the same, never asking the model to refuse: a refusal comes from the checks, when nothing
    # the model wrote holds (issue 26 item 5: a small model told to refuse when unsure refuses answerable questions).
    # Measured on the news dev set (evals/results/rtqa_dev_20261207_*.md): both longer instructions made the 1.5B
    # model refuse more (choice accuracy 0.30 with "answer", 0.12 with answer_direct on 18 questions, 0.10 with
    # answer_checked on 40): "answer" stays the default; the others are there to measure with other models.
    prompt: Literal["answer", "answer_direct", "answer_checked"] = "answer"
    # When the draft refuses but evidence was retrieved, quote the evidence sentences that answer the question
    # (each checked by "answers the question") instead of refusing: a timid draft is not a refusal.
    quote_on_refusal: bool = False
    # When the draft is a bare refusal, ask the model once more, with a prompt that has no way out, to answer
    # from the evidence sentence closest to the question (prompts/answer_second_look.md); what it writes is
    # checked like any draft. Off by default: on the news dev set (evals/results/rtqa_dev_20261207_s26*.md) it
    # turned 3 of 4 refusing drafts into answers, none of them right, and cost a second prompt read (~8 s).
    second_look: bool = False
    # When nothing the model wrote passed the checks and the question asks for a name, number, date or place, ask
    # for the answer's words alone, copied from one evidence sentence (prompts/short_answer.md); they are shown only
    # when that sentence holds them verbatim and answers the question (answer/short.py).
    short_answer: bool = True


class UISettings(BaseModel):
    """The Gradio chat page."""

    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False
    auth: SecretStr | None = None  # "user:password"; BRIEFING_AUTH works too
    # None: the ingest limit (BRIEFING_MAX_FILE_MB). A file the page accepts must not fail ingest for its size.
    max_upload_mb: float | None = None
    # Answers worked on at once (the API and the chat share one queue). None: 1 with the bundled model,
    # which has a single llama.cpp slot on a small machine, and 4 with an endpoint of your own, which
    # batches requests itself; raise it for a vLLM server or a hosted API with many users.
    concurrency: int | None = Field(default=None, ge=1)
    # --- `briefing serve` and the page under load and hostile input (issue 28)
    queue_size: int | None = Field(
        default=None, ge=0,
        description="answers that may wait for a place beyond those being worked on; one more gets 429 with "
                    "Retry-After at once instead of holding a connection. None: 8 per answer worked on at once")
    queue_wait_s: float = Field(
        default=300.0, gt=0, description="longest wait for a place in the answer queue before a 429")
    max_request_kb: int = Field(
        default=512, ge=1,
        description="largest request body of the API and of the page's JSON calls, counted as the bytes "
                    "arrive (a chunked body has no Content-Length); file uploads have BRIEFING_UI__MAX_UPLOAD_MB")
    allowed_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Host header names accepted besides loopback names and the address served on (comma "
                    "list; '*' accepts any): a web page that rebinds its own name to 127.0.0.1 is refused")
    allowed_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="web origins (https://name[:port]) other than the page itself that may call the API or "
                    "the page from a browser (comma list); none by default")
    login_failures: int = Field(
        default=10, ge=1, description="failed logins or API keys from one address before it must wait")
    login_window_s: float = Field(
        default=300.0, gt=0, description="the window in which those failures count, and the longest wait")

    @field_validator("allowed_hosts", "allowed_origins", mode="before")
    @classmethod
    def _comma_list(cls, v: object) -> object:
        # An environment variable is one string: "a.example, b.example".
        if isinstance(v, str):
            return tuple(x.strip() for x in v.split(",") if x.strip())
        return v

    @field_validator("auth")
    @classmethod
    def _auth_shape(cls, v: SecretStr | None) -> SecretStr | None:
        # Messages never quote the value: it is a password.
        if v is None:
            return v
        user, colon, password = v.get_secret_value().partition(":")
        if not colon or not user.strip():
            raise ValueError("BRIEFING_AUTH (or BRIEFING_UI__AUTH) must look like user:password")
        if len(password) < MIN_PASSWORD_CHARS or not password.strip() or password == user:
            raise ValueError(f"the password in BRIEFING_AUTH (or BRIEFING_UI__AUTH) must have at least "
                             f"{MIN_PASSWORD_CHARS} characters, not all blank, and differ from the user name")
        return v


class ServeSettings(BaseModel):
    """`briefing serve`'s OpenAI-compatible API (app/serve.py); its address, login and limits are in UISettings."""

    sources_footer: bool = Field(
        default=True,
        description="end each answer's message content with its numbered sources (title, source, date, URL, quoted "
                    "sentence): Open WebUI, LibreChat and llm show the content only. A request overrides it with "
                    "{\"briefing\": {\"sources_footer\": false}}")


class LimitSettings(BaseModel):
    """Bounds on one request, checked the same way for Python, the CLI, the page and the API
    (Assistant.check_request): a huge k, question or history costs memory and model time for everyone."""

    max_k: int = Field(default=50, ge=1)  # passages per search/answer (retrieval pools 5 k candidates)
    max_question_chars: int = Field(default=2000, ge=1)
    max_history_messages: int = Field(default=40, ge=0)  # the rewrite reads only the last few anyway
    max_history_chars: int = Field(default=40_000, ge=0)  # all history messages together
    max_timeline_dates: int = Field(default=12, ge=1)  # one model call per date


class FetchSettings(BaseModel):
    """Fetching web pages and RSS/Atom feeds for ingest (fetch.py)."""

    timeout_s: float = 15.0  # per page: connect, each read, and the whole download
    max_redirects: int = 5
    max_mb: float | None = None  # None: BRIEFING_MAX_FILE_MB, the same limit as files
    max_feed_items: int = 100  # newest first; older items are left for a later run
    max_urls: int = Field(default=50, ge=1)  # URLs in one ingest request: each may take timeout_s (issue 28)
    user_agent: str = "briefing-assistant/0.1 (news briefing reader)"
    # Off by default: a URL (or a redirect, or a name resolving) to loopback, private, link-local or
    # reserved addresses is refused, so ingest cannot be used to read internal services (fetch.py).
    allow_private: bool = False


class Settings(BaseSettings):
    """Every setting of the assistant. Environment: BRIEFING_<NAME>, nested with __."""

    model_config = SettingsConfigDict(
        env_prefix="BRIEFING_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    chroma_url: str | None = None  # e.g. http://127.0.0.1:8100 to use a Chroma server (8000 is `briefing serve`'s port)
    collection: str = "briefings"
    embedder: str = "minilm"  # or "openai:<model>" for a hosted embedding model
    chunk_size: int = 700
    chunk_overlap: int = 0
    max_file_mb: float = 20.0
    search_k: int = 10
    answer_k: int = 6
    per_article_cap: int = 3
    # Hybrid fusion: score = 1/(rrf_k + dense rank) + bm25_weight/(rrf_k + BM25 rank). Measured on CLAPnq
    # with a held-out half (evals/results/retrieval_clapnq.md): k=10, weight 0.5 beat k=60, weight 1 on both halves.
    rrf_k: int = 10
    bm25_weight: float = 0.5
    # MMR over the fused pool (0..1, 1 = relevance only; None = per-article cap only). 0.7 kept single-question
    # MRR and covered both parts of more two-part questions (evals/results/retrieval_clapnq.md).
    mmr_lambda: float | None = 0.7
    # Question time words ("this week", "recently") add a date prior to the fused score, at most this many
    # first-place ranks; they never filter (issue 17, evals/results/retrieval_news.md).
    time_weight: float = Field(default=0.5, ge=0)
    # With an explicit as_of, a question about a time ("this week", "on Sunday", "recently") is not answered from
    # a briefing published more than this many days before the window it asks about: a story from last year's
    # final says who won last year's final (answer/reading.py). 0 turns it off. Without as_of nothing is left out:
    # "this week" may be the briefing's week, not today's.
    stale_days: int = Field(default=30, ge=0)
    # Near-duplicate stories (dedup.py): keep the group's "canonical" (earliest) article, the "best"-ranked
    # copy, or "off" (all copies).
    collapse: Literal["canonical", "best", "off"] = "best"
    # Evidence budget in tokens. 700, not 360: on CLAPnq dev (evals/results/evidence_budget_clapnq.md) the gold
    # sentences were all shown for 0.84 of questions at 700 against 0.61 at 360 (the first round lost "2 million"
    # to the budget); the price is ~300 more prompt tokens for a CPU model to read.
    context_tokens: int = 700
    # "sentences": the best sentences of the retrieved passages, best first; "sections": those sentences
    # grouped under one header per article section; "passages": whole passages in reading order while
    # they fit the budget (evidence.select_evidence); "articles": the retrieved articles whole when they all
    # fit, else the passages widened over a pronoun opener, in a fixed article order (answer/context.py).
    # Default "articles" (issue 26): on the news dev set it gives the same verdicts as "sentences" (articles too
    # long to read whole fall back to it), and a short briefing is read whole, in context, with a prompt prefix
    # that repeats from question to question (evals/results/rtqa_dev_20261207_*.md, bench/answers-*.md).
    evidence_layout: Literal["sentences", "sections", "passages", "articles"] = "articles"
    # Layout "articles": the retrieved articles are read whole when together they fit this many tokens (a short
    # briefing: the same evidence block for every question, so the model server reuses what it has read).
    whole_article_tokens: int = Field(default=1000, ge=0)
    min_support: float = 0.42
    repair_support: float = 0.55
    llm: LLMSettings = Field(default_factory=LLMSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    local: LocalModelSettings = Field(default_factory=LocalModelSettings)
    ui: UISettings = Field(default_factory=UISettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    fetch: FetchSettings = Field(default_factory=FetchSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    auth: SecretStr | None = Field(default=None, repr=False)  # BRIEFING_AUTH=user:password, the short name of ui.auth
    debug: bool = False
    # --- operating (issue 15): model cache, logging, the OPENAI_* names read like every other setting
    model_cache: Path = Field(default_factory=default_model_cache)
    log_level: str = "WARNING"  # the assistant's own log messages on stderr; -v / --log-level override it
    # Users already know OPENAI_API_KEY / OPENAI_BASE_URL: read from the environment *and* .env through
    # these aliases (no prefix). BRIEFING_LLM__* wins when both are set.
    openai_api_key: SecretStr | None = Field(default=None, repr=False,
                                             validation_alias=AliasChoices("OPENAI_API_KEY", "openai_api_key"))
    openai_base_url: str | None = Field(default=None,
                                        validation_alias=AliasChoices("OPENAI_BASE_URL", "openai_base_url"))

    @field_validator("log_level")
    @classmethod
    def _level_name(cls, v: str) -> str:
        v = str(v).strip().upper()
        if v not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return v

    @model_validator(mode="after")
    def _openai_names(self) -> "Settings":
        if self.llm.api_key is None and self.openai_api_key is not None and self.openai_api_key.get_secret_value():
            self.llm.api_key = self.openai_api_key
        if not self.llm.base_url and self.openai_base_url:
            self.llm.base_url = self.openai_base_url
        if self.llm.api_key is not None and not self.llm.base_url and not self.llm.model:
            self.llm.model = "gpt-4o-mini"
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        if self.ui.auth is None and self.auth is not None:
            self.ui.auth = UISettings._auth_shape(self.auth)
        return self

    @property
    def answer_style(self) -> str:
        """The answer style in force ("auto" resolved: quote for the bundled model, prose otherwise)."""
        if self.answer.style != "auto":
            return self.answer.style
        return "quote" if self.llm.uses_local else "prose"

    @property
    def upload_limit_mb(self) -> float:
        """Largest file the chat page accepts: BRIEFING_UI__MAX_UPLOAD_MB, never above BRIEFING_MAX_FILE_MB."""
        ui = self.ui.max_upload_mb
        return self.max_file_mb if ui is None else min(ui, self.max_file_mb)

    @property
    def upload_limit_setting(self) -> str:
        """The environment variable that sets `upload_limit_mb`, for messages that say how to raise it."""
        ui = self.ui.max_upload_mb
        return "BRIEFING_MAX_FILE_MB" if ui is None or ui >= self.max_file_mb else "BRIEFING_UI__MAX_UPLOAD_MB"

    def settings_hash(self) -> str:
        """A short hash of the settings that change answers (never includes secrets)."""
        keep = self.model_dump(
            mode="json",
            include={"embedder", "chunk_size", "chunk_overlap", "search_k", "answer_k",
                     "per_article_cap", "rrf_k", "bm25_weight", "mmr_lambda", "time_weight", "collapse",
                     "context_tokens", "evidence_layout", "min_support", "repair_support"},
        )
        keep["answer"] = self.answer.model_dump(mode="json")
        keep["llm"] = {k: v for k, v in self.llm.model_dump(mode="json").items() if k != "api_key"}
        blob = json.dumps(keep, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


def load_settings(**overrides: object) -> Settings:
    """Build Settings from overrides + environment, raising ConfigError with the field at fault. A `.env` in
    the working directory that moves the model endpoint or opens a host to the network is warned about."""
    nested = {k: v for k, v in overrides.items() if v is not None}
    from pydantic import ValidationError

    try:
        settings = Settings(**nested)
        _warn_about_dotenv(settings, nested)
        return settings
    except ValidationError as exc:
        # Never echo the input: pydantic's own message quotes every value, API keys and passwords too.
        problems = "; ".join(f"{'.'.join(str(x) for x in e['loc']) or 'settings'}: {e['msg']}"
                             for e in exc.errors(include_url=False, include_input=False, include_context=False))
        raise ConfigError(f"invalid settings: {problems}") from None
    except ValueError as exc:
        raise ConfigError(f"invalid settings: {type(exc).__name__}") from None


_WARNED: set[str] = set()


def _warn_about_dotenv(settings: Settings, overrides: dict[str, object]) -> None:
    # Whoever can drop a .env where `briefing` runs (a cloned repo, a shared folder) could send the user's
    # OPENAI_API_KEY and questions to their own endpoint, or open the page to the network: say so. What
    # the .env changed is read by comparing with the settings built without it, so the environment and
    # arguments, which win over it, never trigger a warning.
    env_file = Path(".env")
    if not env_file.is_file():
        return
    try:
        bare = Settings(_env_file=None, **overrides)  # type: ignore[call-arg]
    except ValueError:
        return
    from dotenv import dotenv_values

    from .redact import redact_url

    names = ", ".join(k for k in dotenv_values(env_file) if k.upper() in _ENDPOINT_NAMES) or "BRIEFING_LLM__BASE_URL"
    where = env_file.resolve()
    found = []
    if settings.llm.base_url != bare.llm.base_url:
        found.append(f"{where} sets {names}: questions, articles and your API key go to "
                     f"{redact_url(settings.llm.base_url or '')}; delete the line if you did not put it there")
    if settings.ui.host != bare.ui.host and not _is_loopback(settings.ui.host):
        found.append(f"{where} sets BRIEFING_UI__HOST={settings.ui.host}: the page and API can be reached from "
                     f"other machines; delete the line if you did not put it there")
    if settings.chroma_url != bare.chroma_url and settings.chroma_url and not _is_loopback(settings.chroma_url):
        found.append(f"{where} sets BRIEFING_CHROMA_URL: the library is read from and written to "
                     f"{redact_url(settings.chroma_url)}; delete the line if you did not put it there")
    for message in found:
        if message not in _WARNED:
            _WARNED.add(message)
            logging.getLogger(__name__).warning("%s", message)


_ENDPOINT_NAMES = frozenset({"OPENAI_BASE_URL", "BRIEFING_LLM__BASE_URL"})


def _is_loopback(host_or_url: str) -> bool:
    import ipaddress
    from urllib.parse import urlsplit

    host = urlsplit(host_or_url if "//" in host_or_url else f"//{host_or_url}").hostname or host_or_url
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
