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
