"""The kinds of notification, each with its label in both languages and whether it is a deadline (always sent)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    name: str
    zh: str
    en: str
    deadline: bool = False  # sent by mail whatever the reader's preference (issue 14: "except for deadlines")
    reminder: bool = False  # made by the daily reminders, not by an event

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("your_turn", "有申请等待您处理", "An application waits for you"),
        Kind("status_changed", "申请状态已变更", "Your application moved on"),
        Kind("panel_assigned", "您已被抽选进入专家组", "You are on a review panel"),
        Kind("site_visit", "现场核查已安排", "A site visit is scheduled"),
        Kind("deadline_near", "截止日期临近", "A deadline is near", deadline=True, reminder=True),
        Kind("visit_tomorrow", "明天现场核查", "Site visit tomorrow", deadline=True, reminder=True),
        Kind("approval_waiting", "审批已等待多日", "An approval has been waiting", reminder=True),
        Kind("queue_digest", "今日待办汇总", "Your queue today", reminder=True),
    )
}
