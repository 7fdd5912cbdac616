"""Message catalogue: every user-facing message by key, in zh-CN first and English.

Keys, not sentences, travel through the code; the language is picked at the
edge (Accept-Language for the API, the user's setting for emails).
"""

from __future__ import annotations

from typing import Any

DEFAULT_LANGUAGE = "zh-CN"
LANGUAGES = ("zh-CN", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "error": {"zh-CN": "请求无法处理", "en": "The request could not be processed"},
    "not_found": {"zh-CN": "未找到该记录", "en": "Not found"},
    "forbidden": {"zh-CN": "无权执行此操作", "en": "You are not allowed to do this"},
    "unauthorized": {"zh-CN": "请先登录", "en": "Please sign in"},
    "bad_credentials": {"zh-CN": "用户名或密码错误", "en": "Wrong username or password"},
    "conflict": {"zh-CN": "与当前状态冲突", "en": "Conflicts with the current state"},
    "invalid_transition": {
        "zh-CN": "当前状态“{current}”下不能执行“{action}”，可执行：{allowed}",
        "en": "Cannot {action} while {current}; allowed: {allowed}",
    },
    "stale": {
        "zh-CN": "记录已被他人修改（当前版本 {current}），请刷新后重试",
        "en": "Someone else changed this record (now version {current}); reload and retry",
    },
    "precondition_required": {
        "zh-CN": "修改需要 If-Match 请求头（记录版本）",
        "en": "Changes need an If-Match header with the record's version",
    },
    "invalid": {"zh-CN": "输入无效", "en": "Invalid input"},
    "too_large": {
        "zh-CN": "文件过大（上限 {limit_mb} MB）",
        "en": "File too large (limit {limit_mb} MB)",
    },
    "unsupported_media": {
        "zh-CN": "不支持的文件类型：{detected}",
        "en": "Unsupported file type: {detected}",
    },
    "too_many_requests": {
        "zh-CN": "登录失败次数过多，请 {minutes} 分钟后再试",
        "en": "Too many failed sign-ins; try again in {minutes} minutes",
    },
    "validation_failed": {"zh-CN": "输入校验未通过", "en": "Validation failed"},
    # field-level reasons
    "field_required": {"zh-CN": "必填", "en": "is required"},
    "field_invalid": {"zh-CN": "格式不正确", "en": "is not valid"},
    "field_too_long": {"zh-CN": "过长（最多 {max} 个字符）", "en": "is too long (at most {max})"},
    "field_too_short": {"zh-CN": "过短（至少 {min} 个字符）", "en": "is too short (at least {min})"},
    "field_out_of_range": {"zh-CN": "超出允许范围", "en": "is out of range"},
    "field_not_allowed": {"zh-CN": "取值不在允许范围：{allowed}", "en": "must be one of: {allowed}"},
    "credit_code_invalid": {
        "zh-CN": "统一社会信用代码无效（18 位，校验码按 GB 32100-2015）",
        "en": "Unified social credit code is invalid (18 characters, GB 32100-2015 check digit)",
    },
    # --- attachments (evidence files) ---
    "attachment_extension_mismatch": {
        "zh-CN": "文件扩展名“{extension}”与实际内容（{detected}）不符",
        "en": "The extension {extension} does not match the file's content ({detected})",
    },
    "attachment_multipart_required": {
        "zh-CN": "请以 multipart/form-data 方式上传，文件字段名为 file",
        "en": "Upload as multipart/form-data with the file in the field 'file'",
    },
    "attachment_empty": {"zh-CN": "文件为空", "en": "is empty"},
    "attachment_malformed": {"zh-CN": "上传内容不完整或格式错误", "en": "upload is incomplete or malformed"},
    "attachment_one_file": {"zh-CN": "每次只能上传一个文件", "en": "only one file per upload"},
    "attachment_case_closed": {
        "zh-CN": "案件已结案，不能再添加附件", "en": "The case is closed; no more attachments",
    },
    "attachment_feedback_reviewed": {
        "zh-CN": "该反馈已审核，不能再添加附件", "en": "This feedback has been reviewed; no more attachments",
    },
    "attachment_inspection_without_case": {
        "zh-CN": "该检查未关联案件，暂不能添加附件",
        "en": "This inspection belongs to no case; attachments need one",
    },
    "attachment_inspection_cancelled": {
        "zh-CN": "该检查已取消，不能再添加附件", "en": "This inspection was cancelled; no more attachments",
    },
    "attachment_content_missing": {
        "zh-CN": "附件文件缺失，请联系系统管理员",
        "en": "The attachment's file is missing; tell an administrator",
    },
    # --- end attachments ---
    # --- cases, assignments, inspections, users (core workflow) ---
    "department_unknown": {"zh-CN": "部门不存在或已停用：{ids}", "en": "Unknown or inactive department: {ids}"},
    "campaign_unknown": {"zh-CN": "专项行动不存在", "en": "Unknown campaign"},
    "case_already_closed": {"zh-CN": "案件已结案", "en": "The case is already closed"},
    "case_not_closed": {"zh-CN": "案件未结案，无需重新打开", "en": "The case is not closed"},
    "case_closed": {"zh-CN": "案件已结案，不能再派发任务", "en": "The case is closed; no new assignments"},
    "case_has_open_assignments": {
        "zh-CN": "仍有 {count} 项任务未办结，不能结案",
        "en": "{count} assignment(s) are still open; the case cannot close",
    },
    "assignee_not_in_department": {
        "zh-CN": "承办人必须是该部门的在职用户", "en": "The assignee must be an active user of that department",
    },
    "decision_note_required": {
        "zh-CN": "该任务已被退回两次，重新派发需填写审定意见",
        "en": "Returned twice: re-dispatching needs a decision note",
    },
    "note_required_for_other": {
        "zh-CN": "退回原因为“其他”时须填写说明", "en": "A note is required when the reason is 'other'",
    },
    "extension_already_pending": {
        "zh-CN": "已有一项延期申请待审批", "en": "An extension request is already pending",
    },
    "extension_already_decided": {"zh-CN": "该延期申请已审批", "en": "That extension request was already decided"},
    "no_feedback": {"zh-CN": "尚无反馈可审核", "en": "No feedback to review"},
    "inspection_not_planned": {
        "zh-CN": "检查已完成或已取消，不能再修改", "en": "The inspection is done or cancelled",
    },
    "name_taken": {"zh-CN": "名称已存在", "en": "That name is already used"},
    "code_taken": {"zh-CN": "编码已存在", "en": "That code is already used"},
    "username_taken": {"zh-CN": "用户名已存在", "en": "That username is already taken"},
    "ends_before_start": {"zh-CN": "结束日期早于开始日期", "en": "Ends before it starts"},
    "escalation_cannot_opt_out": {
        "zh-CN": "督办通知不能退订", "en": "Escalation notices (督办) cannot be turned off",
    },
    # --- end core workflow ---
}

ACTION_LABELS: dict[str, dict[str, str]] = {
    "accept": {"zh-CN": "签收", "en": "accept"},
    "return": {"zh-CN": "退回", "en": "return"},
    "submit": {"zh-CN": "提交反馈", "en": "submit feedback"},
    "approve": {"zh-CN": "审核通过", "en": "approve"},
    "send_back": {"zh-CN": "退回重办", "en": "send back"},
    "cancel": {"zh-CN": "撤销", "en": "cancel"},
    "request_extension": {"zh-CN": "申请延期", "en": "request extension"},
    "redispatch": {"zh-CN": "重新派发", "en": "re-dispatch"},
    "close": {"zh-CN": "办结案件", "en": "close"},
    "reopen": {"zh-CN": "重新打开", "en": "reopen"},
}

STATE_LABELS: dict[str, dict[str, str]] = {
    "dispatched": {"zh-CN": "待签收", "en": "dispatched"},
    "accepted": {"zh-CN": "办理中", "en": "in progress"},
    "submitted": {"zh-CN": "待审核", "en": "awaiting review"},
    "done": {"zh-CN": "已办结", "en": "done"},
    "returned": {"zh-CN": "已退回", "en": "returned"},
    "cancelled": {"zh-CN": "已撤销", "en": "cancelled"},
    "open": {"zh-CN": "办理中", "en": "open"},
    "closed": {"zh-CN": "已结案", "en": "closed"},
}


