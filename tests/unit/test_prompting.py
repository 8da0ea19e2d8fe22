"""Prompt files: loaded by name, strict variables, refusal sentinel shared with the code."""

import pytest

from assistant.errors import PromptError
from assistant.answer.prompting import Prompt, load_prompt, prompts_dir
from assistant.types import REFUSAL


def test_answer_prompt_renders_system_and_user():
    msgs = load_prompt("answer").render(evidence="[1] A fact.", question="Q?", refusal=REFUSAL)
    assert [m["role"] for m in msgs] == ["system", "user"]
    assert REFUSAL in msgs[0]["content"]
    assert "[1] A fact." in msgs[1]["content"] and "Q?" in msgs[1]["content"]
    assert "{{" not in msgs[0]["content"] + msgs[1]["content"]


def test_missing_and_unknown_variables_are_rejected():
    p = load_prompt("answer")
    with pytest.raises(PromptError, match="missing question"):
        p.render(evidence="x", refusal=REFUSAL)
    with pytest.raises(PromptError, match="unknown extra"):
        p.render(evidence="x", question="q", refusal=REFUSAL, extra=1)


def test_values_are_not_rescanned_for_variables():
    p = Prompt(name="t", system="", user="Q: {{question}} E: {{evidence}}")
    out = p.render(question="{{evidence}}", evidence="SECRET")[0]["content"]
    assert out == "Q: {{evidence}} E: SECRET"


def test_unknown_prompt_name():
    with pytest.raises(PromptError, match="no prompt named"):
        load_prompt("does_not_exist")
    with pytest.raises(PromptError, match="invalid prompt name"):
        load_prompt("../etc/passwd")


def test_every_prompt_file_loads():
    names = sorted(p.stem for p in prompts_dir().glob("*.md"))
    assert {"answer", "rewrite_question", "judge"} <= set(names)
    for name in names:
        assert load_prompt(name).variables


def test_prompts_read_after_an_answer_prompt_share_its_prefix_word_for_word():
    """The judge's and the follow-up rewrite's requests open exactly as the answer prompt does, up to the end of
    the evidence block: the model server then reads the evidence once for all of them (its prompt-prefix cache)."""
    from assistant.answer.prompting import load_prompt

    def upto_evidence(name: str) -> list[str]:
        prompt = load_prompt(name)
        values = {"evidence": "[1] E.", "question": "Q?", "refusal": "R.", "claim": "C.", "keys": "[1]",
                  "context": "", "history": "User: Q?"}
        messages = prompt.render(**{k: v for k, v in values.items() if k in prompt.variables})
        user = messages[-1]["content"]
        return [messages[0]["content"], user[:user.index("</evidence>")]]

    answer = upto_evidence("answer")
    for name in ("check_claim", "answers_question", "rewrite_question_in_context"):
        assert upto_evidence(name) == answer, name
