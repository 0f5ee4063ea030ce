"""Optional LLM rephrasing, against a fake OpenAI-compatible server: kept when faithful, dropped otherwise."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.rephrase import LlmRephraser, is_faithful
from bot.services import Retrieval
from tests.support.factories import make_assistant
from tests.support.fakes import fake_openai_server


def draft_of(messages: list[dict[str, Any]]) -> str:
    content = messages[-1]["content"]
    return re.search(r"Draft answer:\n(.*?)\n\nSources:", content, re.S).group(1)  # type: ignore[union-attr]


@pytest.mark.unit
@pytest.mark.parametrize(
    ("candidate", "ok"),
    [
        ("社区学习中心的申报在2023年10月25日截止，已经过了。", True),
        ("社区学习中心的申报在2023年10月26日截止。", False),  # a date the sources do not have
        ("截止2023年10月25日，每个项目资助50万元。", False),  # an invented amount
        ("请致电 027-87588886 联系万婷。", True),
        ("请致电 027-12345678 联系万婷。", False),  # an invented phone
        ("请联系李娟。", False),  # a person the sources for this answer do not name
    ],
)
def test_faithfulness_check(candidate: str, ok: bool) -> None:
    sources = [
        "「推进县域社区学习中心建设」申报截止：2023年10月25日（已截止）。联系人：职成处 万婷，电话 027-87588886"
    ]
    assert is_faithful(candidate, sources, known_names=["万婷", "李娟"]) is ok


def make_llm_assistant(retrieval: Retrieval, base_url: str) -> Any:
    assistant = make_assistant(retrieval)
    assistant.rephraser = LlmRephraser(base_url=base_url, model="qwen-fake", api_key="x", timeout_s=5)
    return assistant


@pytest.mark.integration
def test_a_faithful_rewording_is_used_and_citations_stay(seed_retrieval: Retrieval) -> None:
    with fake_openai_server(lambda m: "您好！" + draft_of(m).replace("申报截止：", "的申报截止日期是")) as (
        url,
        seen,
    ):
        assistant = make_llm_assistant(seed_retrieval, url)
        plain = make_assistant(seed_retrieval).ask("社区学习中心啥时候截止")
        answer = assistant.ask("社区学习中心啥时候截止")
    assert answer.answer.startswith("您好！") and "2023年10月25日" in answer.answer
    assert [c.quote for c in answer.citations] == [c.quote for c in plain.citations]
    assert seen and seen[0]["path"] == "/v1/chat/completions" and seen[0]["body"]["model"] == "qwen-fake"


@pytest.mark.integration
@pytest.mark.parametrize(
    "reply",
    [
        lambda m: draft_of(m) + "每个项目另有 300 万元资助。",  # invents a number
        lambda m: draft_of(m).replace("2023年10月25日", "2023年11月25日"),  # changes a date
        lambda m: None,  # the server fails
    ],
    ids=["invented-number", "changed-date", "server-error"],
)
def test_an_unfaithful_or_failed_rewording_falls_back(seed_retrieval: Retrieval, reply: Any) -> None:
    plain = make_assistant(seed_retrieval).ask("社区学习中心啥时候截止")
    with fake_openai_server(reply) as (url, seen):
        answer = make_llm_assistant(seed_retrieval, url).ask("社区学习中心啥时候截止")
    assert seen  # the model was asked
    assert answer.answer == plain.answer
