"""The answer pipeline: rewrite a follow-up, retrieve, pick evidence sentences within a token budget,
show them at once, have the model write (or pick sentences to quote), then show each sentence only
once verify.Verifier has checked it against the sentence it cites.

`Answerer` is built once by the composition root (assistant.py) with exactly what answering needs;
nothing here knows the Assistant."""

from __future__ import annotations

import logging
import time
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Generator, Iterator, Sequence

from .citations import content_stems, is_pure_refusal, leading_markers_last, split_answer
from .entailment import Checker, asks_speaker
from .evidence import best_first, format_evidence, irrelevant
from .followup import refers_back, rewrite_question
from .overview import is_overview, max_points, top_up
from .injection import clean_answer, drop_echoes, orders_in
from ..models.embed import Embedder
from ..errors import LLMError
from ..models.llm import ChatModel, Completion
from .prompting import load_prompt
from .reading import Library, Reader, read_evidence, whole_block
from .run import AnswerRun
from ..search.retrieve import Filters, Retriever
from ..types import REFUSAL, AnswerEvent, EvidenceEvent, EvidenceSentence, StatusEvent, TextDelta
from .selection import marker_grammar, select_keys
from .short import SHORT_MAX_TOKENS, short_messages, short_span
from .span import SPAN_SHARE, Span, answer_span, denials, with_direct_answer
from .verdict import VERDICT_ROUTES, VerdictLead, asks_yes_no, predicate_stems, verdict_for, wants_verdict
from .verify import QUOTE_LEAD, Checked, Verifier, finished_claims, is_question, restates_question

if TYPE_CHECKING:
    from ..config import Settings

log = logging.getLogger(__name__)

QUOTE_CANDIDATES = 4  # evidence sentences considered for quotes (one judge call each at most)


