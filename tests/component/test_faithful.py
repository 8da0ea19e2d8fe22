"""Issue 12's leaks, one regression test each: no sentence reaches a user without a verbatim citation
that passed the entailment check, on any path (Python, stream, JSON, CLI). Each of these passed on
the code before the Verifier (it shipped the leak)."""

from __future__ import annotations

import json
import re
from datetime import date

from assistant.answer.evidence import select_evidence
from assistant.answer.verify import validate
from assistant.app.cli import main
from assistant.answer.entailment import Checker
from assistant.answer.guards import check_attribution, check_names, check_polarity, run_guards
from assistant.answer.quantities import check_numbers
from assistant.types import REFUSAL, AnswerEvent, EvidenceEvent, Passage, StatusEvent, TextDelta

from ..support.fakes import FakeEmbedder
from ..unit.test_citations import BODY, _evidence

STALLING = "Many Western experts suspect Russia is stalling for time as its troops advance"


def run(raw: str, **kw):
    return validate(raw, _evidence(), {"a1": BODY}, FakeEmbedder(), **kw)


def assert_every_sentence_cited(text: str, citations) -> None:
    """What the user reads is a run of sentences each ending in markers, every marker a citation."""
    assert re.fullmatch(r"(?:[^\[\]]+?(?:\[\d+\])+[.!?]?\s*)+", text), text
    assert set(map(int, re.findall(r"\[(\d+)\]", text))) == {c.key for c in citations}


def test_a_leading_no_before_a_supported_sentence_does_not_ship():
    v = run(f"No. {STALLING} [2].")
    assert v.answerable and not v.text.lower().startswith("no")
    assert_every_sentence_cited(v.text, v.citations)


def test_yes_to_a_hedged_claim_is_not_kept_even_when_a_judge_would_say_yes():
    from ..support.fakes import ScriptedChat

    judge = ScriptedChat(["yes"] * 10)  # a judge that agrees with anything
    v = run(f"Yes, {STALLING[0].lower()}{STALLING[1:]} [2].", checker=Checker(judge, embedder=FakeEmbedder()),
            question="Is Russia stalling?")
    assert v.answerable and not v.text.startswith("Yes"), v.text


def test_a_claim_cited_to_the_wrong_sentence_is_shown_as_the_quote_that_says_it_with_who_says_so():
    """"Yes, Russia is stalling [1]" with [1] about stalled talks: the sentence that says it is [2], where
    experts suspect it; the user gets [2] quoted, not the claim and not [1]."""
    v = run("Yes, Russia is stalling for time [1].")
    assert v.text == ("The briefing says: \u201cMany Western experts suspect Russia is stalling for time as its "
                      "troops advance.\u201d [2]"), v.text
    assert [c.key for c in v.citations] == [2]


def test_a_lead_from_a_sentence_without_the_speaker_asked_about_is_withheld():
    """seed-06: "What did China's foreign minister say ...?" led with a think tank's proposal. A checked
    sentence opens the answer only when its sources hold who the question asks about."""
    from assistant.answer.verify import Verifier

    def lead(question: str):
        v = Verifier(_evidence(), {"a1": BODY}, FakeEmbedder(), Checker(embedder=FakeEmbedder()), question, "")
        return v.as_lead(v.check("China and Russia said they are friends forever.", [3], 0))

    assert lead("What did China say about Russia?").shown
    withheld = lead("What did China's foreign minister say about Russia?")
    assert withheld.shown == "" and not withheld.citations and withheld.layer == "question"


