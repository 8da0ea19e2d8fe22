"""Citation parsing, validation, quote location, repair and refusal, with a deterministic embedder."""

from assistant.answer.citations import is_refusal, parse_keys, split_answer
from assistant.answer.verify import validate
from assistant.types import REFUSAL, EvidenceSentence

from ..support.fakes import FakeEmbedder

BODY = (
    "Talks stalled in March. Many Western experts suspect Russia is stalling for time as its troops advance. "
    "China and Russia said they are friends forever. Trump may use sanctions on Russian oil buyers."
)


def _evidence():
    out = []
    pos = 0
    for key, sent in enumerate(["Talks stalled in March.",
                                "Many Western experts suspect Russia is stalling for time as its troops advance.",
                                "China and Russia said they are friends forever.",
                                "Trump may use sanctions on Russian oil buyers."], 1):
        start = BODY.index(sent, pos)
        out.append(EvidenceSentence(key=key, article_id="a1", chunk_id="c1", text=sent, start=start,
                                    end=start + len(sent), score=0.5, title="T"))
        pos = start
    return out


def run(raw, min_support=0.42, repair=0.55):
    return validate(raw, _evidence(), {"a1": BODY}, FakeEmbedder(), min_support, repair)


def test_parse_keys_forms():
    assert parse_keys("1, 3") == [1, 3]
    assert parse_keys("2-4") == [2, 3, 4]
    assert parse_keys("S2") == [2]
    assert parse_keys("1-99") == []  # absurd ranges are ignored, not expanded


def test_split_answer_moves_trailing_markers_to_their_sentence():
    parts = split_answer("Russia is stalling. [2] China is a friend [3][1]. Oil [x] sanctions [4, 2].")
    assert parts[0] == ("Russia is stalling.", [2])
    assert parts[1] == ("China is a friend.", [3, 1])
    assert parts[2][1] == [4, 2]
    assert "[x]" in parts[2][0]  # malformed markers are not keys


def test_valid_citation_is_verbatim_at_offsets():
    v = run("Many Western experts suspect Russia is stalling for time as its troops advance [2].")
    assert v.answerable
    (c,) = v.citations
    assert c.key == 2 and BODY[c.start:c.end] == c.quote and not c.repaired
    assert v.text.endswith("[2].")


def test_unknown_and_out_of_range_keys_are_dropped_and_repaired():
    v = run("Many Western experts suspect Russia is stalling for time as its troops advance [9].")
    assert v.answerable
    (c,) = v.citations
    assert c.key == 2 and c.repaired
    assert "dropped unknown key(s) [9]" in v.sentences[0].note


def test_uncited_but_clearly_supported_sentence_gets_attached():
    v = run("China and Russia said they are friends forever.")
    assert [c.key for c in v.citations] == [3] and v.citations[0].repaired


def test_wrong_key_is_replaced_when_another_clearly_supports():
    v = run("Trump may use sanctions on Russian oil buyers [3].")
    assert [c.key for c in v.citations] == [4] and v.citations[0].repaired
    assert "replaced [3] with [4]" in v.sentences[0].note


def test_unsupported_sentence_is_flagged_and_dropped():
    v = run("Many Western experts suspect Russia is stalling for time as its troops advance [2]. The moon is made of green cheese [1].")
    assert v.answerable
    assert "cheese" not in v.text
    dropped = [s for s in v.sentences if not s.kept]
    assert len(dropped) == 1 and "not stated by its evidence" in dropped[0].note


def test_nothing_supported_becomes_the_refusal():
    v = run("The population of Ukraine is about forty million people [1].")
    assert not v.answerable and v.text == REFUSAL and v.citations == []
    assert v.sentences and not v.sentences[0].kept


def test_refusal_sentinel_and_paraphrase():
    assert not run(REFUSAL).answerable
    assert is_refusal("The briefings do not say.")
    assert not is_refusal("The briefings say Russia is stalling.")


def test_bare_yes_is_joined_to_its_claim_and_dropped_without_a_judge():
    # "Yes." asserts the question's premise; only the model judge, asked with the question, may keep it.
    v = run("Yes. Many Western experts suspect Russia is stalling for time as its troops advance [2].")
    assert v.text == "Many Western experts suspect Russia is stalling for time as its troops advance [2]."
    assert [c.key for c in v.citations] == [2]


def test_quoted_words_narrow_the_span():
    v = run('Many Western experts say Russia is "stalling for time as its troops advance" [2].')
    (c,) = v.citations
    assert c.quote == "stalling for time as its troops advance" and BODY[c.start:c.end] == c.quote


def test_a_quotation_the_briefing_quotes_keeps_its_speaker_in_the_citation():
    from assistant.answer.citations import cite
    from assistant.types import EvidenceSentence

    body = "Dmitriev’s trip comes after China’s foreign minister said in Moscow that “China and Russia are friends forever.” More."
    text = body[:body.index(" More.")]
    ev = EvidenceSentence(key=1, article_id="a", chunk_id="a:0", text=text, start=0, end=len(text), score=1.0)
    c = cite(ev, "China's foreign minister said \"China and Russia are friends forever.\" [1]", {"a": body}, 0.9, 0, False)
    assert c.quote == text and "foreign minister said" in c.quote


def test_evidence_not_verbatim_is_never_cited():
    ev = _evidence()
    v = validate("Many Western experts suspect Russia is stalling for time as its troops advance [2].", ev,
                 {"a1": BODY.replace("stalling", "waiting")}, FakeEmbedder(), 0.42, 0.55)
    assert all(c.key != 2 for c in v.citations)


def test_a_claim_that_needs_two_citations_is_not_shown_with_the_one_left():
    """Issue 27: a claim judged against [1] and [2] was shown citing [1] alone when [2] failed to cite
    (no longer verbatim in its briefing), though [1] alone does not state it."""
    ev = _evidence()
    claim = "Talks stalled in March, and many Western experts suspect Russia is stalling for time as its troops advance [1][2]."
    whole = validate(claim, ev, {"a1": BODY}, FakeEmbedder(), 0.42, 0.55)
    assert whole.answerable and sorted(c.key for c in whole.citations) == [1, 2]
    broken = validate(claim, ev, {"a1": BODY.replace("stalling for time", "waiting it out")}, FakeEmbedder(), 0.42, 0.55)
    assert not any(c.key == 1 and "experts" in s.text for s in broken.sentences if s.kept for c in broken.citations), \
        broken.sentences
    assert all("experts" not in s.text for s in broken.sentences if s.kept and 1 in s.keys and 2 not in s.keys)


def test_markers_written_at_the_start_of_lines_belong_to_their_own_line():
    from assistant.answer.citations import leading_markers_last

    draft = ("[1] Dmitriev was reportedly visiting Washington.\n[3] Dmitriev is expected to meet Witkoff.\n"
             "[2][4] - Russia and China reaffirm ties.")
    assert split_answer(leading_markers_last(draft)) == [
        ("Dmitriev was reportedly visiting Washington.", [1]), ("Dmitriev is expected to meet Witkoff.", [3]),
        ("Russia and China reaffirm ties.", [2, 4])]
    # Markers already at the end of a sentence, and markers inside a line, are left where they are.
    assert leading_markers_last("Dmitriev will meet Witkoff [2]. He may meet others [1].") == \
        "Dmitriev will meet Witkoff [2]. He may meet others [1]."
