"""The default model on the cases the issue names: questions, thanks, negation, sarcasm, mixed, odd inputs."""
from __future__ import annotations

import pytest

import sentiment
from sentiment import KINDS, LABELS, Sentiment


def _check(s: Sentiment) -> None:
    assert s.label in LABELS
    assert -1.0 <= s.score <= 1.0
    assert 0.0 <= s.confidence <= 1.0


@pytest.mark.parametrize("text", [
    "请问公积金提取需要什么材料？",
    "@银川教育 请问小学入学报名需要带哪些证件？",
    "@银川交警 驾驶证到期了可以在网上换吗",
])
def test_polite_questions_are_neutral(text):
    s = sentiment.score(text)
    _check(s)
    assert s.label == "neutral"
    assert sentiment.kind(text) == "咨询"


@pytest.mark.parametrize("text", ["感谢民警同志的帮助！", "@银川公安 谢谢你们，辛苦了！", "给@问政银川 点赞，问题当天就解决了"])
def test_thanks_are_positive(text):
    assert sentiment.score(text).label == "positive"
    assert sentiment.kind(text) == "表扬"


@pytest.mark.parametrize("text", ["为什么没人管？", "@问政银川 小区路灯坏了一个月，为什么一直没人修？",
                                  "难道要出了人命才管吗？", "这个问题到底有没有人管"])
def test_rhetorical_questions_are_negative(text):
    s = sentiment.score(text)
    assert s.label == "negative"
    assert s.score < 0
    assert sentiment.kind(text) == "投诉"


@pytest.mark.parametrize("text", ["谢谢你们让我为了一个章跑了五趟", "@问政银川 真是好样的，反映了三个月一点动静都没有"])
def test_sarcasm_is_negative(text):
    assert sentiment.score(text).label == "negative"


@pytest.mark.parametrize("text", ["@银川公安 民警态度很好，但是问题拖了三个月还没解决",
                                  "谢谢回复，可是路灯还是不亮"])
def test_praise_then_complaint_is_negative(text):
    assert sentiment.score(text).label == "negative"
    assert sentiment.kind(text) == "投诉"


def test_negation_flips_polarity():
    assert sentiment.score("@问政银川 满意").label == "positive"
    assert sentiment.score("@问政银川 一点都不满意").label == "negative"
    assert sentiment.score("@问政银川 不满意，处理得太慢了").label == "negative"


@pytest.mark.parametrize("text", ["", "   ", None, "\n\t"])
def test_empty_is_neutral_with_no_confidence(text):
    assert sentiment.score(text) == Sentiment("neutral", 0.0, 0.0)
    assert sentiment.kind(text) == "其他"


def test_emoticon_only_posts_follow_the_emoticon():
    assert sentiment.score("[泪][泪][泪]").label == "negative"
    assert sentiment.score("[哈哈]").label == "positive"
    assert sentiment.score("😡😡").label == "negative"
    assert sentiment.score("👍👍👍").label == "positive"


def test_traditional_characters_score_like_simplified():
    for trad, simp in [("為什麼沒人管？", "为什么没人管？"), ("感謝民警同志的幫助！", "感谢民警同志的帮助！"),
                       ("請問公積金提取需要什麼材料？", "请问公积金提取需要什么材料？")]:
        assert sentiment.score(trad) == sentiment.score(simp)
        assert sentiment.kind(trad) == sentiment.kind(simp)


@pytest.mark.parametrize("text", ["12345", "hello world", "asdf qwer zxcv", "https://example.com/a?b=1"])
def test_non_chinese_without_known_words_is_neutral(text):
    s = sentiment.score(text)
    assert s.label == "neutral"
    assert s.score == 0.0
    assert sentiment.kind(text) == "其他"


def test_non_chinese_sentiment_words_are_used():
    assert sentiment.score("thank you so much").label == "positive"


def test_very_long_text_is_scored_from_head_and_tail():
    long = "@问政银川 " + "小区门口的路灯坏了，晚上很黑。" * 20000 + "请问什么时候能修？"
    s = sentiment.score(long)
    _check(s)
    assert sentiment.kind(long) in KINDS
    assert sentiment.score_many([long])[0] == s


def test_batch_equals_single():
    texts = ["请问公积金提取需要什么材料？", "为什么没人管？", "", "[泪]", "感謝民警同志的幫助！",
             "服务态度很好，但是问题拖了三个月还没解决", "hello", "建议在路口增设红绿灯"]
    assert sentiment.score_many(texts) == [sentiment.score(t) for t in texts]
    assert sentiment.kinds(texts) == [sentiment.kind(t) for t in texts]
    assert sentiment.score_many([]) == []


def test_kinds_of_plain_posts():
    assert sentiment.kind("@银川交警 建议在北京路路口增设左转红绿灯") == "建议"
    assert sentiment.kind("@银川公安 求助：我家老人在丽景街走失了，请大家帮忙留意") == "求助"
    assert sentiment.kind("@问政银川 投诉：小区垃圾三天没人清运，臭气熏天") == "投诉"


def test_unknown_model_name_is_a_clear_error():
    with pytest.raises(sentiment.UnknownModelError, match="snownlp"):
        sentiment.get_model("bert")


def test_snownlp_baseline_has_the_same_interface():
    m = sentiment.get_model("snownlp")
    texts = ["感谢民警同志的帮助！", "", "为什么没人管？"]
    out = m.score_many(texts)
    assert [m.score(t) for t in texts] == out
    for s in out:
        _check(s)
    assert out[1] == Sentiment("neutral", 0.0, 0.0)
    assert all(k in KINDS for k in m.kinds(texts))


@pytest.mark.parametrize("text", [
    "@问政银川 建议在小区门口加一个减速带，谢谢",
    "@银川公安 麻烦帮忙查一下监控，我的电动车在超市门口被偷了，感谢",
    "@银川城管 路边的井盖缺了一块，请尽快处理，谢谢！",
    "@银川市人社局 请问失业保险金怎么领？谢谢",
    "@问政银川 小区电梯又坏了，物业不管，希望有关部门督促一下，辛苦了",
])
def test_a_polite_request_is_never_praise(text):
    """表扬 opens no case: asking, suggesting or complaining with a 谢谢 at the end must not become praise."""
    assert sentiment.kind(text) != "表扬"
    assert sentiment.kinds([text]) == [sentiment.kind(text)]


@pytest.mark.parametrize("text", ["@问政银川 上周反映的路灯已经修好了，谢谢你们", "@银川公安 感谢民警帮我找回了钱包"])
def test_thanks_for_a_solved_problem_is_still_praise(text):
    assert sentiment.kind(text) == "表扬"