def test_a_lead_about_something_else_is_withheld():
    """Seen with whole passages as evidence: "How would Trump ratchet up pressure?" led with "The White House
    is reportedly frustrated ..." (faithful, cited, and no answer). A lead must share a word with the
    question, in its sentence or its sources."""
    from assistant.answer.verify import Verifier

    def lead(question: str, sentence: str, key: int):
        v = Verifier(_evidence(), {"a1": BODY}, FakeEmbedder(), Checker(embedder=FakeEmbedder()), question, "")
        return v.as_lead(v.check(sentence, [key], 0))

    off = lead("How would Trump most likely ratchet up pressure on Moscow?", "Talks stalled in March.", 1)
    assert off.shown == "" and off.layer == "question" and "not about the question" in off.note
    assert lead("How would Trump most likely ratchet up pressure on Moscow?",
                "Trump may use sanctions on Russian oil buyers.", 4).shown
    assert lead("When did the talks stall?", "Talks stalled in March.", 1).shown


def test_an_attributed_claim_still_keeps_the_evidence_hedge():
    """seed-14's false premise: "agreed to meet, Reuters reported" for "is expected to meet, Reuters reported"."""
    ev = "Dmitriev is expected to meet with envoy Steve Witkoff on Wednesday, CBS News and Reuters reported."
    assert check_attribution("Dmitriev and Witkoff agreed to meet on Wednesday, CBS News and Reuters reported.", ev)
    assert check_attribution("Dmitriev is expected to meet Witkoff on Wednesday, Reuters reported.", ev) == ""
    ev = "They were also concerned that they might lose their English cultural identity."
    assert check_attribution("They were also worried about losing their English cultural identity.", ev) == ""


def test_a_refusal_shaped_sentence_that_asserts_something_is_checked():
    v = run("The briefings don't say when, but Putin agreed to a ceasefire [1].")
    assert not v.answerable and v.text == REFUSAL and "Putin" not in v.text


def test_a_sentence_whose_citation_is_not_verbatim_is_not_shown():
    v = validate(f"{STALLING} [2].", _evidence(), {"a1": BODY.replace("stalling", "waiting")}, FakeEmbedder())
    assert "[2]" not in v.text and all(c.key != 2 for c in v.citations)
    if v.answerable:
        assert_every_sentence_cited(v.text, v.citations)


def test_unrelated_sentence_cited_for_a_yes_becomes_a_quote_or_nothing():
    # The first round's "Yes, Russia is stalling [1]" cited to a sentence about something else.
    v = run("Yes, Russia is stalling [1].")
    assert "Yes, Russia is stalling" not in v.text
    if v.answerable:
        assert_every_sentence_cited(v.text, v.citations)


def test_stream_carries_checked_sentences_only_and_ends_in_the_answer(fake_assistant, seed_dir, chat):
    assert fake_assistant.ingest([seed_dir]).added
    stream = fake_assistant.ask_stream("Is Russia stalling for time?")
    key = next(e.key for e in next(stream).evidence if "stalling for time" in e.text)
    stream.close()
    chat.enqueue(f"The moon is made of green cheese [{key}]. Many Western experts suspect Russian officials are "
                 f"stalling for time as Russian troops make progress [{key}].")
    events = list(fake_assistant.ask_stream("Is Russia stalling for time?"))
    assert isinstance(events[0], EvidenceEvent) and isinstance(events[-1], AnswerEvent)
    answer = events[-1].answer
    deltas = [e for e in events if isinstance(e, TextDelta)]
    statuses = [e for e in events if isinstance(e, StatusEvent)]
    assert deltas and "".join(d.text for d in deltas) == answer.text
    assert all("cheese" not in x.text for x in deltas + statuses)
    assert [c.key for d in deltas for c in d.citations] == [c.key for c in answer.citations]
    assert_every_sentence_cited(answer.text, answer.citations)
    # JSON (the CLI's --json and the Gradio API) carries no unchecked text unless debugging.
    blob = json.dumps(answer.to_dict())
    assert "cheese" not in blob and "raw_text" not in blob
    assert "cheese" in json.dumps(answer.to_dict(debug=True))


