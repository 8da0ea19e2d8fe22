"""Answering: the answer pipeline, prompts, citations, the checks every shown sentence passes
(guards, entailment judge, the Verifier), injection defences, story timelines and evidence packs."""