class Answerer:
    """Answers questions over the library: `stream()` yields the evidence, status lines, each checked
    sentence, then the Answer.

    `llm` is a chat model; the composition root passes a models.lazy.LazyChat so the model is started
    only when an answer first needs it (never for a question nothing relevant was retrieved for).
    """

    def __init__(self, retriever: Retriever, embedder: Embedder, llm: ChatModel, library: Library,
                 settings: "Settings") -> None:
        self.retriever = retriever
        self.embedder = embedder
        self.llm = llm
        self.library = library
        self.settings = settings

    def checker(self) -> Checker:
        """The claim checker of one answer: the guards, and the chat model as judge when configured."""
        llm, settings = self.llm, self.settings
        return Checker(llm if settings.answer.judge else None, constrain=getattr(llm, "constrain", "none"),
                       embedder=self.embedder, min_support=settings.min_support,
                       threshold=settings.answer.judge_threshold)

    def verifier(self, evidence: Sequence[EvidenceSentence], checker: Checker, question: str, block: str,
                 quote_fallback: bool = True, min_dates: int = 1, points: bool = False) -> Verifier:
        """The gate for one answer's sentences, with the bodies of the evidence's articles to cite from."""
        bodies = self.library.bodies(e.article_id for e in evidence)
        return Verifier(evidence, bodies, self.embedder, checker, question, block, self.settings.repair_support,
                        quote_fallback=quote_fallback, min_dates=min_dates, points=points)

    def _short_answer(self, run: AnswerRun, llm: Any, messages: list[dict[str, str]], question: str,
                      verifier: Verifier) -> Generator[StatusEvent | TextDelta, None, None]:
        """Nothing shown yet: ask for the answer's words alone (short.py) and show them, with the sentence that
        holds them verbatim quoted after, if that sentence answers the question."""
        asked = short_messages(messages, question)
        if asked is None:
            return
        yield StatusEvent("Looking for the short answer in the evidence\u2026")
        run.raw += "\n\n"
        raw, _ = yield from _draft(run, llm, self.embedder, asked, SHORT_MAX_TOKENS)
        found = short_span(raw, question, run.evidence)
        run.notes.append("nothing the draft said passed the checks; the model was asked for the short answer alone"
                         + ("" if found else ", and gave none that an evidence sentence holds"))
        if found is None:
            return
        span, key = found
        quoted = verifier.quote(key, len(run.checked), must_answer=True, min_share=SPAN_SHARE)
        if quoted is None:
            return
        for c in _led_by(run, span, quoted, len(run.checked)):
            run.checked.append(c)
            yield run.show(c)

    def _reader(self) -> Reader:
        return Reader(self.retriever, self.library, self.embedder, self.settings)

    def stream(self, question: str, history: Sequence[Any] | None, k: int | None,
               filters: Filters) -> Iterator[EvidenceEvent | StatusEvent | TextDelta | AnswerEvent]:
        """Yield the evidence, then status lines and each checked sentence as it passes, then the Answer.

        Nothing the model wrote reaches the caller before verify.Verifier has checked it: the draft is
        collected in full (llama.cpp's server would cut a stream short to serve a judge request) and
        then checked sentence by sentence, each shown as soon as it passes.
        """
        settings = self.settings
        t0 = time.perf_counter()
        run = AnswerRun(question.strip(), t0, settings)
        standalone = run.question
        if history:
            # A follow-up is rewritten with the evidence the answer will read in front, when that is the whole
            # library's articles (a short briefing): its prompt then shares the answer prompt's prefix, which the
            # model server has cached, and the answer after it reads only its question, not the evidence again.
            block = whole_block(self._reader(), run.question, history, k, filters) if refers_back(run.question) else None
            standalone, used, note = rewrite_question(self.llm, run.question, history, evidence=block)
            run.add_usage(used)
            if note:
                run.notes.append(note)
            run.timings["rewrite_s"] = round(time.perf_counter() - t0, 3)
        run.standalone = standalone
        t1 = time.perf_counter()
        run.passages, run.evidence, layout, notes = read_evidence(self._reader(), standalone, k, filters)
        run.notes.extend(notes)  # which dates were searched, an archive's own "now" (retrieve.search_notes)
        run.timings["retrieve_s"] = round(time.perf_counter() - t1, 3)
        yield EvidenceEvent(passages=run.passages, evidence=run.evidence, standalone_question=standalone)
        if not run.evidence or irrelevant(standalone, run.evidence):
            yield AnswerEvent(run.finish("none (nothing relevant retrieved)"))
            return
        style = settings.answer_style
        overview = is_overview(standalone)
        if overview:
            # Several checked points, each shown as it passes: a quote-style answer has room for one claim.
            style = "prose"
        run.style = style
        llm = self.llm
        block = format_evidence(run.evidence, layout)
        checker = self.checker()
        verifier = self.verifier(run.evidence, checker, standalone, block, quote_fallback=style != "quote",
                                 points=overview)
        keys: list[int] = []
        if style == "select":
            yield StatusEvent("Choosing the sentences that answer the question\u2026")
            t2 = time.perf_counter()
            keys, used = select_keys(llm, block, standalone, run.evidence, settings.answer.max_quotes)
            run.add_usage(used)
            run.timings["select_s"] = round(time.perf_counter() - t2, 3)
            if not keys:
                run.notes.append("The model found no evidence sentence that answers the question.")
                yield AnswerEvent(run.finish(getattr(llm, "name", "")))
                return
        if style == "select":
            messages = load_prompt("write_from_selection").render(
                evidence=block, question=standalone, refusal=REFUSAL, keys=", ".join(f"[{k}]" for k in keys),
                example="".join(f"[{k}]" for k in keys[:2]))
        else:
            prompt = "answer_overview" if overview else settings.answer.prompt
            messages = load_prompt(prompt).render(evidence=block, question=standalone, refusal=REFUSAL)
        yield StatusEvent("Writing; each claim is checked against its source before it is shown\u2026")
        # With a llama.cpp endpoint a written answer can only cite keys that exist (a grammar over its
        # markers). Not in quote style: there the draft's keys only choose what to quote and each is looked up
        # before use, while the grammar slows every token (~33 ms of ~65 ms here, measured: 0.8 s off the
        # first checked sentence's median, and the same 15 seed answers with and without it).
        constrained = getattr(llm, "constrain", "none") == "grammar" and style != "quote"
        grammar = marker_grammar([e.key for e in run.evidence]) if constrained else None
        # In quote style only the draft's first claim can lead (the rest of the answer is quoted), so the
        # draft is stopped once that sentence is complete: the user waits for one sentence, not three, and
        # not for the server's end of stream (the end token, and with BRIEFING_LOCAL__PROMPT_CACHE_MB set, saving
        # the model state: ~1 s here).
        until = partial(finished_claims, question=standalone) if style == "quote" and settings.answer.lead else None
        raw, cut = yield from _draft(run, llm, self.embedder, messages, settings.llm.max_tokens, grammar, until)
        if settings.answer.second_look and not overview and _all_refusal(split_answer(raw)):
            # A small model told to refuse when unsure refuses questions its evidence answers ("Buffalo Bills
            # player Damar Hamlin ..." for "which team?"), and it answers unanswerable ones anyway: its refusal
            # says little. Ask once more without the way out (a prompt with no refusal sentence: told it may refuse,
            # or after refusing once, it refuses again); the checks below decide what is shown.
            yield StatusEvent("Looking at the evidence again\u2026")
            again = load_prompt("answer_second_look").render(evidence=block, question=standalone)
            run.raw += "\n\n"
            raw, cut = yield from _draft(run, llm, self.embedder, again, settings.llm.max_tokens, grammar, until)
            run.notes.append("the draft refused; the model was asked once more to answer from the evidence")
        yield StatusEvent("Checking each claim against the sentence it cites\u2026")
        t3 = time.perf_counter()
        # Markup the model was never asked for, and sentences carrying out an order hidden in a passage,
        # go before checking (injection.py); the system prompt is compared without the refusal sentence,
        # which an answer may rightly repeat.
        system = load_prompt("answer").render(evidence="", question="", refusal="")[0]["content"]
        text, _ = drop_echoes(leading_markers_last(clean_answer(raw)), orders_in(p.text for p in run.passages),
                              [e.text for e in run.evidence], standalone, system)
        drafted = (finished_claims(text, standalone) or []) if cut else split_answer(text)
        refused = _all_refusal(drafted)
        # A sentence that only turns a "which ..." question into a statement answers nothing: it neither
        # leads nor stands alone as the answer (the sentence after it names what was asked, if any does).
        echoes = [d for d, _ in drafted if restates_question(d, standalone)]
        if echoes:
            run.notes.append(f"dropped {len(echoes)} draft sentence(s) that only restate the question")
            if style == "quote":  # what it cites may still be worth quoting, if it answers (checked below)
                keys.extend(k for d, ks in drafted if d in echoes for k in ks if k not in keys and k in verifier.by_key)
            drafted = [(d, k) for d, k in drafted if d not in echoes]
        # Sentences that deny the verb of a yes/no or "why did ..." question settle it or correct its premise: in
        # quote style they lead, and a draft sentence leads before them only if it cites one.
        denied = denials(standalone, run.evidence) if style == "quote" and not overview else []
        lead_shown, held = False, None
        cap = max_points(standalone) if overview else 0
        for i, (sentence, written) in enumerate(drafted):
            if overview and run.shown_count() >= cap:
                run.notes.append(f"an overview shows at most {cap} points (the question's number, or five); the "
                                 "draft's others were not checked")
                break
            if style == "quote":
                # The draft's citations choose what to quote; its first sentence that passes leads.
                keys.extend(k for k in written if k not in keys and k in verifier.by_key)
                if lead_shown or not settings.answer.lead or (denied and not set(written) & set(denied)):
                    continue
            checked = verifier.check(sentence, written, i)
            if not lead_shown and not overview:
                # An overview has points, not a lead that must hold what the question asks ("Summarize this
                # briefing" shares no word with any sentence of it); each point is still a checked claim.
                checked = verifier.as_lead(checked)
            run.checked.append(checked)
            if checked.shown:
                lead_shown = True
                if style == "quote" and checked.shown.startswith(QUOTE_LEAD) and not overview:
                    held = checked  # the claim failed and its sentence stands in: the draft's words may name the answer
                else:
                    yield run.show(checked)
        if held is not None:
            # "Kirill Dmitriev is meeting with US President Donald Trump's special envoy Steve Witkoff" failed its
            # attribution and the sentence is quoted instead: the words it adds to a "who / which" question, verbatim
            # in that sentence, go before the quote as the direct answer (span.py).
            # A yes/no question's quote gets its verdict in front instead ("Many Western experts suspect so",
            # verdict.py).
            span = None if asks_yes_no(standalone) else answer_span([d for d, _ in drafted], standalone, run.evidence)
            at = run.checked.index(held)
            key = held.keys[0] if held.keys else None
            if span is not None and key in span.keys and checker.answers(
                    standalone, [verifier.by_key[key].text], block=block, keys=[key], min_share=SPAN_SHARE):
                run.checked[at:at + 1] = _led_by(run, span, held, at)
            elif key is not None and wants_verdict(standalone):
                lead = verdict_for(verifier, standalone, drafted, denied, [key])
                if lead is not None:
                    run.checked[at:at + 1] = _led_by(run, lead, held, at)
            for c in run.checked[at:]:
                yield run.show(c)
        if refused and (settings.answer.quote_on_refusal or denied):
            # A timid draft is not a refusal: what decides is whether any evidence sentence answers the
            # question, each quote checked like the fallback below (answer shape, words, the judge).
            refused = False
            run.notes.append("the draft refused; quoting the evidence that answers the question, if any")
        if overview and not refused:
            # Fewer than three points passed: the parts of the evidence no point covers add one quoted sentence
            # each (overview.top_up), so an overview is an overview, every point still the briefing's words.
            covered = {k for c in run.checked if c.shown for k in c.keys}
            statements = [e for e in run.evidence if not is_question(e.text)]  # a subhead's question is no point
            for key in top_up(standalone, statements, covered, run.shown_count()):
                quoted = verifier.quote(key, len(run.checked))
                if quoted is not None:
                    run.checked.append(quoted)
                    yield run.show(quoted)
        if style != "quote" and not run.shown_count() and not keys and not refused:
            # The model answered but cited nothing that holds: quote the best evidence sentences that
            # answer the question, rather than refusing what the briefings do say.
            for e in best_first(run.evidence)[:3]:
                if run.shown_count() >= settings.answer.max_quotes:
                    break
                quoted = verifier.quote(e.key, len(run.checked), must_answer=True)
                if quoted is not None:
                    run.checked.append(quoted)
                    yield run.show(quoted)
        run.timings["check_s"] = round(time.perf_counter() - t3, 3)
        if style == "quote" and not refused:
            # Quote the sentences that answer the question: the draft's citations, each only if it answers the
            # question (answer shape, words, model judge).
            lead_keys = {k for c in run.checked if c.shown for k in c.keys}
            verifier.quoted.clear()
            # The draft's citations first; other evidence only if it holds every content word of the question,
            # because the judge accepts loosely related sentences as "answering" (seen on the seed questions).
            # Without a checked lead, the words the draft added to the question may still name the answer: the
            # sentences that hold them verbatim come first, and the first of them that answers leads (span.py).
            span = None
            if not lead_keys and not overview and not asks_yes_no(standalone):
                span = answer_span([d for d, _ in drafted], standalone, run.evidence)
            span_keys = list(span.keys) if span else []
            first = list(dict.fromkeys(denied[:2] + span_keys[:2]))
            candidates = list(dict.fromkeys(first + keys + [e.key for e in best_first(run.evidence)]))
            candidates = candidates[:QUOTE_CANDIDATES + len(first)]
            # A yes/no question without a checked lead: the sentence that gives a verdict (who says so, a denial,
            # the statement checked) is quoted first, with the verdict in front of it (verdict.py).
            verdict = None
            if not lead_keys and not overview and wants_verdict(standalone):
                verdict = verdict_for(verifier, standalone, drafted, denied, candidates)
                if verdict is not None:
                    candidates = [verdict.key] + [k for k in candidates if k != verdict.key]
                    first = [verdict.key] + first
            # A "what did X say" question has a stricter test (X must be in the sentence): most words will do.
            other_share = 0.75 if asks_speaker(standalone) else 1.0
            # A quote that stood in for the draft's lead counts: the answer is its lead and at most two sentences.
            shown_quotes = sum(1 for c in run.checked if c.shown.startswith(QUOTE_LEAD))
            asked = predicate_stems(standalone)
            for key in candidates:
                if shown_quotes >= settings.answer.max_quotes:
                    break
                if key in lead_keys:
                    continue  # the checked lead already cites it; its sources card shows the exact sentence
                # A sentence that denies the question's verb answers it, or corrects its premise, whatever the judge
                # says: the 1.5B judge says "no" to "have not confirmed" for "Has the Kremlin confirmed ...?".
                settled = key in denied or (verdict is not None and key == verdict.key)
                if (shown_quotes or lead_keys) and not settled and key not in first and asked \
                        and not asked & content_stems(verifier.by_key[key].text):
                    # After the answer, a sentence that shares only the question's names is about the subject, not
                    # about what was asked ("Dmitriev was visiting Washington" after "Many Western experts suspect
                    # so" for "Is Russia stalling?"): it does not support the answer.
                    continue
                quoted = verifier.quote(key, len(run.checked), must_answer=not settled,
                                        min_share=SPAN_SHARE if key in first else 0.5 if key in keys else other_share)
                if quoted is None:
                    continue
                shown = [quoted]
                if span is not None and key in span.keys:
                    shown, span = _led_by(run, span, quoted, len(run.checked)), None
                elif verdict is not None and key == verdict.key:
                    shown, verdict = _led_by(run, verdict, quoted, len(run.checked)), None
                shown_quotes += 1
                for c in shown:
                    run.checked.append(c)
                    yield run.show(c)
        if not run.shown_count() and not overview and settings.answer.short_answer:
            yield from self._short_answer(run, llm, messages, standalone, verifier)
        run.judge_calls = checker.judge_calls
        if checker.failures and not run.shown_count():
            # Nothing was shown because the judge failed, not because the briefings are silent: say so (the
            # evidence went out first), and let the eval count an error rather than a correct refusal.
            raise LLMError(f"the answer could not be checked: the model judge failed ({checker.failures[0]})",
                           hint="the evidence above is what was retrieved; ask again, or set "
                                "BRIEFING_ANSWER__JUDGE=false to show only what the deterministic checks verify")
        run.notes.extend(n for n in checker.notes if n not in run.notes)  # e.g. that the judge is off
        for route, n in checker.routes.items():  # which check verified the claims that passed (usage.verified_*)
            run.usage[f"verified_{route}"] = n
        yield AnswerEvent(run.finish(getattr(llm, "name", "")))