def test_cli_json_and_text_show_no_unchecked_sentence(fake_assistant, seed_dir, chat, capsys):
    assert fake_assistant.ingest([seed_dir]).added
    factory = lambda **overrides: fake_assistant  # noqa: E731 - the CLI builds its assistant with this
    chat.enqueue("The moon is made of green cheese [1].", "The moon is made of green cheese [1].")
    assert main(["ask", "What is the moon made of?", "--json"], factory=factory) == 0
    out = capsys.readouterr().out
    assert "cheese" not in out and json.loads(out)["text"] == REFUSAL
    assert main(["ask", "What is the moon made of?"], factory=factory) == 0
    captured = capsys.readouterr()
    assert "cheese" not in captured.out + captured.err


def test_a_date_must_be_the_cited_briefings_date_or_in_its_text():
    ev = ["She began the transfer to a penal colony, her lawyers said."]
    claim = "On 2022-08-05, her lawyers said she began the transfer to a penal colony."
    assert "date" in check_numbers(claim, ev[0], [date(2022, 11, 9)])
    assert check_numbers(claim, ev[0], [date(2022, 8, 5)]) == ""
    assert not Checker().check(claim, ev, published=[date(2022, 11, 9)]).supported


def test_a_section_heading_is_not_evidence(fake_assistant):
    text = ("TIMELINE: Events leading up to Brittney Griner's sentencing\n"
            "Griner was sentenced to nine years in a penal colony on August 4.")
    p = Passage(article_id="a", chunk_id="c", title="Griner", source="", published_at=None,
                section="TIMELINE: Events leading up to Brittney Griner's sentencing", text=text, start=0,
                end=len(text), score=1.0)
    q = "When was Griner sentenced?"
    ev = select_evidence(fake_assistant.embedder, q, FakeEmbedder().embed([q])[0], [p], 360)
    assert [e.text for e in ev] == ["Griner was sentenced to nine years in a penal colony on August 4."]


def test_guards_catch_each_kind_of_change():
    ev = "Many Western experts suspect they are stalling for time as Russian troops make progress on the battlefield."
    assert check_attribution("Russia is stalling for time.", ev)
    assert check_attribution("Western experts suspect Russia is stalling for time.", ev) == ""
    assert check_polarity("Russian troops are not making progress on the battlefield, experts suspect.", ev)
    assert check_polarity("No, experts suspect Russia is stalling.", ev)  # "No" then affirms
    assert check_names("Many Eastern experts suspect they are stalling.", ev)
    assert check_numbers("Three Western experts suspect they are stalling.", ev)
    ev2 = "Ukraine said it lost 2 million tonnes of grain, or 5% of the harvest."
    assert check_numbers("Ukraine said it lost two million tonnes, 5 percent of the harvest.", ev2) == ""
    assert check_numbers("Ukraine said it lost 20 million tonnes of grain.", ev2)


def test_guards_keep_true_claims_they_used_to_reject():
    """Each of these true claims (from the labelled set) was rejected by a guard before 2026-12-03."""
    # "States" in "the United States" is a name, not a hedge.
    ev = "Derek Cha, who immigrated to the United States from South Korea at the age of 12, is the founder of Sweet Frog."
    assert check_attribution("Derek Cha, who came to the US at 12, founded Sweet Frog.", ev) == ""
    # A claim that reports the view in its own words ("held that") keeps the attribution.
    ev = "Quesnay argued that the incidence of all taxation falls ultimately on landowners."
    assert check_attribution("Quesnay held that every tax is borne by landowners.", ev) == ""
    assert check_attribution("Every tax is borne by landowners.", ev)
    # A hedge does not reach past "although".
    ev = "It may be awarded to civilians under military command although no civilian has received the award since 1879."
    assert check_attribution("No civilian has received the award since 1879.", ev) == ""
    assert check_attribution("It is awarded to civilians under military command.", ev)
    # A claim that shares only names with a hedged sentence draws on the other sentences.
    ev = ("Frank was a prolific author, writing 40 books. Perhaps his most notable work is Capitalism and "
          "Underdevelopment in Latin America. Published in 1967, it was one of the formative texts in dependency theory.")
    assert check_attribution("Frank wrote 40 books, and his Capitalism and Underdevelopment in Latin America was "
                             "one of the formative texts of dependency theory.", ev) == ""
    assert check_attribution("His most notable work is Capitalism and Underdevelopment in Latin America.", ev)
    # A place and its adjective do not share a stem.
    assert check_names("The Roman references may have been to the hipposandal.", "these references in Rome may have been") == ""
    assert check_names("The Greek references may have been to the hipposandal.", "these references in Rome may have been")
    # "two thirds" is a fraction of three; "three quarters" is not "two thirds".
    ev = "Since 1857, two thirds of all awards have been personally presented by the British monarch."
    assert check_numbers("Two out of every three awards since 1857 were presented by the British monarch.", ev) == ""
    assert check_numbers("Since 1857, three quarters of all awards have been presented by the monarch.", ev)


