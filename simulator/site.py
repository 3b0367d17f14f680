"""Facts of the simulated site (Kaihua County, Hanweb jcms): columns, publishing organs with
their USCCs, metadata label synonyms, the calendar of days and the fixed seed document."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .codes import make_uscc

WEBID = 3
SITE_NAME = "开化县人民政府"
SITE_DOMAIN = "www.kaihua.gov.cn"
SITE_ID_CODE = "3308240001"


@dataclass(frozen=True)
class Column:
    id: int
    name: str
    pc_unit: int = 0
    mobile_unit: int = 0
    key: str = ""  # a family's own column key (xxgk infotypeId, TRS folder, gov.cn `t`, gkmlpt prefix)


COLUMNS = (
    Column(1229402456, "法治政府建设", 7405611, 7405612),
    Column(1229402471, "通知公告", 7405637, 7405638),
    Column(1229402493, "政策文件", 7405659, 7405660),
)


@dataclass(frozen=True)
class Organ:
    short: str  # the 发布单位 value
    full: str
    uscc: str  # the organ's code: an 18-character USCC or a 9-character organisation code
    doc_prefix: str  # 文号 prefix
    topics: tuple


def _organ(short, full, org_body, prefix, topics):
    return Organ(short, full, make_uscc("11330824", org_body), prefix, topics)


ORGANS = (
    _organ("县府办", "开化县人民政府办公室", "59720949", "开政办发", ("法治政府建设", "营商环境", "安全生产")),
    _organ("县发改局", "开化县发展和改革局", "00254371", "开发改", ("营商环境", "乡村振兴")),
    _organ("县财政局", "开化县财政局", "00254382", "开财", ("财政管理",)),
    _organ("县教育局", "开化县教育局", "00254411", "开教", ("教育事业", "安全生产")),
    _organ("县卫健局", "开化县卫生健康局", "MB176302", "开卫健", ("医疗卫生",)),
    _organ("县自然资源和规划局", "开化县自然资源和规划局", "MB176345", "开自然资规", ("自然资源", "乡村振兴")),
    _organ("县生态环境分局", "衢州市生态环境局开化分局", "MB176418", "衢环开", ("生态环境",)),
    _organ("县市场监管局", "开化县市场监督管理局", "MB176433", "开市监", ("市场监管", "营商环境")),
)
assert ORGANS[0].uscc == "113308245972094984"

# label synonyms per canonical field (the first is the canonical label)
SYNONYMS = {
    "索引号": ("索引号", "信息索引号"),
    "文号": ("文号", "发文字号", "文件编号"),
    "公开日期": ("公开日期", "发布日期"),
    "发布单位": ("发布单位", "发布机构", "发文机关"),
    "有效性": ("有效性", "效力状况"),
    "公开方式": ("公开方式",),
    "成文日期": ("成文日期",),
    "主题分类": ("主题分类",),
    "体裁分类": ("体裁分类",),
    "组配分类": ("组配分类",),
}
# The written date's labels on real pages (the corpus picks one per document).
WRITTEN_DATE_LABELS = ("成文日期", "发文日期", "印发日期", "制发日期", "生成日期")
CONTRACT = {
    "索引号": "index_no",
    "文号": "doc_no",
    "公开日期": "publish_date",
    "发布单位": "publisher",
    "有效性": "validity",
    "公开方式": "disclosure",
    "成文日期": "written_date",
    "主题分类": "topic",
    "体裁分类": "genre",
}
DATE_FIELDS = ("公开日期", "成文日期")
ATTACH_EXTS = ("pdf", "doc", "docx", "xls", "xlsx", "wps", "ofd", "zip")
ENCODINGS = ("gbk-header", "gbk-meta", "gbk-none")

DAY1_FIRST, DAY1_LAST = dt.date(2023, 1, 4), dt.date(2025, 6, 27)
DAY2_DATES = (dt.date(2025, 6, 28), dt.date(2025, 6, 29), dt.date(2025, 6, 30))
DAY_STAMP = {1: "2025-06-28", 2: "2025-06-30"}  # when each day's pages were generated

SEED_TITLE = "开化县2024年法治政府建设年度报告"
SEED_INDEX_NO = "113308245972094984/2025-01529"
SEED_BODY = (
    (
        "p",
        "2024年，开化县始终坚持以习近平新时代中国特色社会主义思想为指导，深入学习贯彻习近平法治思想，"
        "全面落实党中央、国务院和省委、省政府关于法治政府建设的决策部署，扎实推进依法行政，"
        "法治政府建设取得新成效。现将有关情况报告如下。",
    ),
    ("h", "一、主要做法及成效"),
    (
        "p",
        "（一）坚持党的领导，压实法治建设责任。县政府常务会议专题研究法治政府建设工作4次，"
        "县政府主要负责人切实履行推进法治建设第一责任人职责，将法治政府建设纳入全县高质量发展综合绩效考核。",
    ),
    (
        "p",
        "（二）深化“放管服”改革，持续优化法治化营商环境。全面推行“最多跑一次”改革，"
        "政务服务事项网上可办率达100%，涉企审批平均办理时限压缩至2.5个工作日。",
    ),
    (
        "p",
        "（三）严格规范公正文明执法。全面落实行政执法公示、执法全过程记录、重大执法决定法制审核“三项制度”，"
        "全年开展行政执法案卷评查2次，评查案卷386件。",
    ),
    (
        "p",
        "（四）强化行政权力制约监督。自觉接受人大法律监督和政协民主监督，办理人大代表建议126件、政协提案143件，"
        "办结率100%。全年受理行政复议案件58件，依法纠错率9.3%。",
    ),
    ("h", "二、2025年工作思路"),
    (
        "p",
        "2025年，开化县将继续深入学习贯彻习近平法治思想，坚持依法行政，持续深化法治政府建设，"
        "着力推进行政执法质效提升，全面加强基层合法性审查，为加快建设“两山”转化示范县提供坚实法治保障。",
    ),
    ("p", "开化县人民政府"),
    ("p", "2025年3月5日"),
)


@dataclass(frozen=True)
class Profile:
    """What a simulated site's corpus is drawn from: its columns (with weights), organs and seed document."""

    columns: tuple
    weights: tuple
    organs: tuple
    seed_doc: bool = False  # Kaihua's fixed 法治政府建设 report
    gbk: bool = False  # some pages GBK-encoded (legacy jcms); other families serve UTF-8
    id_base: int = 5_790_000
    paths: tuple = ()  # the column URL paths as given (columns placed where a real portal has them)


KAIHUA = Profile(COLUMNS, (1, 4, 5), ORGANS, seed_doc=True, gbk=True)
