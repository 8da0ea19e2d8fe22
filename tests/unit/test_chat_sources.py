"""The sources footer and url_citation annotations built from citation records (records.citation_record shape)."""

from __future__ import annotations

import re

from assistant.app.chat_sources import (safe_url, source_entries, sources_footer, url_annotations, without_footer,
                                        without_footers)


def cite(key, quote, url="https://news.example/envoy", title="Envoy in Washington", source="Semafor",
         date="2025-04-02"):
    return {"key": key, "article_id": "a-1", "title": title, "source": source, "url": url, "date": date,
            "quote": quote, "start": 0, "end": len(quote), "support": 0.9}


ANSWER = "Yes [3]. Experts suspect stalling [3][7]. Not cited [9]."


def test_footer_numbers_sources_by_the_answers_keys_with_their_quotes():
    cites = [cite(7, "Talks resume in Riyadh.", url="", title="Talks", source="", date=""),
             cite(3, "Many experts suspect stalling."), cite(3, "Many experts suspect stalling.")]
    footer = sources_footer(cites)
    assert footer == ("\n\n---\nSources:\n\n"
                      "[3] Envoy in Washington \u2014 Semafor, 2025-04-02 \u2014 https://news.example/envoy\n"
                      "> \u201cMany experts suspect stalling.\u201d\n\n"
                      "[7] Talks \u2014 undated\n"
                      "> \u201cTalks resume in Riyadh.\u201d")
    assert sources_footer([]) == ""


def test_a_key_quoting_two_sentences_lists_both():
    [entry] = source_entries([cite(1, "First."), cite(1, "Second."), cite(1, "First.")])
    assert entry.quotes == ("First.", "Second.")
    assert "> \u201cFirst.\u201d\n>\n> \u201cSecond.\u201d" in sources_footer([cite(1, "First."), cite(1, "Second.")])


def test_untrusted_article_text_cannot_make_links_images_or_html():
    footer = sources_footer([cite(1, "See ![x](https://evil.example/p.png) <img src=x>",
                                  title="[Click](javascript:alert(1))", url="javascript:alert(1)")])
    body = footer.split("[1] ", 1)[1].replace("\n> ", "\n")  # after the key label, without the quote marks
    assert not re.search(r"(?<!\\)[\[\]<>`]", body), body  # every bracket escaped: no link, image or tag
    assert "\\[Click\\](javascript:alert(1))" in body and "\\<img src=x\\>" in body
    assert "\u2014 javascript:" not in body  # a non-http URL is not shown
    assert safe_url("javascript:alert(1)") == "" and safe_url("https://a.example/x y") == ""
    assert safe_url(" http://a.example/x?y=1 ") == "http://a.example/x?y=1"


def test_annotations_point_each_marker_at_its_url():
    cites = [cite(3, "q"), cite(7, "r", url="")]  # [7] has no URL, [9] was never cited
    notes = url_annotations(ANSWER, cites)
    assert [(n["url_citation"]["start_index"], n["url_citation"]["end_index"]) for n in notes] == [
        (ANSWER.index("[3]"), ANSWER.index("[3]") + 3), (ANSWER.index("[3][7]"), ANSWER.index("[3][7]") + 3)]
    for n in notes:
        assert n["type"] == "url_citation"
        u = n["url_citation"]
        assert ANSWER[u["start_index"]:u["end_index"]] == "[3]"
        assert u["url"] == "https://news.example/envoy" and u["title"] == "Envoy in Washington"
    assert url_annotations(ANSWER, []) == []


def test_an_answer_sent_back_as_history_loses_its_footer():
    answer = "Yes, they are stalling [3]."
    sent = answer + sources_footer([cite(3, "Many experts suspect stalling.")])
    assert without_footer(sent) == answer and without_footer(answer) == answer
    history = [{"role": "user", "content": "q"}, {"role": "assistant", "content": sent}, "odd"]
    assert without_footers(history) == [{"role": "user", "content": "q"}, {"role": "assistant", "content": answer},
                                        "odd"]