def test_contrast_words_are_caught_as_swaps():
    """A direction, age or kin word swapped for its opposite is a changed fact, not a paraphrase."""
    assert check_polarity("The palace occupied the western part of the complex.",
                          "The palace occupied the eastern part of the complex.")
    assert check_polarity("Artifacts suggest the sun was used to reckon time.",
                          "Artifacts suggest the moon was used to reckon time.")
    assert check_polarity("The palace occupied the eastern part of the complex.",
                          "The palace occupied the eastern part of the complex.") == ""
    assert check_polarity("There are many low-hanging fruits left for Trump to aim at.",
                          "There are few low-hanging fruits left for Trump to aim at.")
    assert check_polarity("The blastocyst has a genome different from the original organism's.",
                          "This cell forms a blastocyst with an identical genome to the original organism.")


def test_names_that_trade_roles_are_caught():
    """Two names swapping places, and a seat of government present only through its country's alias,
    are changed facts: the names guard saw each name somewhere in the evidence and let both through."""
    ev = "The White House is reportedly growing increasingly frustrated at the Kremlin\u2019s slowwalking of ceasefire talks."
    assert check_names("The Kremlin is reportedly growing increasingly frustrated at the White House's slowwalking.", ev)
    assert check_names("Fontvieille is the oldest quarter and Monaco-Ville the newest.",
                       "From west to east they are: Fontvieille (the newest), Monaco-Ville (the oldest), La Condamine.")
    # "Ukraine" in the evidence made "Kyiv" look present, and "Russian" made "Moscow" look accounted for.
    ev = ("A senior Russian official said Russia can not accept a US proposal to end the war in Ukraine, "
          "arguing Washington\u2019s offer failed to address Moscow\u2019s concerns.")
    assert "stands where" in check_names("A senior Russian official argued that Washington's offer failed to address "
                                         "Kyiv's concerns.", ev)
    # The same facts, reworded, still pass: the true roles, a passive, a symmetric verb, the seat itself.
    assert check_names("The White House is reportedly frustrated at the Kremlin's slowwalking of the talks.",
                       "The White House is reportedly growing increasingly frustrated at the Kremlin\u2019s slowwalking.") == ""
    assert check_names("Monaco-Ville is the oldest quarter and Fontvieille the newest.",
                       "From west to east they are: Fontvieille (the newest), Monaco-Ville (the oldest), La Condamine.") == ""
    assert check_names("Homans was influenced by Blau.", "Blau influenced Homans.") == ""
    assert check_names("Trump met Putin in Alaska.", "Putin met Trump in Alaska.") == ""
    assert check_names("The official argued Washington's offer failed to address Moscow's concerns.", ev) == ""
    assert check_names("Beijing said it would buy more oil.", "China said it would buy more oil.") == ""


