"""One digest per recipient per channel per batch: "您有3个问题逾期、2个临期、1个督办单待回复", then the items.

Apps register the groups their effects fall into (a phrase with {n}, and an order), e.g. supervision registers
"overdue" → "{n}个问题逾期". Rendering is per channel: plain text (in-app, email), markdown (robots), and a short
sentence for SMS templates (which may not carry links).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings

from .models import Channel, Level

_GROUPS: dict[str, tuple[str, int]] = {"event": ("{n}条新通知", 90)}


def register_group(code: str, phrase: str, *, order: int) -> None:
    _GROUPS[code] = (phrase, order)


@dataclass(frozen=True)
class Line:
    group: str
    level: int
    title: str
    url: str


def absolute(url: str) -> str:
    if not url or url.startswith(("http://", "https://")):
        return url
    return settings.SITE_URL.rstrip("/") + url


def summary(lines: Sequence[Line]) -> str:
    """"您有3个问题逾期、2个临期、1个督办单待回复" (groups in their registered order)."""
    counts = Counter(line.group for line in lines)
    parts = sorted(counts.items(), key=lambda kv: _GROUPS.get(kv[0], ("", 99))[1])
    phrases = [_GROUPS.get(g, ("{n}条通知", 99))[0].format(n=n) for g, n in parts]
    return "您有" + "、".join(phrases)


def subject(lines: Sequence[Line], *, batch_label: str) -> str:
    if len(lines) == 1 and lines[0].group == "event":
        return lines[0].title[:200]
    return f"{batch_label}：{summary(lines)}"[:200]


def ordered(lines: Sequence[Line]) -> list[Line]:
    return sorted(lines, key=lambda ln: (_GROUPS.get(ln.group, ("", 99))[1], -ln.level, ln.title))


def render_text(lines: Sequence[Line], *, greeting: str, limit: int = 50) -> str:
    out = [f"{greeting}：" if greeting else "", summary(lines) + "。", ""]
    for ln in ordered(lines)[:limit]:
        tag = f"【{Level(ln.level).label}】" if ln.level >= Level.REPORT else ""
        out.append(f"· {tag}{ln.title}" + (f"\n  {absolute(ln.url)}" if ln.url else ""))
    if len(lines) > limit:
        out.append(f"……另有 {len(lines) - limit} 项，请登录系统查看。")
    return "\n".join(x for x in out if x is not None).strip()


def render_markdown(lines: Sequence[Line], *, heading: str, link: str = "", limit: int = 30) -> str:
    colour = {Level.LISTED: "warning", Level.SUPERVISE: "warning", Level.URGE: "warning"}
    out = [f"### {heading}", summary(lines)]
    for ln in ordered(lines)[:limit]:
        tag = Level(ln.level).label if ln.level >= Level.REPORT else ""
        label = f'<font color="{colour.get(Level(ln.level), "comment")}">{tag}</font> ' if tag else ""
        text = f"[{ln.title}]({absolute(ln.url)})" if ln.url else ln.title
        out.append(f"> {label}{text}")
    if len(lines) > limit:
        out.append(f"……另有 {len(lines) - limit} 项")
    if link:
        out.append(f"[登录系统查看]({absolute(link)})")
    return "\n".join(out)


def render_sms(lines: Sequence[Line]) -> str:
    return summary(lines) + "，请及时登录整改台账系统办理。"


def render(channel: str, lines: Sequence[Line], *, name: str, heading: str, link: str = "") -> str:
    if channel in (Channel.WECOM, Channel.DINGTALK):
        return render_markdown(lines, heading=heading, link=link)
    if channel == Channel.SMS:
        return render_sms(lines)
    return render_text(lines, greeting=name)
