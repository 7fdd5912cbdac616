"""What the emails look like: HTML plus a text part, Chinese first, links back, local times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from shared import templating
from shared.notifications.render import AssignmentInfo, NoticeItem, digest_email, single_email
from shared.settings import Settings
from shared.templating import render_email

SETTINGS = Settings(demo=True, base_url="https://gongzhi.example.gov.cn/")
NOW = datetime(2026, 10, 13, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


@dataclass(frozen=True)
class Person:
    name: str
    language: str = "zh-CN"


def _info(n: int, title: str = "某健身连锁店预付卡退费投诉", **kw: object) -> AssignmentInfo:
    values: dict[str, object] = dict(
        id=40 + n, case_id=7 + n, reference=f"GZ-2026-00012{n}", title=title, department="体育局",
        state="accepted", feedback_due_at=datetime(2026, 10, 9, 9, 30, tzinfo=UTC),
        acceptance_due_at=datetime(2026, 9, 28, 9, 30, tzinfo=UTC), provisional=False, needs_decision=False,
    )
    values.update(kw)
    return AssignmentInfo(**values)  # type: ignore[arg-type]


def _item(n: int, kind: str, params: dict[str, object] | None = None, **kw: object) -> NoticeItem:
    return NoticeItem(id=n, key=f"k{n}", kind=kind, params=params or {}, info=_info(n, **kw))


def test_digest_in_chinese_with_links_and_local_times() -> None:
    items = [
        _item(1, "due_soon", {"days": 2}, state="dispatched"),
        _item(2, "overdue", {"days": 3}),
        _item(3, "dispatched", {"actor": "王协调"}),
    ]
    email = digest_email(Person("张联络"), items, NOW, SETTINGS)
    assert email.subject == "【逾期】1 项、【待签收】1 项、【预警】1 项"
    for part in (email.body_html, email.body_text):
        assert "张联络，您好" in part
        assert "截至 2026-10-13（周二）09:00" in part
        assert "https://gongzhi.example.gov.cn/assignments/42" in part
        assert "https://gongzhi.example.gov.cn/cases/9" in part
        assert "GZ-2026-000122" in part and "体育局" in part
        assert "2026-10-09（周五）17:30" in part  # the due time, in Shanghai
        assert "已逾期 3 个工作日" in part and "2 个工作日后到期" in part
        assert "尚未签收" in part  # the due-soon one was never accepted
        assert "个人设置" in part and "https://gongzhi.example.gov.cn/settings" in part
        # Most urgent first: overdue, then what waits to be accepted (due in a working day), then due soon.
        assert part.index("已逾期 3") < part.index("新派发任务") < part.index("2 个工作日后到期")
    assert email.body_html.lstrip().startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in email.body_html
    assert "<" not in email.body_text


def test_english_digest() -> None:
    items = [_item(1, "escalation", {"days": 4, "threshold": 3}), _item(2, "escalation", {"days": 3})]
    email = digest_email(Person("Wang", "en"), items, NOW, SETTINGS)
    assert email.subject == "[Escalated] 2 assignments overdue 3+ working days"
    assert "Hello Wang," in email.body_text
    assert "Tue 2026-10-13 09:00" in email.body_text
    assert "overdue by 4 working day(s)" in email.body_html
    assert "Open assignment" in email.body_html
    assert '<html lang="en">' in email.body_html


def test_single_reminder_and_event_subjects() -> None:
    overdue = single_email(Person("李主任"), _item(1, "urge", {"days": 1}), NOW, SETTINGS)
    assert overdue.subject == "【催办】GZ-2026-000121 某健身连锁店预付卡退费投诉：已逾期 1 个工作日"
    event = single_email(Person("王协调"), _item(2, "submitted", {"actor": "周联络"}), NOW, SETTINGS)
    assert event.subject == "【待审核】GZ-2026-000122 某健身连锁店预付卡退费投诉"
    assert "体育局已提交反馈，等待审核（周联络）" in event.body_text
    assert "https://gongzhi.example.gov.cn/assignments/42" in event.body_html


def test_user_text_is_escaped_in_html_only() -> None:
    title = '<script>alert("x")</script> & 某店'
    email = digest_email(Person("<b>张</b>"), [_item(1, "overdue", {"days": 1}, title=title),
                                                _item(2, "due_today")], NOW, SETTINGS)
    assert "<script>" not in email.body_html and "&lt;script&gt;" in email.body_html
    assert "&lt;b&gt;张&lt;/b&gt;" in email.body_html
    assert title in email.body_text  # the text part is not HTML
    assert "<b>张</b>" in email.body_text


def test_long_titles_keep_the_subject_short() -> None:
    item = _item(1, "overdue", {"days": 2}, title="很长的标题" * 40)
    email = single_email(Person("张"), item, NOW, SETTINGS)
    assert len(email.subject) < 80 and "…" in email.subject


def test_a_missing_variable_fails_instead_of_mailing_a_blank(tmp_path: Path) -> None:
    (tmp_path / "emails" / "x").mkdir(parents=True)
    for name, text in (("subject.txt", "hi"), ("body.txt", "{{ _('email.greeting', name=user_name) }}"),
                       ("body.html", "<p>{{ user_name }}</p>")):
        (tmp_path / "emails" / "x" / name).write_text(text, encoding="utf-8")
    env = templating.build_environment(tmp_path)
    with pytest.raises(UndefinedError):
        env.get_template("emails/x/body.html").render(lang="zh-CN")
    with pytest.raises(KeyError):
        env.from_string("{{ _('no.such.key') }}").render(lang="zh-CN")
    assert env.from_string("{{ _('email.greeting', name=n) }}").render(lang="en", n="Li") == "Hello Li,"


def test_email_templates_never_receive_the_request() -> None:
    with pytest.raises(TypeError):
        render_email("assignment_event", lang="zh-CN", request=object())


def test_a_long_digest_lists_the_worst_and_counts_the_rest() -> None:
    items = [_item(n, "overdue", {"days": 1 + n % 5}) for n in range(45)]
    email = digest_email(Person("张联络"), items, NOW, SETTINGS)
    assert email.subject == "【逾期】45 项任务已逾期"
    for part in (email.body_html, email.body_text):
        assert "已逾期（45）" in part
        assert "另有 15 项，请在平台中查看" in part
        assert part.count("/assignments/") == 30


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_kind_renders_in_both_languages(lang: str) -> None:
    from shared.reminders.rules import EventKind, Stage

    params: dict[str, object] = {"days": 2, "threshold": 3, "reason": "理由", "waiting": 1, "approved": True,
                                 "submitted_at": "2026-10-12T02:00:00+00:00", "return_reason": "duplicate",
                                 "note": "说明", "needs_decision": True, "actor": "王协调", "comment": "同意"}
    kinds = [s.value for s in Stage] + [e.value for e in EventKind]
    items = [_item(n, kind, params) for n, kind in enumerate(kinds)]
    for item in items:
        email = single_email(Person("张", lang), item, NOW, SETTINGS)
        assert email.subject and email.body_text and email.body_html
        assert "{" not in email.subject + email.body_text  # every placeholder was filled
    digest = digest_email(Person("张", lang), items, NOW, SETTINGS)
    assert digest.subject.startswith("【督办】" if lang == "zh-CN" else "[Escalated]")
    assert digest.body_text.count("/assignments/") == len(kinds)


def test_a_digest_subject_names_the_kinds_it_holds() -> None:
    news = [_item(1, "approved", {"actor": "王协调"}), _item(2, "approved"), _item(3, "cancelled", {"reason": "重复"})]
    email = digest_email(Person("张联络"), news, NOW, SETTINGS)
    assert email.subject == "【已办结】2 项、【已撤销】1 项"  # not 【通知】3 条任务动态
    mixed = [_item(1, "dispatched"), _item(2, "dispatched"), _item(3, "due_soon", {"days": 2}),
             _item(4, "review_pending", {"waiting": 1}), _item(5, "approved")]
    assert digest_email(Person("张"), mixed, NOW, SETTINGS).subject == \
        "【待签收】2 项、【预警】1 项、【待审核】1 项（另有 1 项）"
    assert digest_email(Person("Zhang", "en"), mixed, NOW, SETTINGS).subject == \
        "[To accept] 2, [Due soon] 1, [Review needed] 1 (+1 more)"


@pytest.mark.parametrize(("lang", "number", "asked"), [("zh-CN", "任务 #41", "待您办理：签收"),
                                                        ("en", "Assignment #41", "Your action: accept it")])
def test_each_card_names_the_assignment_and_the_action_asked(lang: str, number: str, asked: str) -> None:
    from dataclasses import replace

    items = [replace(_item(1, "dispatched", state="dispatched"), ask="accept"), _item(2, "approved")]
    email = digest_email(Person("张", lang), items, NOW, SETTINGS)
    for part in (email.body_text, email.body_html):
        assert number in part and asked in part
        assert ("仅供知悉" if lang == "zh-CN" else "For your information") in part  # the news asks nothing
    assert 'href="https://gongzhi.example.gov.cn/assignments/41"' in email.body_html
    assert 'href="https://gongzhi.example.gov.cn/settings"' in email.body_html


def test_a_kept_macro_is_keyed_only_by_values() -> None:
    """A row kept for a mutable argument would be served after the argument changed: refused outright."""
    from shared.templating import KeptMacro

    row = KeptMacro("pages/cases/_rows.html", "row")
    with pytest.raises(TypeError, match="keyed by value"):
        row("zh-CN", "Asia/Shanghai", {"id": 1}, "市消费者协会")


def test_options_mark_the_selected_choice_and_take_only_frozen_choices() -> None:
    from shared.departments.choices import Choice
    from shared.templating import choice_options

    choices = (Choice(1, "市场监管局"), Choice(2, "消协<分会>"))
    assert choice_options(choices, "2") == choice_options(choices, 2) == (
        '<option value="1">市场监管局</option><option value="2" selected>消协&lt;分会&gt;</option>')
    assert "selected" not in choice_options(choices)
    with pytest.raises(TypeError):
        choice_options(list(choices), 1)  # type: ignore[arg-type]

    @dataclass
    class Editable:
        id: int
        name: str

    with pytest.raises(TypeError):  # kept by identity, it would go on showing the old name
        choice_options((Editable(1, "旧名"),))