def pick_language(accept_language: str | None) -> str:
    """The first supported language in an Accept-Language header; zh-CN otherwise."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("en"):
            return "en"
        if tag.startswith("zh"):
            return "zh-CN"
    return DEFAULT_LANGUAGE


def label(table: dict[str, dict[str, str]], key: str, lang: str) -> str:
    entry = table.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry[DEFAULT_LANGUAGE]


def translate(key: str, lang: str = DEFAULT_LANGUAGE, **params: Any) -> str:
    template = label(MESSAGES, key, lang)
    if "allowed" in params and isinstance(params["allowed"], list | tuple):
        params = {**params, "allowed": "、".join(label(ACTION_LABELS, a, lang) for a in params["allowed"])
                  if lang == "zh-CN" else ", ".join(label(ACTION_LABELS, a, lang) for a in params["allowed"])}
    for name in ("current",):
        if name in params and isinstance(params[name], str):
            params = {**params, name: label(STATE_LABELS, params[name], lang)}
    if "action" in params and isinstance(params["action"], str):
        params = {**params, "action": label(ACTION_LABELS, params["action"], lang)}
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template


# --- calendar (working days, holiday schedules) -------------------------------
MESSAGES.update({
    "calendar_date_outside_year": {
        "zh-CN": "日期 {date} 不在 {year} 年内",
        "en": "Date {date} is not in {year}",
    },
    "calendar_day_conflict": {
        "zh-CN": "日期 {date} 不能既是节假日又是调休工作日",
        "en": "Date {date} cannot be both a holiday and a make-up working day",
    },
    "calendar_year_missing": {
        "zh-CN": "{year} 年的官方节假日安排尚未载入，本年截止时间均为暂定",
        "en": "The official holiday schedule for {year} is not loaded; its deadlines are provisional",
    },
    "calendar_next_year_missing": {
        "zh-CN": "{year} 年的官方节假日安排尚未载入（国务院办公厅通常于 11 月公布），请尽快载入",
        "en": "The official holiday schedule for {year} is not loaded yet (published each November); "
              "please load it",
    },
    "calendar_provisional": {
        "zh-CN": "暂定（该年官方节假日安排尚未载入）",
        "en": "provisional (no official holiday schedule loaded for that year)",
    },
})


# ---------------------------------------------------------------------------
# Reminders, notifications and emails (reminders/notifications helper).
# Keys used by shared/reminders, shared/notifications and templates/emails.
# Entries ending in ".one" are the English singular; Chinese has no plural.
MESSAGES.update({
    # kinds: group headings in a digest, and the opt-out list on the preferences page
    "notice.kind.escalation": {"zh-CN": "督办（逾期 {days} 个工作日以上）",
                               "en": "Escalated (督办): overdue {days}+ working days"},
    "notice.kind.urge": {"zh-CN": "催办：本部门逾期任务", "en": "Urge: overdue in your department"},
    "notice.kind.overdue": {"zh-CN": "已逾期", "en": "Overdue"},
    "notice.kind.due_today": {"zh-CN": "今天到期", "en": "Due today"},
    "notice.kind.accept_overdue": {"zh-CN": "超时未签收", "en": "Not accepted in time"},
    "notice.kind.due_soon": {"zh-CN": "即将到期", "en": "Due soon"},
    "notice.kind.extension_pending": {"zh-CN": "延期申请待审批",
                                      "en": "Extension requests awaiting decision"},
    "notice.kind.review_pending": {"zh-CN": "反馈待审核", "en": "Feedback awaiting review"},
    "notice.kind.return_pending": {"zh-CN": "退回任务待处理", "en": "Returned assignments awaiting you"},
    "notice.kind.events": {"zh-CN": "任务动态", "en": "Updates"},
    "notice.kind.dispatched": {"zh-CN": "新派发任务", "en": "New assignments"},
    "notice.kind.returned": {"zh-CN": "任务被退回", "en": "Assignment returned"},
    "notice.kind.extension_requested": {"zh-CN": "延期申请", "en": "Extension requested"},
    "notice.kind.extension_decided": {"zh-CN": "延期审批结果", "en": "Extension decided"},
    "notice.kind.submitted": {"zh-CN": "反馈已提交", "en": "Feedback submitted"},
    "notice.kind.approved": {"zh-CN": "审核通过（办结）", "en": "Approved (done)"},
    "notice.kind.sent_back": {"zh-CN": "退回重办", "en": "Sent back for rework"},
    "notice.kind.cancelled": {"zh-CN": "任务撤销", "en": "Assignment cancelled"},
    # subject tags, one per most-urgent group
    "email.tag.escalation": {"zh-CN": "【督办】", "en": "[Escalated] "},
    "email.tag.urge": {"zh-CN": "【催办】", "en": "[Urge] "},
    "email.tag.overdue": {"zh-CN": "【逾期】", "en": "[Overdue] "},
    "email.tag.due_today": {"zh-CN": "【催办】", "en": "[Due today] "},
    "email.tag.accept_overdue": {"zh-CN": "【催签】", "en": "[Please accept] "},
    "email.tag.due_soon": {"zh-CN": "【预警】", "en": "[Due soon] "},
    "email.tag.extension_pending": {"zh-CN": "【待审批】", "en": "[Decision needed] "},
    "email.tag.review_pending": {"zh-CN": "【待审核】", "en": "[Review needed] "},
    "email.tag.return_pending": {"zh-CN": "【待处理】", "en": "[Returned] "},
    "email.tag.events": {"zh-CN": "【通知】", "en": "[Update] "},
    "email.tag.dispatched": {"zh-CN": "【新任务】", "en": "[New assignment] "},
    "email.tag.returned": {"zh-CN": "【退回】", "en": "[Returned] "},
    "email.tag.returned_decision": {"zh-CN": "【待审定】", "en": "[Decision needed] "},
    "email.tag.extension_requested": {"zh-CN": "【延期申请】", "en": "[Extension request] "},
    "email.tag.extension_approved": {"zh-CN": "【延期已批准】", "en": "[Extension approved] "},
    "email.tag.extension_denied": {"zh-CN": "【延期未批准】", "en": "[Extension denied] "},
    "email.tag.submitted": {"zh-CN": "【待审核】", "en": "[Review needed] "},
    "email.tag.approved": {"zh-CN": "【已办结】", "en": "[Done] "},
    "email.tag.sent_back": {"zh-CN": "【退回重办】", "en": "[Sent back] "},
    "email.tag.cancelled": {"zh-CN": "【已撤销】", "en": "[Cancelled] "},
    # digest subject headlines ({n} items of the most urgent group)
    "email.headline.escalation": {"zh-CN": "{n} 项任务逾期 {days} 个工作日以上",
                                  "en": "{n} assignments overdue {days}+ working days"},
    "email.headline.escalation.one": {"zh-CN": "{n} 项任务逾期 {days} 个工作日以上",
                                      "en": "1 assignment overdue {days}+ working days"},
    "email.headline.urge": {"zh-CN": "本部门 {n} 项任务已逾期",
                            "en": "{n} assignments of your department overdue"},
    "email.headline.urge.one": {"zh-CN": "本部门 {n} 项任务已逾期",
                                "en": "1 assignment of your department overdue"},
    "email.headline.overdue": {"zh-CN": "{n} 项任务已逾期", "en": "{n} assignments overdue"},
    "email.headline.overdue.one": {"zh-CN": "{n} 项任务已逾期", "en": "1 assignment overdue"},
    "email.headline.due_today": {"zh-CN": "{n} 项任务今天到期", "en": "{n} assignments due today"},
    "email.headline.due_today.one": {"zh-CN": "{n} 项任务今天到期", "en": "1 assignment due today"},
    "email.headline.accept_overdue": {"zh-CN": "{n} 项任务超时未签收",
                                      "en": "{n} assignments not yet accepted"},
    "email.headline.accept_overdue.one": {"zh-CN": "{n} 项任务超时未签收",
                                          "en": "1 assignment not yet accepted"},
    "email.headline.due_soon": {"zh-CN": "{n} 项任务即将到期", "en": "{n} assignments due soon"},
    "email.headline.due_soon.one": {"zh-CN": "{n} 项任务即将到期", "en": "1 assignment due soon"},
    "email.headline.extension_pending": {"zh-CN": "{n} 项延期申请待审批",
                                         "en": "{n} extension requests awaiting decision"},
    "email.headline.extension_pending.one": {"zh-CN": "{n} 项延期申请待审批",
                                             "en": "1 extension request awaiting decision"},
    "email.headline.review_pending": {"zh-CN": "{n} 项反馈待审核",
                                      "en": "{n} feedback submissions awaiting review"},
    "email.headline.review_pending.one": {"zh-CN": "{n} 项反馈待审核",
                                          "en": "1 feedback submission awaiting review"},
    "email.headline.return_pending": {"zh-CN": "{n} 项退回任务待处理",
                                      "en": "{n} returned assignments awaiting you"},
    "email.headline.return_pending.one": {"zh-CN": "{n} 项退回任务待处理",
                                          "en": "1 returned assignment awaiting you"},
    "email.headline.events": {"zh-CN": "{n} 条任务动态", "en": "{n} assignment updates"},
    "email.headline.events.one": {"zh-CN": "{n} 条任务动态", "en": "1 assignment update"},
    "email.subject.single": {"zh-CN": "{reference} {title}：{status}", "en": "{reference} {title}: {status}"},
    "email.subject.event": {"zh-CN": "{reference} {title}", "en": "{reference} {title}"},
    "email.headline.more": {"zh-CN": "（另有 {n} 项）", "en": " (+{n} more)"},
    # per-item status lines
    "notice.status.due_today": {"zh-CN": "今天 {time} 到期", "en": "due today at {time}"},
    "notice.status.accept_overdue": {"zh-CN": "签收期限 {due} 已过，请尽快签收",
                                     "en": "acceptance was due {due}; please accept or return it"},
    "notice.status.not_accepted": {"zh-CN": "尚未签收", "en": "not yet accepted"},
    "notice.status.extension_pending": {"zh-CN": "申请延期 {days} 个工作日，理由：{reason}",
                                        "en": "{days} more working day(s) requested: {reason}"},
    "notice.status.review_pending": {"zh-CN": "反馈已于 {at} 提交，等待审核",
                                     "en": "feedback submitted {at}, awaiting your review"},
    "notice.status.return_pending": {"zh-CN": "已退回（{reason}），请重新派发或撤销",
                                     "en": "returned ({reason}); re-dispatch or cancel it"},
    "notice.status.return_decision": {"zh-CN": "已两次退回（{reason}），请审定",
                                      "en": "returned twice ({reason}); your decision (审定) is needed"},
    "notice.short.overdue": {"zh-CN": "已逾期 {days} 个工作日", "en": "overdue by {days} working day(s)"},
    "notice.short.overdue_today": {"zh-CN": "已逾期", "en": "overdue"},
    "notice.short.due_soon": {"zh-CN": "{days} 个工作日后到期", "en": "due in {days} working day(s)"},
    "notice.short.accept_overdue": {"zh-CN": "超时未签收", "en": "not accepted in time"},
    "notice.short.extension_pending": {"zh-CN": "延期申请待审批", "en": "extension request awaiting decision"},
    "notice.short.review_pending": {"zh-CN": "反馈待审核", "en": "feedback awaiting review"},
    "notice.short.return_pending": {"zh-CN": "退回待处理", "en": "returned, awaiting you"},
    "notice.short.return_decision": {"zh-CN": "两次退回，待审定", "en": "returned twice, decision needed"},
    "notice.status.waiting": {"zh-CN": "已等待 {days} 个工作日", "en": "waiting {days} working day(s)"},
    "notice.event.dispatched": {"zh-CN": "新派发任务：请于 {accept_due} 前签收，{due} 前反馈",
                                "en": "new assignment: accept by {accept_due}, feedback due {due}"},
    "notice.event.returned": {"zh-CN": "{department}退回了任务：{reason}",
                              "en": "{department} returned the assignment: {reason}"},
    "notice.event.returned_decision": {"zh-CN": "{department}第二次退回了任务：{reason}。需要您审定",
                                       "en": "{department} returned it a second time: {reason}. "
                                             "Your decision (审定) is needed"},
    "notice.event.extension_requested": {"zh-CN": "{department}申请延期 {days} 个工作日，理由：{reason}",
                                         "en": "{department} asks for {days} more working day(s): {reason}"},
    "notice.event.extension_approved": {"zh-CN": "延期申请已批准，新的反馈期限 {due}",
                                        "en": "extension approved; feedback now due {due}"},
    "notice.event.extension_denied": {"zh-CN": "延期申请未获批准，反馈期限仍为 {due}",
                                      "en": "extension denied; feedback still due {due}"},
    "notice.event.submitted": {"zh-CN": "{department}已提交反馈，等待审核",
                               "en": "{department} submitted feedback for your review"},
    "notice.event.approved": {"zh-CN": "反馈已审核通过，任务办结",
                              "en": "feedback approved; the assignment is done"},
    "notice.event.sent_back": {"zh-CN": "反馈被退回重办：{reason}",
                               "en": "feedback sent back for rework: {reason}"},
    "notice.event.cancelled": {"zh-CN": "任务已撤销：{reason}", "en": "assignment cancelled: {reason}"},
    "notice.event.by": {"zh-CN": "（{name}）", "en": " (by {name})"},
    "notice.comment": {"zh-CN": "意见：{comment}", "en": "Comment: {comment}"},
    "notice.return_reason.not_our_jurisdiction": {"zh-CN": "不属于本部门职责", "en": "not our jurisdiction"},
    "notice.return_reason.wrong_locality": {"zh-CN": "不属于本辖区", "en": "wrong locality"},
    "notice.return_reason.unclear_ownership": {"zh-CN": "职责不清", "en": "unclear ownership"},
    "notice.return_reason.duplicate": {"zh-CN": "重复派发", "en": "duplicate"},
    "notice.return_reason.other": {"zh-CN": "其他", "en": "other"},
    # email body
    "email.greeting": {"zh-CN": "{name}，您好：", "en": "Hello {name},"},
    "email.digest.intro": {"zh-CN": "截至 {at}，以下 {n} 项事项需要您关注，按紧急程度排列：",
                           "en": "As of {at}, these {n} items need your attention, most urgent first:"},
    "email.digest.intro.one": {"zh-CN": "截至 {at}，以下 {n} 项事项需要您关注：",
                               "en": "As of {at}, this item needs your attention:"},
    "email.event.intro": {"zh-CN": "您关注的任务有新动态：", "en": "There is news about an assignment:"},
    "email.more_items": {"zh-CN": "……另有 {n} 项，请在平台中查看", "en": "… and {n} more: see them in Gongzhi"},
    "email.count": {"zh-CN": "（{n}）", "en": " ({n})"},
    "email.colon": {"zh-CN": "：", "en": ": "},
    "email.field.case": {"zh-CN": "案件", "en": "Case"},
    "email.field.department": {"zh-CN": "承办部门", "en": "Department"},
    "email.field.state": {"zh-CN": "状态", "en": "State"},
    "email.field.due": {"zh-CN": "反馈期限", "en": "Feedback due"},
    "email.field.provisional": {"zh-CN": "（暂定，待公布节假日安排后确认）",
                                "en": " (provisional until the holiday schedule is published)"},
    "email.action.assignment": {"zh-CN": "查看任务", "en": "Open assignment"},
    "email.action.case": {"zh-CN": "查看案件", "en": "Open case"},
    "email.action.queue": {"zh-CN": "打开共治协同平台", "en": "Open Gongzhi"},
    "email.footer": {"zh-CN": "本邮件由共治协同平台自动发送，请勿直接回复。"
                              "提醒方式（每日汇总或逐条发送）和退订可在个人设置中调整；督办通知不可退订。",
                     "en": "Sent automatically by Gongzhi; please do not reply. Choose a daily digest or "
                           "single emails, or opt out of kinds of notice, in your settings; escalations "
                           "(督办) cannot be turned off."},
    "email.app_name": {"zh-CN": "共治协同平台", "en": "Gongzhi coordination platform"},
    "reminder.skipped.non_working_day": {"zh-CN": "今天不是工作日，不发送提醒",
                                         "en": "not a working day: no reminders sent"},
    "reminder.skipped.outside_hours": {"zh-CN": "不在工作时间（{start}–{close}），不发送提醒",
                                       "en": "outside working hours ({start}–{close}): no reminders sent"},
})


# ---------------------------------------------------------------------------
# Server-rendered pages (services/api/pages, templates/pages) — pages helper.
# Labels and messages used only by the pages; keys start with "page.".
MESSAGES.update({
    "page.app_name": {"zh-CN": "共治协同平台", "en": "Gongzhi"},
    "page.skip_to_content": {"zh-CN": "跳到正文", "en": "Skip to content"},
    "page.nav.queue": {"zh-CN": "工作台", "en": "Queue"},
    "page.nav.cases": {"zh-CN": "案件", "en": "Cases"},
    "page.nav.main": {"zh-CN": "主导航", "en": "Main navigation"},
    "page.logout": {"zh-CN": "退出登录", "en": "Sign out"},
    "page.signed_in_as": {"zh-CN": "{name}（{department}·{role}）", "en": "{name} ({department}, {role})"},
    "page.role.liaison": {"zh-CN": "联络员", "en": "liaison"},
    "page.role.head": {"zh-CN": "部门负责人", "en": "head of department"},
    "page.role.coordinator": {"zh-CN": "协调办", "en": "coordinator"},
    "page.role.leader": {"zh-CN": "领导", "en": "leader"},
    "page.role.admin": {"zh-CN": "系统管理员", "en": "administrator"},
    "page.flash.ok": {"zh-CN": "操作成功", "en": "Done"},
    "page.flash.error": {"zh-CN": "操作未完成", "en": "Not done"},
    "page.yes": {"zh-CN": "是", "en": "yes"},
    "page.no": {"zh-CN": "否", "en": "no"},
    "page.none": {"zh-CN": "无", "en": "none"},
    "page.dash": {"zh-CN": "—", "en": "—"},
    "page.optional": {"zh-CN": "（选填）", "en": " (optional)"},
    "page.required": {"zh-CN": "（必填）", "en": " (required)"},
    "page.read_only": {"zh-CN": "只读视图：领导可查看全部信息，不能修改。",
                       "en": "Read-only: leaders see everything and change nothing."},
    # login
    "page.login.title": {"zh-CN": "登录", "en": "Sign in"},
    "page.login.username": {"zh-CN": "用户名", "en": "Username"},
    "page.login.password": {"zh-CN": "密码", "en": "Password"},
    "page.login.submit": {"zh-CN": "登录", "en": "Sign in"},
    "page.login.intro": {"zh-CN": "部门间消费维权案件共享、联合执法与结果反馈",
                         "en": "Sharing cases, joint enforcement and feedback between departments"},
    "page.login.expired": {"zh-CN": "登录表单已过期，请重新输入后登录",
                           "en": "The sign-in form expired; please sign in again"},
    "page.logged_out": {"zh-CN": "您已退出登录", "en": "You have signed out"},
    # errors
    "page.stale": {"zh-CN": "记录已被他人修改，请刷新后重试",
                   "en": "Someone else changed this record; reload the page and try again"},
    "page.csrf_failed": {"zh-CN": "页面已过期或请求来源无法验证，请返回并刷新页面后重试",
                         "en": "The page expired or the request could not be verified; go back, reload and retry"},
    "page.error.title": {"zh-CN": "出错了", "en": "Something went wrong"},
    "page.error.back": {"zh-CN": "返回工作台", "en": "Back to the queue"},
    "page.validation": {"zh-CN": "输入校验未通过：{details}", "en": "Please check your input: {details}"},
    "page.validation.item": {"zh-CN": "{field}{reason}", "en": "{field} {reason}"},
    # queue
    "page.queue.title": {"zh-CN": "{department} 工作台", "en": "Queue of {department}"},
    "page.queue.title_global": {"zh-CN": "协调工作台", "en": "Coordination queue"},
    "page.queue.bucket.to_accept": {"zh-CN": "待签收", "en": "To accept"},
    "page.queue.bucket.in_progress": {"zh-CN": "办理中", "en": "In progress"},
    "page.queue.bucket.due_soon": {"zh-CN": "两个工作日内到期", "en": "Due within 2 working days"},
    "page.queue.bucket.overdue": {"zh-CN": "已逾期", "en": "Overdue"},
    "page.queue.bucket.awaiting_review": {"zh-CN": "待审核", "en": "Awaiting review"},
    "page.queue.buckets": {"zh-CN": "任务概况", "en": "Summary"},
    "page.queue.list": {"zh-CN": "待办任务（按反馈期限排序）", "en": "Open assignments, earliest due first"},
    "page.queue.filtered": {"zh-CN": "筛选：{bucket}", "en": "Showing: {bucket}"},
    "page.queue.show_all": {"zh-CN": "显示全部", "en": "Show all"},
    "page.queue.empty": {"zh-CN": "暂无待办任务", "en": "Nothing to do"},
    "page.queue.department": {"zh-CN": "部门", "en": "Department"},
    "page.queue.pick": {"zh-CN": "查看", "en": "Show"},
    "page.queue.review": {"zh-CN": "待审核反馈", "en": "Feedback awaiting review"},
    "page.queue.decision": {"zh-CN": "两次退回，待审定", "en": "Returned twice: decision needed (审定)"},
    "page.queue.returned": {"zh-CN": "已退回，待重新派发或撤销", "en": "Returned: re-dispatch or cancel"},
    "page.col.reference": {"zh-CN": "案件编号", "en": "Case"},
    "page.col.assignment": {"zh-CN": "任务", "en": "Assignment"},
    "page.col.title": {"zh-CN": "标题", "en": "Title"},
    "page.col.department": {"zh-CN": "承办部门", "en": "Department"},
    "page.col.state": {"zh-CN": "状态", "en": "State"},
    "page.col.accept_due": {"zh-CN": "签收期限", "en": "Accept by"},
    "page.col.feedback_due": {"zh-CN": "反馈期限", "en": "Feedback due"},
    "page.col.flags": {"zh-CN": "提示", "en": "Notes"},
    "page.badge.overdue": {"zh-CN": "已逾期", "en": "overdue"},
    "page.badge.accept_overdue": {"zh-CN": "超时未签收", "en": "not accepted in time"},
    "page.badge.extended": {"zh-CN": "已延期", "en": "extended"},
    "page.badge.provisional": {"zh-CN": "暂定", "en": "provisional"},
    "page.badge.extension_pending": {"zh-CN": "延期待审批", "en": "extension pending"},
    "page.badge.needs_decision": {"zh-CN": "待审定", "en": "decision needed"},
    "page.badge.typical": {"zh-CN": "典型案例", "en": "typical case"},
    "page.provisional_note": {"zh-CN": "暂定：该年官方节假日安排尚未公布，公布后自动重新计算",
                              "en": "Provisional: recomputed when that year's holiday schedule is loaded"},
    # assignment page
    "page.assignment.title": {"zh-CN": "任务 #{id}", "en": "Assignment #{id}"},
    "page.assignment.details": {"zh-CN": "任务信息", "en": "Assignment"},
    "page.assignment.case": {"zh-CN": "所属案件", "en": "Case"},
    "page.assignment.instructions": {"zh-CN": "办理要求", "en": "Instructions"},
    "page.assignment.assignee": {"zh-CN": "承办人", "en": "Assignee"},
    "page.assignment.dispatched": {"zh-CN": "派发", "en": "Dispatched"},
    "page.assignment.dispatched_by": {"zh-CN": "{at}，{name}", "en": "{at} by {name}"},
    "page.assignment.working_days": {"zh-CN": "办理时限", "en": "Time allowed"},
    "page.assignment.working_days_value": {"zh-CN": "{n} 个工作日", "en": "{n} working day(s)"},
    "page.assignment.original_due": {"zh-CN": "原定期限 {due}", "en": "originally due {due}"},
    "page.assignment.accepted_at": {"zh-CN": "签收时间", "en": "Accepted"},
    "page.assignment.done_at": {"zh-CN": "办结时间", "en": "Done"},
    "page.assignment.returns": {"zh-CN": "退回记录", "en": "Returns"},
    "page.assignment.returns_value": {"zh-CN": "已退回 {n} 次，最近原因：{reason}",
                                      "en": "returned {n} time(s); last reason: {reason}"},
    "page.assignment.cancel_reason": {"zh-CN": "撤销原因", "en": "Cancelled because"},
    "page.assignment.inspection": {"zh-CN": "联合检查", "en": "Joint inspection"},
    "page.assignment.feedback": {"zh-CN": "反馈记录", "en": "Feedback"},
    "page.assignment.no_feedback": {"zh-CN": "尚未提交反馈", "en": "No feedback yet"},
    "page.assignment.feedback_by": {"zh-CN": "{name} 于 {at} 提交", "en": "submitted {at} by {name}"},
    "page.assignment.review": {"zh-CN": "审核：{decision}（{name}，{at}）", "en": "Review: {decision} ({name}, {at})"},
    "page.assignment.review_pending": {"zh-CN": "待审核", "en": "awaiting review"},
    "page.assignment.extensions": {"zh-CN": "延期申请", "en": "Extension requests"},
    "page.assignment.no_extensions": {"zh-CN": "无延期申请", "en": "No extension requests"},
    "page.assignment.extension_line": {"zh-CN": "{name} 于 {at} 申请延期 {n} 个工作日",
                                       "en": "{name} asked {at} for {n} more working day(s)"},
    "page.assignment.extension_decided": {"zh-CN": "{decision}（{name}，{at}）", "en": "{decision} ({name}, {at})"},
    "page.assignment.extension_new_due": {"zh-CN": "新的反馈期限 {due}", "en": "feedback now due {due}"},
    "page.assignment.actions": {"zh-CN": "办理", "en": "Actions"},
    "page.assignment.no_actions": {"zh-CN": "当前没有您可执行的操作", "en": "There is nothing for you to do here now"},
    "page.assignment.attachments": {"zh-CN": "附件", "en": "Attachments"},
    "page.reason": {"zh-CN": "理由", "en": "Reason"},
    "page.comment": {"zh-CN": "意见", "en": "Comment"},
    "page.note": {"zh-CN": "说明", "en": "Note"},
    # forms (button texts reuse ACTION_LABELS where they exist)
    "page.form.accept": {"zh-CN": "签收", "en": "Accept"},
    "page.form.accept_hint": {"zh-CN": "签收后由本部门办理，并在反馈期限前提交反馈。",
                              "en": "Accepting makes your department responsible for feedback by the due time."},
    "page.form.return": {"zh-CN": "退回", "en": "Return"},
    "page.form.return_reason": {"zh-CN": "退回原因", "en": "Reason"},
    "page.form.return_note": {"zh-CN": "说明（原因为“其他”时必填）", "en": "Note (required for 'other')"},
    "page.form.extension": {"zh-CN": "申请延期", "en": "Request an extension"},
    "page.form.extension_days": {"zh-CN": "延期工作日数", "en": "Extra working days"},
    "page.form.extension_reason": {"zh-CN": "延期理由", "en": "Why"},
    "page.form.feedback": {"zh-CN": "提交反馈", "en": "Submit feedback"},
    "page.form.narrative": {"zh-CN": "办理情况", "en": "What was done"},
    "page.form.outcomes": {"zh-CN": "办理结果（数量）", "en": "Outcomes"},
    "page.form.approve": {"zh-CN": "审核通过", "en": "Approve"},
    "page.form.send_back": {"zh-CN": "退回重办", "en": "Send back for rework"},
    "page.form.send_back_reason": {"zh-CN": "退回重办理由", "en": "What must be redone"},
    "page.form.cancel": {"zh-CN": "撤销任务", "en": "Cancel the assignment"},
    "page.form.cancel_reason": {"zh-CN": "撤销原因", "en": "Why"},
    "page.form.redispatch": {"zh-CN": "重新派发", "en": "Re-dispatch"},
    "page.form.redispatch_department": {"zh-CN": "承办部门", "en": "Department"},
    "page.form.working_days": {"zh-CN": "办理时限（工作日）", "en": "Working days allowed"},
    "page.form.working_days_default": {"zh-CN": "留空则沿用原时限", "en": "Leave empty to keep the previous time"},
    "page.form.instructions": {"zh-CN": "办理要求", "en": "Instructions"},
    "page.form.decision_note": {"zh-CN": "审定意见", "en": "Decision (审定)"},
    "page.form.decision_note_required": {"zh-CN": "该任务已被退回两次，须填写审定意见",
                                         "en": "Returned twice: a decision note is required"},
    "page.form.decide_extension": {"zh-CN": "审批延期申请", "en": "Decide the extension request"},
    "page.form.approve_extension": {"zh-CN": "批准延期", "en": "Approve extension"},
    "page.form.deny_extension": {"zh-CN": "驳回延期", "en": "Deny extension"},
    "page.form.comment_case": {"zh-CN": "添加备注", "en": "Add a note"},
    "page.form.comment_text": {"zh-CN": "备注内容", "en": "Note"},
    "page.form.comment_submit": {"zh-CN": "添加", "en": "Add"},
    "page.form.dispatch": {"zh-CN": "派发任务", "en": "Dispatch an assignment"},
    "page.form.dispatch_department": {"zh-CN": "承办部门", "en": "Department"},
    "page.form.dispatch_days_default": {"zh-CN": "留空则按案件来源的默认时限",
                                        "en": "Leave empty for the default time for this source"},
    "page.form.dispatch_submit": {"zh-CN": "派发", "en": "Dispatch"},
    "page.form.close_case": {"zh-CN": "结案", "en": "Close the case"},
    "page.form.close_note": {"zh-CN": "结案说明", "en": "Closing note"},
    "page.form.reopen_case": {"zh-CN": "重新打开案件", "en": "Reopen the case"},
    "page.form.reopen_reason": {"zh-CN": "重新打开原因", "en": "Why"},
    # outcomes
    "page.outcome.enterprises_inspected": {"zh-CN": "检查企业（家）", "en": "Enterprises inspected"},
    "page.outcome.problems_found": {"zh-CN": "发现问题（个）", "en": "Problems found"},
    "page.outcome.rectification_orders": {"zh-CN": "责令整改（份）", "en": "Rectification orders"},
    "page.outcome.cases_filed": {"zh-CN": "立案（件）", "en": "Cases filed (立案)"},
    "page.outcome.fines_yuan": {"zh-CN": "罚没款（元）", "en": "Fines (yuan)"},
    "page.outcome.complaints_mediated": {"zh-CN": "调解投诉（件）", "en": "Complaints mediated"},
    "page.outcome.losses_recovered_yuan": {"zh-CN": "挽回经济损失（元）", "en": "Consumer losses recovered (yuan)"},
    # success messages
    "page.done.accept": {"zh-CN": "已签收，请在反馈期限前提交反馈", "en": "Accepted; feedback is due by the due time"},
    "page.done.return": {"zh-CN": "已退回，协调办将重新派发或审定", "en": "Returned to the coordinator"},
    "page.done.extension": {"zh-CN": "延期申请已提交，待审批", "en": "Extension requested; awaiting a decision"},
    "page.done.feedback": {"zh-CN": "反馈已提交，等待审核", "en": "Feedback submitted for review"},
    "page.done.approve": {"zh-CN": "已审核通过，任务办结", "en": "Approved; the assignment is done"},
    "page.done.send_back": {"zh-CN": "已退回重办", "en": "Sent back for rework"},
    "page.done.cancel": {"zh-CN": "任务已撤销", "en": "Assignment cancelled"},
    "page.done.redispatch": {"zh-CN": "已重新派发", "en": "Re-dispatched"},
    "page.done.extension_approved": {"zh-CN": "已批准延期", "en": "Extension approved"},
    "page.done.extension_denied": {"zh-CN": "已驳回延期申请", "en": "Extension denied"},
    "page.done.comment": {"zh-CN": "备注已添加", "en": "Note added"},
    "page.done.dispatch": {"zh-CN": "任务已派发", "en": "Assignment dispatched"},
    "page.done.close": {"zh-CN": "案件已结案", "en": "Case closed"},
    "page.done.reopen": {"zh-CN": "案件已重新打开", "en": "Case reopened"},
    # form field names in validation messages
    "page.field.narrative": {"zh-CN": "办理情况", "en": "What was done"},
    "page.field.reason": {"zh-CN": "理由", "en": "Reason"},
    "page.field.note": {"zh-CN": "说明", "en": "Note"},
    "page.field.comment": {"zh-CN": "意见", "en": "Comment"},
    "page.field.text": {"zh-CN": "备注内容", "en": "Note"},
    "page.field.extra_working_days": {"zh-CN": "延期工作日数", "en": "Extra working days"},
    "page.field.working_days": {"zh-CN": "办理时限", "en": "Working days"},
    "page.field.department_id": {"zh-CN": "承办部门", "en": "Department"},
    "page.field.instructions": {"zh-CN": "办理要求", "en": "Instructions"},
    "page.field.decision_note": {"zh-CN": "审定意见", "en": "Decision note"},
    "page.field.version": {"zh-CN": "记录版本", "en": "Record version"},
    "page.field.cursor": {"zh-CN": "分页位置", "en": "Page position"},
    # cases
    "page.cases.title": {"zh-CN": "案件", "en": "Cases"},
    "page.cases.filters": {"zh-CN": "筛选", "en": "Filter"},
    "page.cases.q": {"zh-CN": "关键词（标题或企业名称）", "en": "Search (title or enterprise)"},
    "page.cases.any": {"zh-CN": "全部", "en": "Any"},
    "page.cases.apply": {"zh-CN": "筛选", "en": "Apply"},
    "page.cases.reset": {"zh-CN": "清除条件", "en": "Clear"},
    "page.cases.next": {"zh-CN": "下一页", "en": "Next page"},
    "page.cases.first": {"zh-CN": "回到第一页", "en": "First page"},
    "page.cases.empty": {"zh-CN": "没有符合条件的案件", "en": "No cases match"},
    "page.cases.typical_only": {"zh-CN": "仅典型案例", "en": "Typical cases only"},
    "page.case.status": {"zh-CN": "状态", "en": "Status"},
    "page.case.priority": {"zh-CN": "优先级", "en": "Priority"},
    "page.case.category": {"zh-CN": "类别", "en": "Category"},
    "page.case.source": {"zh-CN": "来源", "en": "Source"},
    "page.case.region": {"zh-CN": "区域", "en": "Region"},
    "page.case.enterprise": {"zh-CN": "涉事企业", "en": "Enterprise"},
    "page.case.credit_code": {"zh-CN": "统一社会信用代码", "en": "Credit code"},
    "page.case.lead": {"zh-CN": "牵头部门", "en": "Lead department"},
    "page.case.coordinator": {"zh-CN": "协调人", "en": "Coordinator"},
    "page.case.campaign": {"zh-CN": "专项行动", "en": "Campaign"},
    "page.case.created": {"zh-CN": "开案时间", "en": "Opened"},
    "page.case.updated": {"zh-CN": "最近更新", "en": "Updated"},
    "page.case.closed": {"zh-CN": "结案时间", "en": "Closed"},
    "page.case.description": {"zh-CN": "案情描述", "en": "Description"},
    "page.case.summary": {"zh-CN": "案件概要", "en": "Case summary"},
    "page.case.complainant": {"zh-CN": "投诉人信息", "en": "Complainant"},
    "page.case.complainant_name": {"zh-CN": "姓名", "en": "Name"},
    "page.case.complainant_phone": {"zh-CN": "联系电话", "en": "Phone"},
    "page.case.complainant_id_number": {"zh-CN": "身份证号", "en": "ID number"},
    "page.case.complainant_address": {"zh-CN": "地址", "en": "Address"},
    "page.case.masked": {"zh-CN": "已脱敏：完整信息仅牵头部门和协调办可见",
                         "en": "Masked: only the lead department and coordinators see it in full"},
    "page.case.unmasked": {"zh-CN": "完整信息：本次查看已记入审计日志",
                           "en": "Shown in full: this view is recorded in the audit trail"},
    "page.case.no_complainant": {"zh-CN": "未登记投诉人信息", "en": "No complainant recorded"},
    "page.case.shared": {"zh-CN": "共享部门", "en": "Shared with"},
    "page.case.assignments": {"zh-CN": "任务", "en": "Assignments"},
    "page.case.no_assignments": {"zh-CN": "尚未派发任务", "en": "No assignments yet"},
    "page.case.timeline": {"zh-CN": "办理过程", "en": "Timeline"},
    "page.case.attachments": {"zh-CN": "附件", "en": "Attachments"},
    "page.case.no_attachments": {"zh-CN": "无附件", "en": "No attachments"},
    "page.case.manage": {"zh-CN": "案件管理", "en": "Manage the case"},
    "page.case.open_assignments": {"zh-CN": "未办结任务 {n} 项", "en": "{n} open assignment(s)"},
    "page.status.open": {"zh-CN": "办理中", "en": "open"},
    "page.status.closed": {"zh-CN": "已结案", "en": "closed"},
    "page.source.hotline_12315": {"zh-CN": "12315 热线", "en": "12315 hotline"},
    "page.source.online_platform": {"zh-CN": "网络平台", "en": "online platform"},
    "page.source.inspection": {"zh-CN": "监督检查", "en": "inspection"},
    "page.source.media": {"zh-CN": "媒体曝光", "en": "media"},
    "page.source.referral": {"zh-CN": "部门移送", "en": "referral"},
    "page.source.other": {"zh-CN": "其他", "en": "other"},
    "page.priority.low": {"zh-CN": "低", "en": "low"},
    "page.priority.normal": {"zh-CN": "一般", "en": "normal"},
    "page.priority.high": {"zh-CN": "高", "en": "high"},
    "page.priority.urgent": {"zh-CN": "紧急", "en": "urgent"},
    "page.extension.pending": {"zh-CN": "待审批", "en": "pending"},
    "page.extension.approved": {"zh-CN": "已批准", "en": "approved"},
    "page.extension.denied": {"zh-CN": "已驳回", "en": "denied"},
    "page.review.approved": {"zh-CN": "审核通过", "en": "approved"},
    "page.review.sent_back": {"zh-CN": "退回重办", "en": "sent back"},
    # timeline
    "page.event.system": {"zh-CN": "系统", "en": "system"},
    "page.event.assignment_ref": {"zh-CN": "任务 #{id}", "en": "assignment #{id}"},
    "page.event.case.created": {"zh-CN": "开案", "en": "opened the case"},
    "page.event.case.updated": {"zh-CN": "修改案件信息", "en": "edited the case"},
    "page.event.case.typical_flagged": {"zh-CN": "标记典型案例", "en": "flagged as a typical case"},
    "page.event.case.shared": {"zh-CN": "共享案件", "en": "shared the case"},
    "page.event.case.closed": {"zh-CN": "结案", "en": "closed the case"},
    "page.event.case.reopened": {"zh-CN": "重新打开案件", "en": "reopened the case"},
    "page.event.case.commented": {"zh-CN": "备注", "en": "note"},
    "page.event.case.personal_data_read": {"zh-CN": "查看投诉人完整信息", "en": "viewed the complainant's data"},
    "page.event.assignment.dispatched": {"zh-CN": "派发任务", "en": "dispatched"},
    "page.event.assignment.accepted": {"zh-CN": "签收", "en": "accepted"},
    "page.event.assignment.returned": {"zh-CN": "退回", "en": "returned"},
    "page.event.assignment.redispatched": {"zh-CN": "重新派发", "en": "re-dispatched"},
    "page.event.assignment.extension_requested": {"zh-CN": "申请延期", "en": "requested an extension"},
    "page.event.assignment.extension_approved": {"zh-CN": "批准延期", "en": "approved the extension"},
    "page.event.assignment.extension_denied": {"zh-CN": "驳回延期", "en": "denied the extension"},
    "page.event.assignment.feedback_submitted": {"zh-CN": "提交反馈", "en": "submitted feedback"},
    "page.event.assignment.approved": {"zh-CN": "审核通过", "en": "approved"},
    "page.event.assignment.sent_back": {"zh-CN": "退回重办", "en": "sent back for rework"},
    "page.event.assignment.cancelled": {"zh-CN": "撤销任务", "en": "cancelled"},
    "page.event.assignment.deadline_recomputed": {"zh-CN": "按节假日安排重新计算期限",
                                                  "en": "deadline recomputed from the holiday schedule"},
    "page.event.inspection.scheduled": {"zh-CN": "安排联合检查", "en": "scheduled a joint inspection"},
    "page.event.inspection.updated": {"zh-CN": "修改联合检查", "en": "edited the joint inspection"},
    "page.event.inspection.completed": {"zh-CN": "联合检查完成", "en": "joint inspection done"},
    "page.event.inspection.closed": {"zh-CN": "关闭联合检查", "en": "closed the joint inspection"},
    "page.event.inspection.cancelled": {"zh-CN": "取消联合检查", "en": "cancelled the joint inspection"},
    "page.event.attachment.uploaded": {"zh-CN": "上传附件", "en": "uploaded a file"},
    "page.event.detail.department": {"zh-CN": "承办部门：{name}", "en": "department: {name}"},
    "page.event.detail.due": {"zh-CN": "反馈期限：{due}", "en": "feedback due {due}"},
    "page.event.detail.days": {"zh-CN": "延期 {n} 个工作日", "en": "{n} more working day(s)"},
    "page.event.detail.shared": {"zh-CN": "共享给：{names}", "en": "now shared with: {names}"},
    "page.event.detail.fields": {"zh-CN": "修改了：{names}", "en": "changed: {names}"},
})
# --- end pages ---

MESSAGES.update({  # --- mail that is true when it is read ---
    # what a card asks of its reader (shared/notifications/currency.py Ask)
    "email.card.number": {"zh-CN": "任务 #{id}", "en": "Assignment #{id}"},
    "email.card.expects": {"zh-CN": "待您办理", "en": "Your action"},
    "email.card.go": {"zh-CN": "前往{ask}", "en": "Open to {ask}"},
    "email.card.open": {"zh-CN": "查看任务 #{id}", "en": "Open assignment #{id}"},
    "email.card.fyi": {"zh-CN": "仅供知悉，无需操作", "en": "For your information; nothing to do"},
    "email.ask.accept": {"zh-CN": "签收", "en": "accept it"},
    "email.ask.submit": {"zh-CN": "反馈", "en": "submit feedback"},
    "email.ask.decide_extension": {"zh-CN": "审批延期", "en": "decide the extension"},
    "email.ask.review": {"zh-CN": "审核", "en": "review the feedback"},
    "email.ask.redispatch": {"zh-CN": "重新派发或撤销", "en": "re-dispatch or cancel"},
    "email.ask.decide_return": {"zh-CN": "审定退回", "en": "decide the return (审定)"},
    "email.ask.follow_up": {"zh-CN": "督办", "en": "follow up (督办)"},
    # a request that moved on before the digest was composed
    "notice.kind.moved_on": {"zh-CN": "已有进展，无需您处理", "en": "Already handled: nothing for you to do"},
    "email.moved.prefix": {"zh-CN": "已有进展：", "en": "Already handled: "},
    "email.moved.short": {"zh-CN": "已有进展", "en": "already handled"},
    "email.moved.note": {"zh-CN": "此前请您{ask}，现已无需处理", "en": "You were asked to {ask}; no longer needed"},
    "email.moved.system": {"zh-CN": "系统", "en": "the system"},
    "email.moved.state": {"zh-CN": "任务当前状态为“{state}”", "en": "the assignment is now {state}"},
    "email.moved.accepted": {"zh-CN": "{who}已于 {at} 签收", "en": "accepted by {who}, {at}"},
    "email.moved.returned": {"zh-CN": "{who}已于 {at} 退回", "en": "returned by {who}, {at}"},
    "email.moved.redispatched": {"zh-CN": "{who}已于 {at} 重新派发", "en": "re-dispatched by {who}, {at}"},
    "email.moved.extension_approved": {"zh-CN": "{who}已于 {at} 批准延期", "en": "extension approved by {who}, {at}"},
    "email.moved.extension_denied": {"zh-CN": "{who}已于 {at} 驳回延期申请", "en": "extension denied by {who}, {at}"},
    "email.moved.feedback_submitted": {"zh-CN": "{who}已于 {at} 提交反馈",
                                       "en": "feedback submitted by {who}, {at}"},
    "email.moved.approved": {"zh-CN": "{who}已于 {at} 审核通过，任务办结", "en": "approved by {who}, {at}: done"},
    "email.moved.sent_back": {"zh-CN": "{who}已于 {at} 退回重办", "en": "sent back for rework by {who}, {at}"},
    "email.moved.cancelled": {"zh-CN": "{who}已于 {at} 撤销任务", "en": "cancelled by {who}, {at}"},
    # subjects name the kinds a digest holds: 【逾期】2 项、【待签收】1 项
    "email.subject.part": {"zh-CN": "{tag}{n} 项", "en": "{tag} {n}"},
    "email.subject.join": {"zh-CN": "、", "en": ", "},
    "email.tag.dispatched": {"zh-CN": "【待签收】", "en": "[To accept] "},
    "email.tag.due_today": {"zh-CN": "【今日到期】", "en": "[Due today] "},
    "email.tag.extension_pending": {"zh-CN": "【待审批延期】", "en": "[Extension to decide] "},
    "email.tag.return_pending": {"zh-CN": "【退回待处理】", "en": "[Returned] "},
    "email.headline.dispatched": {"zh-CN": "{n} 项新派发任务待签收", "en": "{n} new assignments to accept"},
    "email.headline.dispatched.one": {"zh-CN": "{n} 项新派发任务待签收", "en": "1 new assignment to accept"},
    "email.headline.sent_back": {"zh-CN": "{n} 项任务被退回重办", "en": "{n} assignments sent back for rework"},
    "email.headline.sent_back.one": {"zh-CN": "{n} 项任务被退回重办", "en": "1 assignment sent back for rework"},
    # the footer names only pages that exist: the platform and the personal settings page
    "email.action.settings": {"zh-CN": "个人设置", "en": "Personal settings"},
    "email.footer": {"zh-CN": "本邮件由共治协同平台自动发送，请勿直接回复。"
                              "提醒方式（每日汇总或逐条发送）、邮件语言和登录密码可在个人设置中修改。",
                     "en": "Sent automatically by Gongzhi; please do not reply. Change how reminders reach "
                           "you (daily digest or single emails), the language of these emails and your "
                           "password in your personal settings."},
})
# --- end mail ---

MESSAGES.update({  # --- sign-in and personal data ---
    "signin_throttled_seconds": {"zh-CN": "登录失败次数过多，请 {seconds} 秒后再试",
                                 "en": "Too many failed sign-ins; try again in {seconds} s"},
    "signin_throttled_minutes": {"zh-CN": "登录失败次数过多，请 {minutes} 分钟后再试",
                                 "en": "Too many failed sign-ins; try again in {minutes} min"},
    "current_password_wrong": {"zh-CN": "与当前密码不符", "en": "does not match your current password"},
    "password_unchanged": {"zh-CN": "不能与当前密码相同", "en": "must differ from the current password"},
    "password_mismatch": {"zh-CN": "两次输入的新密码不一致", "en": "does not match the new password"},
    "page.nav.settings": {"zh-CN": "个人设置", "en": "Settings"},
    "page.settings.title": {"zh-CN": "个人设置", "en": "Personal settings"},
    "page.settings.preferences": {"zh-CN": "提醒方式与语言", "en": "Reminders and language"},
    "page.settings.notify_mode": {"zh-CN": "提醒邮件", "en": "Reminder emails"},
    "page.settings.notify_mode.digest": {"zh-CN": "汇总提醒：每轮一封，列出全部事项",
                                         "en": "Digest: one email per reminder run, listing every item"},
    "page.settings.notify_mode.immediate": {"zh-CN": "逐条提醒：每个事项一封",
                                            "en": "Each event: one email per item"},
    "page.settings.language": {"zh-CN": "页面与邮件语言", "en": "Language of pages and emails"},
    "page.settings.save": {"zh-CN": "保存设置", "en": "Save settings"},
    "page.settings.password": {"zh-CN": "修改密码", "en": "Change password"},
    "page.settings.password_hint": {"zh-CN": "修改后，您在其他浏览器和客户端上的登录将全部退出。",
                                    "en": "Changing it signs you out of every other browser and API client."},
    "page.settings.password_min": {"zh-CN": "至少 8 个字符", "en": "At least 8 characters"},
    "page.field.current_password": {"zh-CN": "当前密码", "en": "Current password"},
    "page.field.new_password": {"zh-CN": "新密码", "en": "New password"},
    "page.field.new_password_confirm": {"zh-CN": "确认新密码", "en": "Repeat the new password"},
    "page.field.notify_mode": {"zh-CN": "提醒邮件", "en": "Reminder emails"},
    "page.field.language": {"zh-CN": "语言", "en": "Language"},
    "page.done.preferences": {"zh-CN": "设置已保存", "en": "Settings saved"},
    "page.done.password": {"zh-CN": "密码已修改，其他设备上的登录已退出",
                           "en": "Password changed; you are signed out everywhere else"},
    "page.case.timeline_newest_first": {"zh-CN": "最新的在前", "en": "Newest first"},
    "page.case.timeline_older": {"zh-CN": "更早的记录", "en": "Older entries"},
    "page.case.timeline_newest": {"zh-CN": "回到最新记录", "en": "Back to the newest"},
})
# --- end sign-in and personal data ---

# --- status and allowed actions ---
MESSAGES.update({
    # The window is the setting reminder_due_soon_working_days (status.due_soon_cutoff).
    "page.queue.bucket.due_soon": {"zh-CN": "{n} 个工作日内到期", "en": "Due within {n} working day(s)"},
})
# --- end status and allowed actions ---

MESSAGES.update({
    "assignment_already_open": {
        "zh-CN": "该部门在本案已有未办结的任务（编号 {assignment_id}，状态 {state}）；"
                 "如确需并行办理，请在请求中注明 parallel: true",
        "en": "This department already has an open assignment on the case (no. {assignment_id}, {state}); "
              "send parallel: true if this is deliberately parallel work",
    },
    "idempotency_key_reused": {
        "zh-CN": "Idempotency-Key 已用于另一个请求（请求内容或地址不同）；新的请求请换一个新的 Idempotency-Key",
        "en": "This Idempotency-Key was already used for a different request (other body or path); "
              "use a new Idempotency-Key for a new request",
    },
    "idempotency_key_invalid": {
        "zh-CN": "Idempotency-Key 须为 1 到 255 个可见 ASCII 字符",
        "en": "Idempotency-Key must be 1 to 255 visible ASCII characters",
    },
})  # --- races and idempotency ---

MESSAGES.update({  # --- page form tokens ---
    "page.form_expired": {"zh-CN": "表单已过期，未作任何更改。请刷新页面后重新提交",
                          "en": "The form expired and nothing was changed; reload the page and submit it again"},
    "page.already_done": {"zh-CN": "该表单已提交过，此操作已完成，未重复办理",
                          "en": "This form was already submitted: the action is done and was not repeated"},
    "page.already_done_edited": {"zh-CN": "该表单已提交过，本次修改未生效。请在当前页面上重新填写并提交",
                                 "en": "This form was already submitted, so this change was not applied; "
                                       "fill in the form on this page and submit it again"},
})
# --- end page form tokens ---
MESSAGES.update({  # --- errors a client can rely on ---
    "field_too_long": {"zh-CN": "过长（最多 {max} 个字符）", "en": "is too long (at most {max} characters)"},
    "field_too_short": {"zh-CN": "过短（至少 {min} 个字符）", "en": "is too short (at least {min} characters)"},
    "list_too_long": {"zh-CN": "项数过多（最多 {max} 项）", "en": "has too many items (at most {max})"},
    "list_too_short": {"zh-CN": "项数过少（至少 {min} 项）", "en": "has too few items (at least {min})"},
    "field_out_of_range_bounds": {"zh-CN": "超出允许范围（{bounds}）", "en": "is out of range ({bounds})"},
    "field_not_integer": {"zh-CN": "应为整数", "en": "must be an integer"},
    "field_not_boolean": {"zh-CN": "应为 true 或 false", "en": "must be true or false"},
    "field_not_number": {"zh-CN": "应为数字", "en": "must be a number"},
    "field_not_text": {"zh-CN": "应为文本", "en": "must be text"},
    "field_not_list": {"zh-CN": "应为列表", "en": "must be a list"},
    "field_not_object": {"zh-CN": "应为对象", "en": "must be an object"},
    "field_unknown": {"zh-CN": "不是可接受的字段", "en": "is not an accepted field"},
    "field_text_nul": {"zh-CN": "不能包含 NUL 字符（\\u0000）", "en": "must not contain NUL characters (\\u0000)"},
    "json_invalid": {"zh-CN": "请求体不是有效的 JSON", "en": "The request body is not valid JSON"},
    "json_too_deep": {"zh-CN": "请求体 JSON 嵌套层级过深", "en": "The request body's JSON is nested too deeply"},
    "body_required": {"zh-CN": "缺少请求体（JSON 对象）", "en": "A request body (a JSON object) is required"},
    "body_not_object": {
        "zh-CN": "请求体应为 JSON 对象（Content-Type: application/json）",
        "en": "The request body must be a JSON object (Content-Type: application/json)",
    },
    "route_not_found": {"zh-CN": "没有这个接口", "en": "No such endpoint"},
    "method_not_allowed": {"zh-CN": "该接口不支持此请求方法", "en": "This endpoint does not accept this method"},
    "internal_error": {
        "zh-CN": "服务器内部错误，请稍后重试；如仍出错，请把编号 {reference} 告知管理员",
        "en": "Internal server error; try again later, and if it persists give the administrator reference {reference}",
    },
    "if_match_unknown": {
        "zh-CN": "If-Match 中的版本不是本系统发出的（应为 ETag 的值，如 \"3\"），请重新读取后再修改",
        "en": "The If-Match header names no version we issued (send the ETag you read, e.g. \"3\"); reload and retry",
    },
    "if_match_any": {
        "zh-CN": "If-Match 不能为 *：请发送读取时得到的 ETag（记录版本），以免覆盖他人的修改",
        "en": "If-Match cannot be *: send the ETag you read, so that nobody's change is overwritten",
    },
    "case_unknown": {"zh-CN": "案件不存在或无权访问：{ids}", "en": "Unknown case (or out of your reach): {ids}"},
    "campaign_unknown": {"zh-CN": "专项行动不存在：{ids}", "en": "Unknown campaign: {ids}"},
    "user_unknown": {"zh-CN": "用户不存在：{ids}", "en": "Unknown user: {ids}"},
    "inspection_date_past": {
        "zh-CN": "检查日期早于今天（{today}）；如为补录已进行的检查，请设置 recorded_after_fact 并填写检查记录",
        "en": "The date is before today ({today}); to record an inspection already done, "
              "set recorded_after_fact and give its record",
    },
    "inspection_after_fact_future": {
        "zh-CN": "补录的检查日期不能晚于今天（{today}）",
        "en": "An inspection recorded after the fact cannot be dated after today ({today})",
    },
    "inspection_record_required": {"zh-CN": "补录检查须填写检查记录",
                                   "en": "is required when recording after the fact"},
})  # --- end errors ---