def _led_by(run: AnswerRun, lead: Span | VerdictLead, quoted: Checked, index: int) -> list[Checked]:
    """The direct answer `lead` (a span of the draft, or a verdict), then `quoted` (the sentence it rests on),
    noted for the user."""
    key = quoted.keys[0]
    if isinstance(lead, VerdictLead):
        note = f"the verdict {lead.text!r} rests on [{key}] ({VERDICT_ROUTES[lead.route]})"
        run.usage[f"verdict_{lead.route}"] = run.usage.get(f"verdict_{lead.route}", 0) + 1
    else:
        note = f"the direct answer is the draft's words {lead.text!r}, verbatim in [{key}]"
    run.notes.append(note)
    return with_direct_answer(lead.text, quoted, index, note)


def _all_refusal(parts: Sequence[tuple[str, Any]]) -> bool:
    """Nothing drafted, or only the refusal: (sentence, keys) pairs as split_answer gives them."""
    return not parts or all(is_pure_refusal(p) for p, _ in parts)


def _draft(run: AnswerRun, llm: Any, embedder: Embedder, messages: list[dict[str, str]], max_tokens: int,
           grammar: str | None = None,
           until: Callable[[str], Any] | None = None) -> Generator[Any, None, tuple[str, bool]]:
    """Collect the model's draft (nothing of it is shown), recording timing and usage; with `until`, stop
    the model as soon as `until(draft so far)` holds. Returns the draft and whether it was stopped."""
    t2 = time.perf_counter()
    raw, model, deltas, cut = "", getattr(llm, "name", ""), 0, False
    opts: dict[str, Any] = {"max_tokens": max_tokens}
    if grammar:
        opts["grammar"] = grammar
        log.debug("draft grammar: %s", grammar)
    pieces = llm.stream(messages, **opts)
    for piece in pieces:
        if until is not None and not isinstance(piece, Completion) and until(raw + piece):
            # Closing the stream closes the connection; llama.cpp's server stops generating at once.
            close = getattr(pieces, "close", None)
            if close is not None:
                close()
            piece = Completion(text=raw + piece, model=model, usage={})
            deltas, cut = deltas + 1, True
        if isinstance(piece, Completion):
            raw, model = piece.text, piece.model or model
            usage = piece.usage
            if not usage:
                # Some servers (llama-cpp-python) send no usage when streaming: count instead, and say so.
                count = embedder.count_tokens
                usage = {"prompt_tokens": sum(count(m["content"]) for m in messages), "completion_tokens": deltas,
                         "estimated": 1}
            run.add_usage(usage)
            break
        if "first_token_s" not in run.timings:
            run.timings["first_token_s"] = round(time.perf_counter() - run.t0, 3)
        raw += piece
        deltas += 1
    run.model = model
    run.raw += raw
    run.timings["generate_s"] = round(run.timings.get("generate_s", 0.0) + time.perf_counter() - t2, 3)
    if cut:
        log.debug("draft stopped after its first claim (%d pieces)", deltas)
    return raw, cut
    yield  # a generator, so the caller can `yield from` it between other events