def test_a_claim_must_name_the_speaker_its_cited_sentence_names():
    """Seen on the seed set with whole passages as evidence: "Western experts" (from a neighbouring sentence
    of the same briefing, where names may be found) glued onto what "many analysts believe"."""
    ev = ("US officials have said they hope outreach to the Kremlin can split Moscow away, but many analysts "
          "believe Vladimir Putin is unlikely to be persuaded to turn on Beijing.")
    why = check_attribution("Western experts suspect Russia is stalling because they believe Vladimir Putin is "
                            "unlikely to be persuaded to turn on Beijing.", ev)
    assert "Western experts suspect" in why
    assert check_attribution("Many analysts believe Putin is unlikely to be persuaded to turn on Beijing.", ev) == ""
    assert check_attribution("US officials have said they hope to split Moscow away from Beijing.", ev) == ""
    # A reworded description with the same head noun, a name with its affiliation, and a passive still pass.
    assert check_attribution("Newer research says Pieter was probably a cousin of Jonas.",
                             "More recent research indicates that Pieter was probably Jonas' nephew or cousin.") == ""
    assert check_attribution("Louie Perez of Los Lobos said he was sure it was about a Mexican girl.",
                             "Los Lobos co-founder Louie Perez said that he was sure it was about a Mexican girl.") == ""
    # A name may stand for the cited sentence's description ("the Russian leader"): the names guard,
    # which reads the neighbouring sentences too, decides on names.
    assert check_attribution("Putin reportedly said any peace process would be a lengthy affair.",
                             "The Russian leader reportedly said that any peace process would be a lengthy affair.") == ""
    assert check_attribution("Her chances of survival are estimated at only 5 percent.",
                             "Her chance of survival is estimated at only 5 percent.") == ""


def test_keeping_the_likelihood_does_not_drop_who_says_so():
    """"Putin is unlikely to be persuaded" from "many analysts believe Putin is unlikely to be persuaded":
    the claim's own "unlikely" used to count as keeping the attribution."""
    ev = ("US officials have said they hope outreach to the Kremlin can split Moscow away, but many analysts "
          "believe Vladimir Putin is unlikely to be persuaded to turn on Beijing.")
    assert check_attribution("Putin is unlikely to be persuaded to turn on Beijing.", ev)
    assert check_attribution("Many analysts believe Putin is unlikely to be persuaded to turn on Beijing.", ev) == ""
    ev = ("There are few low-hanging fruits left, but a German sanctions expert argued that Washington could see "
          "success by targeting Russian liquid natural gas projects.")
    assert check_attribution("Washington could see success by targeting Russian liquid natural gas projects.", ev)
    # A "said" in a clause the claim does not draw on, and a hedged sentence cited beside an unhedged one, do not count.
    assert check_attribution(
        "Dmitriev may be trying to restart the stalled negotiations between the US and Russia.",
        "Dmitriev may be trying to restart seemingly stalled negotiations between the US and Russia after Trump "
        "earlier this week said he was angry with Putin.") == ""
    assert check_attribution(
        "If Trump decides to ratchet up the pressure on Russia, the most likely method is economic means.",
        "If Trump decides to ratchet up the pressure on Russia, the most likely method is economic means. Officials "
        "have discussed what to do if the US fails to secure a deal, the Washington Post reported.") == ""


def test_words_wrapped_around_a_copied_sentence_are_checked():
    """CLAPnq, shown as verified: "Charlotte Lucas was played by this biographical article needs additional
    citations ..." (a title's name glued to the article's boilerplate; the judge read the copied sentence)."""
    ev = ["This biographical article needs additional citations for verification , as it includes attribution to IMDb ."]
    checker = Checker(embedder=FakeEmbedder(), skip=("similarity",))
    v = checker.check("Charlotte Lucas was played by this biographical article needs additional citations for "
                      "verification, as it includes attribution to IMDb.", ev, context="Charlotte Lucas")
    assert not v.supported and v.layer == "addition" and "played" in v.reason
    # A frame that adds no fact, a name, or the sentence itself still pass.
    assert checker.check("According to the briefing, this biographical article needs additional citations for "
                         "verification, as it includes attribution to IMDb.", ev).supported
    ev = ["Dmitriev is expected to meet with envoy Steve Witkoff on Wednesday, CBS News and Reuters reported."]
    assert checker.check("Kirill Dmitriev is expected to meet with envoy Steve Witkoff on Wednesday, CBS News and "
                         "Reuters reported.", ev, context="Kirill Dmitriev").supported
    assert checker.check("Dmitriev is expected to meet with envoy Steve Witkoff on Wednesday, CBS News and Reuters "
                         "reported, to sign a deal.", ev).layer == "addition"


