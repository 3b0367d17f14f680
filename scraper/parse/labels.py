"""THE synonym table: metadata labels -> contract fields (portals.md §2.2).

Adding a label variant or a field touches only this file.
"""

from __future__ import annotations

from scraper.parse.tree import words

# Contract field -> labels, highest priority first.
FIELD_LABELS: dict[str, tuple[str, ...]] = {
    "index_no": ("索引号", "信息索引号"),
    "title": ("标题", "名称"),
    "doc_no": ("文号", "发文字号", "文件编号", "文件字号"),
    "publisher": ("发布单位", "发布机构", "发文机关", "发文机构", "发文单位", "主站发布机构", "发布机关", "制发机关"),
    "publish_date": ("公开日期", "发布日期", "发布时间"),
    "written_date": ("成文日期", "发文日期", "制发日期", "印发日期", "生成日期", "签发日期"),
    "disclosure": ("公开方式", "公开属性"),
    "validity": ("有效性", "效力状况", "效力状态", "时效", "是否有效"),
    "topic": ("主题分类", "信息分类", "分类"),
    "genre": ("体裁分类", "公文种类", "文种"),
}

# Used only when none of FIELD_LABELS[field] has a value (and, for the publisher, after the page's <meta>).
FALLBACK_LABELS: dict[str, tuple[str, ...]] = {
    "publisher": ("信息来源", "来源", "责任部门"),
}

# Read only in lines of text, last before the page's <meta>: a byline's bare `日期：2025-02-26 11:54`
# (Gansu's platform sets <meta PubDate> to the page's generation time). Never a block label: a
# table headed 名称 | 日期 is a list, not metadata.
INLINE_ONLY_LABELS: dict[str, tuple[str, ...]] = {
    "publish_date": ("日期",),
}

# Known labels that map to no contract field but still mark a metadata block.
OTHER_LABELS = (
    "组配分类",
    "统一编号",
    "规范性文件统一登记号",
    "公开范围",
    "公开时限",
    "服务对象",
    "关键词",
    "关键字",
    "主题词",
    "生效日期",
    "施行日期",
    "废止日期",
    "失效日期",
    "公开目录",
    "目录分类",
    "所属栏目",
    "内容概述",
    "摘要",
    "公开责任部门",
    "公开形式",
)

# Byline labels ("发布时间：… 来源：…" under a title): they alone do not make a block.
BYLINE_LABELS = frozenset({"发布日期", "发布时间", "信息来源", "来源", "作者", "浏览次数", "点击数", "字号"})

KNOWN_LABELS = frozenset(
    [label for labels in FIELD_LABELS.values() for label in labels]
    + [label for labels in FALLBACK_LABELS.values() for label in labels]
    + list(OTHER_LABELS)
    + list(BYLINE_LABELS)
)

_COLONS = "：:"


def normalise_label(text: str) -> str:
    """Drop every kind of space (NBSP, U+2002 (&ensp;), U+3000, zero-width: tree.words) and the colons
    around: `索\u2002引\u2002号：` -> `索引号`."""
    return "".join(words(text)).strip(_COLONS)


def is_known(label: str) -> bool:
    return label in KNOWN_LABELS
