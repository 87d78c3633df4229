"""Cue detection: lexicon hits, negation, questions, thanks, 反问/sarcasm and praise-then-complaint.

`cues(body, emoticons)` is used twice: its counts become model features, and `Cues.forced_negative`
lets the scorer overrule the linear model on the patterns a bag of n-grams gets wrong (a rhetorical
question, a sarcastic thank-you, thanks followed by "but ... still not fixed").
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import lexicon as lx

CJK_RE = re.compile(r"[\u4e00-\u9fff]")


def _alternation(words) -> re.Pattern[str]:
    words = sorted(set(words), key=lambda w: (-len(w), w))
    return re.compile("|".join(re.escape(w) for w in words))


_POS_RE = _alternation(lx.POSITIVE)
_NEG_RE = _alternation(lx.NEGATIVE)
_RHET_RE = _alternation(lx.RHETORICAL)
_SARC_RE = _alternation(lx.SARCASM)
_RHET_SOFT_RE = _alternation(lx.RHETORICAL_SOFT)
_RESOLVED_CUE_RE = _alternation(lx.RESOLVED)
_NOT_YET_RE = re.compile(r"(?:还没|没有|尚未|未|没)$")
# A praise word put in quotes (感谢你们的“高效”) is sarcasm.
_QUOTED_RE = re.compile(r"[“\"‘'「『]([^”\"’'」』]{1,8})[”\"’'」』]")
_Q_RE = _alternation(lx.QUESTION)
_THANKS_RE = _alternation(lx.THANKS)
_HELP_RE = _alternation(lx.HELP)
_SUGGEST_RE = _alternation(lx.SUGGEST)
_COMPLAIN_RE = _alternation(lx.COMPLAIN)
_NEGATOR_RE = re.compile("(?:" + "|".join(sorted(map(re.escape, lx.NEGATORS), key=len, reverse=True)) + r")[^,.!?;，。！？；]{0,2}$")
# "跑了三趟", "等了两个月", "拖了半年": time or trips spent, the core of most sarcastic thanks.
_WASTED_RE = re.compile(r"(?:跑|等|拖|催|打)了(?:0|[一二两三四五六七八九十几好多半]+)(?:趟|次|天|个月|月|周|年|个星期|小时|遍)")
_CONTRAST_RE = re.compile(r"(?:但是|可是|然而|不过|只是|但|却|(?<=[,，])就是)")  # ，就是…: 人挺好的，就是不办事
_CLAUSE_RE = re.compile(r"[,.!?;，。！？；…]")
_WHY_NOT_RE = re.compile(r"(?:为什么|为啥|咋|怎么)[^,.!;?]{0,12}(?:没人|没有人|不管|不处理|不解决|还没|还是没|一直|总是|迟迟|就是不|都不|老是)")


@dataclass(slots=True)
class Cues:
    counts: dict[str, float] = field(default_factory=dict)
    forced_negative: str = ""  # the rule that makes this text negative whatever the model says
    tail: str = ""  # text after the last contrast marker, if a praise-then-contrast shape was seen

    def add(self, name: str, value: float = 1.0) -> None:
        self.counts[name] = self.counts.get(name, 0.0) + value


_NOT_NEGATOR_RE = _alternation(lx.NOT_NEGATORS)


def negated_at(body: str, start: int) -> bool:
    """Is the word starting at `start` negated: a negator ends at most 2 characters before it, in the same
    clause (不太满意, 没有及时), not counting words like 特别/非常/不错 that only look like negators."""
    window = _NOT_NEGATOR_RE.sub(lambda m: "#" * len(m.group()), body[max(0, start - 8):start])
    return bool(_NEGATOR_RE.search(window))


def _polar_hits(body: str, rx: re.Pattern[str]) -> tuple[int, int]:
    plain = negated = 0
    for m in rx.finditer(body):
        if negated_at(body, m.start()):
            negated += 1
        else:
            plain += 1
    return plain, negated


def cues(body: str, emoticons: list[str] | tuple[str, ...] = ()) -> Cues:
    c = Cues()
    if not body:
        c.add("R:nobody")
    elif not CJK_RE.search(body):
        c.add("R:nocjk")
    pos, negpos = _polar_hits(body, _POS_RE)
    neg, negneg = _polar_hits(body, _NEG_RE)
    for name, n in (("R:pos", pos), ("R:negpos", negpos), ("R:neg", neg), ("R:negneg", negneg)):
        if n:
            c.add(name, min(n, 3))
    for ch in body:
        if ch in lx.EMOJI_POSITIVE:
            c.add("R:emo+")
        elif ch in lx.EMOJI_NEGATIVE:
            c.add("R:emo-")
    for e in emoticons:
        if e in lx.EMOTICON_POSITIVE:
            c.add("R:emo+")
        elif e in lx.EMOTICON_NEGATIVE:
            c.add("R:emo-")
    question = bool(_Q_RE.search(body))
    rhet = bool(_RHET_RE.search(body) or _WHY_NOT_RE.search(body))
    sarcasm = bool(_SARC_RE.search(body))
    if not sarcasm and any(_POS_RE.search(m.group(1)) for m in _QUOTED_RE.finditer(body)):
        sarcasm = True
        c.add("R:quoted_praise")
    rhet_soft = bool(_RHET_SOFT_RE.search(body))
    if rhet_soft:
        c.add("R:rhet_soft")
    for m in _RESOLVED_CUE_RE.finditer(body):
        if not _NOT_YET_RE.search(body[max(0, m.start() - 2):m.start()]):
            c.add("R:resolved")
            break
    thanks = bool(_THANKS_RE.search(body))
    wasted = bool(_WASTED_RE.search(body))
    if question:
        c.add("R:q")
    if rhet:
        c.add("R:rhet")
    if sarcasm:
        c.add("R:sarc")
    if thanks:
        c.add("R:thanks")
    if wasted:
        c.add("R:wasted")
    if _HELP_RE.search(body):
        c.add("R:help")
    if _SUGGEST_RE.search(body):
        c.add("R:suggest")
    if _COMPLAIN_RE.search(body):
        c.add("R:complain")
    if question and not rhet and not rhet_soft and not neg and not negpos:
        c.add("R:plainq")

    # Praise (or thanks) followed by a contrast whose tail complains: the tail is what the author wants.
    head_pos = False
    for m in _CONTRAST_RE.finditer(body):
        head, tail = body[:m.start()], body[m.end():]
        if (_POS_RE.search(head) or _THANKS_RE.search(head)) and len(tail) >= 3:
            head_pos = True
            c.tail = tail
            tpos, tnegpos = _polar_hits(tail, _POS_RE)
            tneg, _ = _polar_hits(tail, _NEG_RE)
            if tneg or tnegpos or _RHET_RE.search(tail) or _WHY_NOT_RE.search(tail) or _WASTED_RE.search(tail):
                c.add("R:praise_but_neg")
                c.forced_negative = c.forced_negative or "praise-then-complaint"
            break
    if rhet and (question or "!" in body or not thanks):
        c.forced_negative = c.forced_negative or "rhetorical-question"
    if (sarcasm or (thanks and wasted)) and (neg or negpos or wasted or rhet):
        c.forced_negative = c.forced_negative or "sarcasm"
    if head_pos:
        c.add("R:contrast")
    return c


_ASK_RE = re.compile("|".join(lx.ASK_PATTERNS))
_OPEN_RE = _alternation(lx.OPEN_PROBLEM)
_RESOLVED_RE = _alternation(lx.RESOLVED)


def praise_allowed(body: str, c: Cues) -> bool:
    """表扬 opens no case, so it must be precise: no request, suggestion, question or still-open complaint
    anywhere in the post (a trailing 谢谢 on a request does not make it praise). A veto, not a detector."""
    has = c.counts
    if c.forced_negative or has.get("R:rhet") or has.get("R:sarc") or has.get("R:praise_but_neg"):
        return False
    if _ASK_RE.search(body):
        return False
    return not (_OPEN_RE.search(body) and not _RESOLVED_RE.search(body))


def rule_kind(body: str, c: Cues, label: str) -> str:
    """Kind from cues alone (used by the snownlp baseline and to settle clashes with the sentiment label)."""
    has = c.counts
    if c.forced_negative or has.get("R:complain"):
        return "求助" if has.get("R:help") and not has.get("R:complain") else "投诉"
    if has.get("R:help"):
        return "求助"
    if has.get("R:suggest"):
        return "建议"
    if has.get("R:thanks") and label != "negative" and praise_allowed(body, c):
        return "表扬"
    if has.get("R:q") and label != "negative":
        return "咨询"
    if label == "negative" and has.get("R:neg"):
        return "投诉"
    if label == "positive" and has.get("R:pos"):
        return "表扬" if "@" in body and praise_allowed(body, c) else "其他"
    return "其他"