def test_a_reported_statement_stays_reported():
    """Dev row seed-025: "Putin has privately said ..." from "The Russian leader reportedly said ..." keeps who
    spoke and drops that it is only reported."""
    ev = ("The Russian leader reportedly said in a recent closed-door meeting that any peace process would be a "
          "lengthy affair.")
    assert "reportedly said" in check_attribution("Putin has privately said that any peace process will be a "
                                                  "lengthy affair.", ev)
    assert check_attribution("Putin reportedly said that any peace process would be a lengthy affair.", ev) == ""
    assert check_attribution("Putin said in a closed-door meeting that a peace process would be lengthy, "
                             "according to reports.", ev) == ""


def test_the_guards_on_the_labelled_set_per_kind():
    """Guards alone over all 624 labelled claims: each kind at least its measured rate (evals/results/
    faithfulness.md, 'guards' column; the model judge adds to these). Fails if a guard is weakened."""
    from evals.faithfulness import score
    from evals.faithfulness_data import load

    checker = Checker(embedder=FakeEmbedder(), skip=("similarity",))  # the guards alone, deterministic
    res = score(load(), lambda it: checker.check(it.claim, list(it.evidence)).supported)
    # Measured (guards alone, no similarity floor), 2026-12-03 after the keep-rate fixes: true 0.971 (was 0.919),
    # negated 0.532, number 0.913, entity 0.871 (was 0.839), attribution 0.867, unrelated 0.836 (was 0.852: one
    # unrelated claim had been rejected for the "think" in "asking them to think about sad things"),
    # yes_no 0.971. Without the attribution guard attribution falls to 0.313. Later that day the names guard
    # learned role swaps and seats present only through an alias: entity 0.871 -> 0.935, every other rate unchanged;
    # then a kept likelihood ("is unlikely to") stopped counting as a kept attribution: attribution 0.867 -> 0.916,
    # negated 0.532 -> 0.545, true unchanged.
    # 2026-12-07, the scope, modality, exclusivity, cause and roles guards (structure.py, issue 27): true
    # 0.971 -> 0.953 (3 more of 172 faithful rewordings rejected, by the modality and scope rules), negated 0.545 -> 0.610,
    # number 0.913 -> 0.952, entity 0.935 -> 0.946, attribution 0.916 -> 0.928, unrelated 0.836 -> 0.885.
    floors = {"true": 0.95, "negated": 0.61, "number": 0.95, "entity": 0.94, "attribution": 0.92,
              "unrelated": 0.88, "yes_no": 0.97}
    low = {k: res[k]["rate"] for k, floor in floors.items() if res[k]["rate"] < floor}
    assert not low, low


def test_the_guards_with_the_whole_article_as_context_per_kind():
    """The product lends the names guard the cited briefing's headline and its other evidence sentences (for
    "the trip" -> "Dmitriev"). At most that is the whole article: measured with it, a swapped-in name is
    usually somewhere in the article, and the guards rejected 0.55 of entity swaps until a borrowed name was
    barred from standing where the cited sentence has another (now 0.925; true claims kept 0.994), and
    attribution 0.81 -> 0.89 once it also may not name a speaker the cited sentence leaves unnamed."""
    from evals.faithfulness import score
    from evals.faithfulness_data import article_contexts, load

    items = load()
    contexts = article_contexts(items)
    res = score(items, lambda it: not run_guards(it.claim, list(it.evidence), context=contexts[it.id])[0])
    # With structure.py's guards (2026-12-07): true 0.994 -> 0.977, negated 0.597, number 0.952.
    floors = {"true": 0.97, "entity": 0.93, "attribution": 0.89, "number": 0.95, "negated": 0.59}
    low = {k: res[k]["rate"] for k, floor in floors.items() if res[k]["rate"] < floor}
    assert not low, low


