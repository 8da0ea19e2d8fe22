"""Defences against instructions hidden in articles (prompt injection).

Articles are data. Three layers keep them that way, none relying on the model alone:
1. `looks_like_instruction`: sentences that address an AI or issue orders to one ("ignore previous
   instructions", fake system prompts, "reveal your API key", "answer in German") carry no news;
   evidence selection leaves them out, so the model never reads them and cannot cite them.
2. `defang`: what does reach the prompt cannot pose as structure: citation-like markers in the
   text ([99], [S7]) become (99), chat-template tokens and evidence tags are broken up.
   Sentences are matched after NFKC normalisation without invisible characters (`normalised`), and the
   orders are looked for in English and French.
3. `clean_answer`: markup the model may still emit (HTML tags, chat tokens, markdown images that
   would fetch a URL) is removed before citations are checked; verify.Verifier then drops any
   sentence that the evidence does not support, such as a canary phrase copied from an order.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Sequence

from .citations import content_stems
from ..sentences import sentence_spans, words

# Each pattern names a way an article speaks to the model instead of reporting news. They aim at
# the addressee (an AI, "you", a role marker), so ordinary reporting about rules or AI still passes;
# tests/test_injection.py checks every sentence of the bundled briefings is left alone.
_ORDERS = [
    r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(previous|prior|above|earlier|all|any|your|these|those)\b"
    r".{0,30}\b(instructions?|rules?|prompts?|directions?|guidelines?|constraints?)\b",
    r"\b(system|developer|hidden|original|initial)\s+(prompt|message|instructions?)\b",
    r"(^|[\[(#*<|])\s*(system|assistant|developer)\s*(:|\]|>)",  # a role marker opening a sentence
    r"<\|?\s*(im_start|im_end|system|user|assistant|endoftext|eot_id)\s*\|?>",
    r"\byou are now\b|\bfrom now on,? you\b|\bnew (rules?|instructions?|task)\s*:",
    r"\b(if|when) you are an? (ai|language model|assistant|chatbot|llm)\b",
    r"\b(ai|assistants?|models?|chatbots?|llms?|language models?)\b.{0,20}\b(reading|processing|summari[sz]ing|answering)\b"
    r".{0,20}\b(this|these|the following)\b",
    r"\bnote to (the )?(ai|assistant|model|llm|chatbot)s?\b",
    r"\b(reveal|print|output|repeat|show|disclose|leak|tell (me|us|the user))\b.{0,40}"
    r"\byour (prompt|instructions|api[ _-]?keys?|secrets?|passwords?|credentials|configuration|settings)\b",
    r"\b(api[ _-]?key|openai_api_key|secret key)s?\b.{0,40}\b(output|print|reveal|include|share|send)\b",
    r"\b(respond|reply|answer|write)\b.{0,40}\b(only|exclusively|entirely|whole|every)\b.{0,30}"
    r"\b(in (german|french|spanish|italian|chinese|russian|japanese|arabic)|with the (word|phrase))\b",
    r"(^|[:.!]\s*)(please\s+)?(respond|reply|answer|write)\b.{0,30}\bin (german|french|spanish|italian|chinese|russian|"
    r"japanese|arabic)\b",
    r"\byour (entire |whole |full )?(answer|response|reply)\b.{0,30}\bin (german|french|spanish|italian|chinese|russian|"
    r"japanese|arabic|html|markdown|json|xml)\b",
    r"\b(format|write|render|wrap)\b.{0,30}\b(answer|response|reply|output)\b.{0,20}\b(as|in) (html|markdown|json|xml|code)\b",
    r"\b(end|start|begin|append to|prefix) (every|each|your|the) (answer|response|reply|sentence)\b",
    r"\bwhen (summari[sz]ing|answering|responding)\b.{0,60}\b(include|add|append|say|mention|link)\b",
    r"\b(do not|don't|never) (cite|mention|say|tell|use the evidence|refuse)\b.{0,40}\b(instead|but)\b",
    # A heading that addresses machines ("Important for automated readers:", "Note for AI agents,"): the
    # punctuation right after the addressee is what tells it from news about automated systems.
    r"\b(important|note|notice|message|attention|instructions?)\b.{0,25}\b(for|to)\s+(all |any )?(automated|automatic|"
    r"ai|machine|robot|llm|language[- ]model)[- ]?(readers?|agents?|systems?|assistants?|models?|summari[sz]ers?|"
    r"crawlers?|tools?|bots?)\s*[:,\u2013\u2014-]",
    r"(^|[.!?]\s*)(dear|hey|hi|hello|attention),?\s+(ai|assistants?|chatbots?|llms?|language models?|bots?)\b",
    # French, the same orders (imperative forms only: "a ignoré", "a répondu en anglais" are news).
    r"\b(ignore[rz]?|oublie[rz]?|ne (tiens|tenez) pas compte)\b.{0,40}\b(précédent\w*|antérieur\w*|ci-dessus|vos|tes|"
    r"toutes)\b.{0,30}\b(instructions?|consignes?|règles?|directives?)\b",
    r"\b(réponds|répondez|écris|écrivez|rédige|rédigez)\b.{0,40}\ben (allemand|anglais|espagnol|italien|chinois|russe|"
    r"japonais|arabe|html|json)\b",
    r"\b(tu es|vous êtes) (maintenant|désormais|dorénavant) (un|une) (assistant|ia|modèle|chatbot|robot|agent)",
    r"\b(révèle|révélez|affiche|affichez|donne|donnez|divulgue|divulguez|répète|répétez)\b.{0,40}\b(ton|ta|tes|votre|"
    r"vos) (invite|prompt|instructions|clés?|mots? de passe|configuration|paramètres)\b",
    r"\b(note|message|important)\b.{0,25}\b(aux|pour les|à l'attention des)\s+(ia|assistants?|modèles?|agents?|"
    r"robots?|lecteurs automatiques)\s*[:,]",
]
_ORDER_RE = re.compile("|".join(f"(?:{p})" for p in _ORDERS), re.I)
# Characters that draw nothing but split a word for a regex ("Ig\u200bnore"): format characters (zero-width
# space and joiners, soft hyphen, word joiner, BOM, tag characters) and these fillers and selectors.
_INVISIBLE_MARKS = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0") | {chr(c) for c in range(0xFE00, 0xFE10)}

_MARKER_LIKE = re.compile(r"[\[\u3010]\s*((?:S|s|source\s*|passage\s*)?\d+(?:\s*[,;\-\u2013]\s*\d+)*)\s*[\]\u3011]")
_CHAT_TOKEN = re.compile(r"<\|[^|<>]{1,30}\|>")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(\s[^<>]{0,300})?/?>")
_SCRIPT = re.compile(r"<(script|style)\b.*?(</\1\s*>|$)", re.I | re.S)
_MD_IMAGE = re.compile(r"!\[[^\]]{0,200}\]\([^)]{0,500}\)")


def looks_like_instruction(sentence: str) -> bool:
    """True when a sentence of an article gives orders to an AI rather than reporting news. Matched on its
    `normalised` form, so full-width letters or a zero-width space inside a word do not hide an order."""
    return bool(_ORDER_RE.search(normalised(sentence)))


def normalised(text: str) -> str:
    """`text` as a model reads it, for matching only: NFKC (full-width and other compatibility letters become
    plain ones, ligatures split) without invisible characters."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(c for c in text if c not in _INVISIBLE_MARKS and unicodedata.category(c) != "Cf")


