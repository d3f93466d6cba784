"""Chinese messages for validation codes. A field may override any of them with `x-messages`."""
from __future__ import annotations

_TYPE_NAMES = {"string": "应为文本", "integer": "应为整数", "number": "应为数字",
               "boolean": "应选择“是”或“否”", "object": "格式不正确", "array": "格式不正确"}

_TEMPLATES = {
    "required": "此项为必填项",
    "minLength": "至少需要{n}个字",
    "maxLength": "不能超过{n}个字",
    "pattern": "格式不正确",
    "minimum": "不能小于{n}",
    "maximum": "不能大于{n}",
    "exclusiveMinimum": "应大于{n}",
    "exclusiveMaximum": "应小于{n}",
    "multipleOf": "应为{n}的整数倍",
    "enum": "请从给定的选项中选择",
    "const": "应为“{n}”",
    "minItems": "至少需要{n}项",
    "maxItems": "最多只能有{n}项",
    "uniqueItems": "不能有重复项",
    "additionalProperties": "表单中没有此项",
    "attachment-type": "不支持此文件类型，请上传{n}",
    "attachment-size": "文件不能超过{n}",
    "invalid": "内容不正确",
}


def number(value) -> str:
    """3.0 -> "3", 0.5 -> "0.5": how a bound reads to a person."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def size(n_bytes: int) -> str:
    if n_bytes >= 1024 * 1024:
        return f"{number(round(n_bytes / 1024 / 1024, 1))} MB"
    if n_bytes >= 1024:
        return f"{number(round(n_bytes / 1024, 1))} KB"
    return f"{n_bytes} 字节"


def detail(code: str, param=None) -> str:
    """The message body for `code`; `param` is the keyword's value (bound, type, ...)."""
    if code == "type":
        return _TYPE_NAMES.get(param if isinstance(param, str) else "", "类型不正确")
    template = _TEMPLATES.get(code, _TEMPLATES["invalid"])
    if isinstance(param, (int, float)) and not isinstance(param, bool):
        param = number(param)
    return template.format(n=param)