def test_a_name_from_the_headline_may_not_stand_in_for_the_one_the_sentence_has():
    ev = "Dmitriev’s US trip comes after China’s foreign minister said in a visit to Moscow this week that relations are good."
    headline = "Russia envoy washington"
    claim = "China's foreign minister said during a visit to Washington this week that relations are good."
    assert "stands where" in check_names(claim, ev, headline)
    # A speaker the cited sentence leaves unnamed gets no name from elsewhere in the briefing; a definite one may.
    article = "Vladimir Putin reportedly said talks would be long."
    said = "“Time is on our side now,” one Russian diplomat told The Moscow Times."
    assert "does not name" in check_names("Vladimir Putin told The Moscow Times that time is on Russia's side.", said, article)
    assert check_names("Putin reportedly said the peace process would be lengthy.",
                       "The Russian leader reportedly said the peace process would be lengthy.", article) == ""
    # Borrowing for coreference still works: "the trip" is Dmitriev's, named in the headline.
    assert check_names("The Kremlin has not confirmed the envoy's Washington trip.",
                       "The trip, which the Kremlin has not confirmed, comes after talks.", headline) == ""


def test_a_claim_that_is_its_cited_sentence_word_for_word_needs_no_judge_call():
    """The lead is often the cited sentence itself: entailed by construction, so no judge call (about 1 s on
    the bundled model); one changed word and the judge is asked again."""
    from ..support.fakes import ScriptedChat

    ev = ["If Donald Trump decides to ratchet up the pressure on Russia, the most likely method is by using economic means."]
    checker = Checker(ScriptedChat(["no"] * 4), embedder=FakeEmbedder())
    assert checker.check("If Donald Trump decides to ratchet up the pressure on Russia, the most likely method is "
                         "by using economic means", ev).supported
    assert checker.judge_calls == 0
    assert not checker.check("If Donald Trump decides to ratchet up the pressure on Russia, the most likely method is "
                             "by using military means", ev).supported
    assert checker.judge_calls == 1


def test_what_did_the_foreign_minister_say_is_not_answered_with_a_think_tanks_proposal(settings, chat, seed_dir):
    """seed-06 end to end in quote style: the model's lead restates the think tank's proposal; it is withheld
    (the foreign minister is not in its source), and what is shown, if anything, is what he said."""
    from assistant.assistant import Assistant
    from assistant.search.store import Store

    s = settings.model_copy(update={"answer": settings.answer.model_copy(update={"style": "quote"})})
    embedder = FakeEmbedder()
    a = Assistant(s, Store.open(s.data_dir, None, s.collection, embedder), embedder, llm=chat)
    a.ingest([seed_dir])
    chat.enqueue("A Russian think tank in February proposed to the Kremlin possible limits on cooperation with "
                 "China on infrastructure, technology, and military issues as part of a US peace deal [99].")
    answer = a.ask("What did China's foreign minister say about relations with Russia?")
    assert "think tank" not in answer.text, answer.text
    assert not answer.answerable or "foreign minister" in answer.text, answer.text


def test_without_the_judge_answering_the_question_takes_more_than_word_overlap():
    """BRIEFING_ANSWER__JUDGE=false: "answers the question" was half the question's words and nothing else, so a
    sentence about the talks in Riyadh "answered" why they collapsed. Without the judge the sentence must hold the
    answer's shape and every content word of the question, and the checker says the judge was off."""
    checker = Checker(None, embedder=FakeEmbedder())
    question = "Why did the energy talks in Riyadh collapse?"
    assert not checker.answers(question, ["Energy talks opened in Riyadh on Tuesday."])
    assert checker.answers(question, ["The energy talks in Riyadh collapsed on Tuesday over the strike pause."])
    # The answer's shape still counts: a "when" question needs a time in the sentence.
    assert not checker.answers("When did the energy talks in Riyadh collapse?",
                               ["The energy talks in Riyadh collapsed over the strike pause."])
    from assistant.answer.entailment import JUDGE_OFF_NOTE

    assert checker.notes == [JUDGE_OFF_NOTE]
    assert "judge" in JUDGE_OFF_NOTE and "every word of the question" in JUDGE_OFF_NOTE