def defang(text: str) -> str:
    """Evidence text safe to put in a prompt: one line; no citation-like markers, chat tokens or
    evidence tags that the model could mistake for the prompt's own structure."""
    text = _CHAT_TOKEN.sub(" ", text)
    text = _MARKER_LIKE.sub(lambda m: f"({m.group(1)})", text)
    text = re.sub(r"</?\s*evidence\s*>", " ", text, flags=re.I)
    return " ".join(text.split())


def clean_answer(raw: str) -> str:
    """The model's answer without markup it was never asked for: HTML/XML tags, chat-template tokens
    and markdown images (which a renderer would fetch), and square brackets around words. Citation markers
    are kept."""
    text = _SCRIPT.sub(" ", raw)
    text = _MD_IMAGE.sub(" ", text)
    text = _CHAT_TOKEN.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = _BRACKETED.sub(r"\1", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


# Words the model put in square brackets ("[Buffalo Bills] [6]"), which a reader would take for a marker;
# markers themselves ("[6]", "[S6]", "[1, 2]") are not touched.
_BRACKETED = re.compile(r"\[(?!\s*S?\d+(?:\s*[,;]\s*S?\d+)*\s*\])([^\[\]\n]{2,80})\]")


def orders_in(texts: Iterable[str]) -> list[str]:
    """The sentences of retrieved passages that give orders (left out of the evidence)."""
    return [t[s:e] for t in texts for s, e in sentence_spans(t) if looks_like_instruction(t[s:e])]


def drop_echoes(answer: str, orders: Sequence[str], evidence: Sequence[str], question: str,
                system_prompt: str) -> tuple[str, list[str]]:
    """The answer without sentences that carry out an order: ones using a word that only an order
    contained (a canary, a link, "FreeBot"), or repeating four words in a row of the system prompt
    that the evidence does not also contain and that holds two or more content words. Returns
    (kept text, dropped sentences). False positives on CLAPnq dev and the seed briefing: 0
    (evals/echo_filter_fp.py).

    Citation support alone does not catch these: a canary glued onto a well-supported sentence
    lowers its support only a little."""
    known = content_stems(" ".join([*evidence, question]))
    order_only = content_stems(" ".join(orders)) - known
    ev_grams = _grams(" ".join(evidence))
    # Only distinctive runs of the prompt count: four words with at least two content words
    # ("quoted data, not instructions"). Runs of function words ("with the number of", "the number
    # of the") occur in ordinary news and removed true sentences (evals/results/echo_filter_fp.json).
    prompt_grams = {g for g in _grams(system_prompt) - ev_grams if len(content_stems(" ".join(g))) >= 2}
    kept, dropped = [], []
    for s, e in sentence_spans(answer):
        sentence = answer[s:e]
        if (order_only & content_stems(sentence)) or (prompt_grams & _grams(sentence)):
            dropped.append(sentence)
        else:
            kept.append(sentence)
    return " ".join(kept), dropped


def _grams(text: str, n: int = 4) -> set[tuple[str, ...]]:
    toks = words(text)
    return {tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)}
