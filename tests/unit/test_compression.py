"""Deletion-only compressions (answer/compression.py) are verified without the judge; anything that deletes a
word carrying meaning on its own, or adds, reorders or answers yes/no, is not."""

from __future__ import annotations

from assistant.answer.compression import deletion_only

MEET = ("Dmitriev is expected to meet with US President Donald Trump\u2019s special envoy Steve Witkoff on "
        "Wednesday, CBS News and Reuters reported.")
TRIP = ("Dmitriev\u2019s US trip comes after China\u2019s foreign minister said in a visit to Moscow this week that "
        "\u201cChina and Russia are friends forever and never enemies.\u201d")
PEACE = ("Even as Moscow has continued to engage diplomatically with Washington, privately, President Vladimir Putin "
         "has played down the likelihood of a quick deal.")


def test_words_left_out_of_one_sentence_verify():
    assert deletion_only("Putin has played down the likelihood of a quick deal.", PEACE)
    assert deletion_only("China’s foreign minister said in a visit to Moscow this week that China and Russia "
                         "are friends forever and never enemies.", TRIP)
    # a name dropped from inside the claim is not a deletion the route trusts (whose envoy?): the judge decides
    assert not deletion_only("Dmitriev is expected to meet with special envoy Steve Witkoff on Wednesday, CBS News "
                             "and Reuters reported.", MEET)


def test_what_carries_meaning_may_not_be_left_out():
    assert not deletion_only("Dmitriev is to meet with Steve Witkoff on Wednesday, CBS News and Reuters reported.", MEET)
    assert not deletion_only("Dmitriev is expected to meet with Steve Witkoff.", MEET)  # who reported it, and when
    assert not deletion_only("Dmitriev said in a visit to Moscow this week that China and Russia are friends.", TRIP)
    assert not deletion_only("China and Russia are friends forever and enemies.", TRIP)  # "never" dropped
    assert not deletion_only("Putin has played up the likelihood of a quick deal.", PEACE)  # a word added
    assert not deletion_only("Yes, Putin has played down the likelihood of a quick deal.", PEACE)
    assert not deletion_only("Putin deal.", PEACE)  # too short to be a claim