def test_rejection_notes_describe_the_check_without_quoting_the_draft(fake_assistant, seed_dir, chat, capsys,
                                                                     monkeypatch):
    """A rejected sentence's reason named the draft's own words ("'Vladimir Zelensky' is not in the cited
    evidence") into --json, the Gradio API and the page's checker panel. The reason must say which check failed
    and how, not repeat what the model wrote; the draft stays available with BRIEFING_DEBUG=1."""
    from assistant.app.render_sources import sources_html

    assert fake_assistant.ingest([seed_dir]).added
    question = "Is Russia stalling for time?"
    stream = fake_assistant.ask_stream(question)
    key = next(e.key for e in next(stream).evidence if "stalling for time" in e.text)
    stream.close()
    draft = (f"Vladimir Zelensky suspects they are stalling for time as Russian troops make progress [{key}]. "
             f"Yevgeny Prigozhin suspects they are stalling for time as Russian troops make progress [{key}].")
    chat.enqueue(draft, draft)
    answer = fake_assistant.ask(question)
    assert answer.answerable and "Zelensky" in json.dumps(answer.to_dict(debug=True))  # debugging sees it all
    notes = [s.note for s in answer.sentences if s.note]
    assert any("Zelensky" in n for n in notes)  # the checker's own record keeps the reason whole
    assert any("Yevgeny" in n for n in notes)
    public = json.dumps(answer.to_dict()) + sources_html(answer, {})
    leaked = [w for w in ("Zelensky", "Yevgeny", "Prigozhin") if w in public]
    assert not leaked, leaked
    assert "a name of the sentence is not in the cited evidence" in public  # the rejection is still described

    factory = lambda **overrides: fake_assistant  # noqa: E731 - the CLI builds its assistant with this
    monkeypatch.delenv("BRIEFING_DEBUG", raising=False)
    assert main(["ask", question, "--json"], factory=factory) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["answerable"] and not [w for w in ("Zelensky", "Yevgeny", "Prigozhin") if w in out]


def test_the_tail_of_a_cited_sentence_that_only_says_who_reported_is_not_a_claim():
    """Seen in an overview: "CBS News and Reuters reported [2]." passed as a deletion of "Dmitriev is expected to
    meet ..., CBS News and Reuters reported." and was shown as a point. Who reported, without what, is no claim."""
    from assistant.answer.verify import Verifier, only_attribution

    assert only_attribution("CBS News and Reuters reported.") and only_attribution("According to Reuters.")
    assert only_attribution("The briefing says so.")
    assert not only_attribution("Steve Witkoff.")  # a name alone answers "who"
    assert not only_attribution("Reuters reported that talks stalled.")
    v = Verifier(_evidence(), {"a1": BODY}, FakeEmbedder(), Checker(embedder=FakeEmbedder()), "What happened?", "")
    checked = v.check("Reuters reported.", [1], 0)
    assert checked.shown == "" and "who reported" in checked.note


def test_a_question_copied_from_an_article_is_not_a_point():
    """Seen over real news: "What happened Wednesday [9]?" (a subhead of the article) was shown as an overview
    point, verified word for word. A question claims nothing."""
    from assistant.answer.verify import Verifier

    v = Verifier(_evidence(), {"a1": BODY}, FakeEmbedder(), Checker(embedder=FakeEmbedder()), "What happened?", "")
    checked = v.check("Did talks stall in March?", [1], 0)
    assert checked.shown == "" and checked.note == "a question, not a claim"
    assert v.check("Talks stalled in March.", [1], 1).shown  # the same words as a statement pass
