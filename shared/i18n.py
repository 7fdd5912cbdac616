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
