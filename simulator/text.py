"""Deterministic Chinese government prose: titles, paragraphs, headings, small tables.

Every function takes a `random.Random`; all text is GBK-encodable and has no runs of spaces.
"""

import random

TOPICS = {
    # topic: (主题分类, key tasks)
    "法治政府建设": (
        "综合政务",
        ["行政执法“三项制度”", "合法性审查", "行政复议体制改革", "法治宣传教育", "基层合法性审查全覆盖"],
    ),
    "乡村振兴": (
        "农业、林业、水利",
        ["高标准农田建设", "农村人居环境整治", "强村富民乡村集成改革", "山区海岛县高质量发展", "农村集体经济"],
    ),
    "营商环境": ("工业、交通", ["“最多跑一次”改革", "涉企服务", "“增值式”政务服务", "惠企政策直达", "市场主体培育"]),
    "生态环境": (
        "环境保护",
        ["钱江源国家公园保护", "大气污染防治", "“五水共治”", "生态产品价值实现机制", "碳达峰碳中和"],
    ),
    "安全生产": (
        "安全生产监管",
        ["安全生产治本攻坚", "城镇燃气安全整治", "自建房安全排查", "消防安全隐患排查", "防汛防台"],
    ),
    "教育事业": ("教育", ["义务教育优质均衡", "“双减”工作", "学前教育普及普惠", "教师队伍建设", "校园安全"]),
    "医疗卫生": (
        "卫生、体育",
        ["县域医共体建设", "基层医疗服务能力", "公共卫生应急", "健康开化建设", "家庭医生签约服务"],
    ),
    "市场监管": (
        "市场监管、安全生产监管",
        ["食品安全“两个责任”", "特种设备安全", "知识产权保护", "价格监督检查", "“双随机、一公开”监管"],
    ),
    "自然资源": ("城乡建设、环境保护", ["国土空间规划", "耕地保护", "土地综合整治", "不动产登记", "矿产资源管理"]),
    "财政管理": ("财政、金融、审计", ["预算绩效管理", "政府债务管理", "财政资金直达", "国有资产管理", "政府采购"]),
}

TOWNS = [
    "华埠镇",
    "池淮镇",
    "桐村镇",
    "杨林镇",
    "苏庄镇",
    "齐溪镇",
    "马金镇",
    "村头镇",
    "音坑乡",
    "中村乡",
    "长虹乡",
    "何田乡",
    "林山乡",
    "大溪边乡",
    "芹阳办事处",
]

# Given names with GBK-only characters (outside GB 2312): 喆 堃 珺 镕
GBK_ONLY_NAMES = ["王喆", "李堃", "陈珺", "徐镕", "方喆", "汪珺", "余堃", "郑镕"]
PLAIN_NAMES = ["张伟", "王芳", "李娜", "刘洋", "徐静", "汪涛", "余敏", "方军"]

GENRES = ["通知", "报告", "意见", "公告", "方案", "决定", "批复"]
ASSEMBLY = ["政策文件", "工作报告", "通知公告", "规划计划", "其他文件"]

NUMERALS = "一二三四五六七八九十"

_OPENERS = [
    "{year}年，{org}坚持以习近平新时代中国特色社会主义思想为指导，紧紧围绕{task}，扎实推进{topic}各项工作。",
    "为深入贯彻落实党中央、国务院和省委、省政府关于{topic}的决策部署，进一步做好{task}工作，结合我县实际，制定本方案。",
    "根据上级有关文件精神，经县政府同意，现就做好{year}年{task}有关事项通知如下。",
    "{year}年以来，在县委、县政府的坚强领导下，{org}聚焦{topic}，全力推进{task}，取得了阶段性成效。",
]
_SENTENCES = [
    "全年共完成{task}项目{n}个，累计投入资金{m}万元，同比增长{p}%。",
    "{town}率先开展{task}试点，形成了一批可复制、可推广的经验做法。",
    "建立健全{task}工作机制，明确责任分工，压实各方责任。",
    "组织开展专项督查{k}次，发现并整改问题{n}个，整改完成率达{p}%。",
    "截至{month}月底，全县{task}覆盖率达到{p}%，群众满意度持续提升。",
    "坚持问题导向和目标导向，着力破解{task}中的难点堵点问题。",
    "加强部门协同联动，推动{task}与{task2}深度融合。",
    "全县共受理相关事项{n}件，办结率{p}%，平均办理时限压缩至{k}个工作日。",
    "开展业务培训{k}期，培训干部职工{n}人次，切实提升了履职能力。",
    "{town}、{town2}等乡镇积极探索，{task}工作走在全市前列。",
    "下一步，将持续深化{task}，确保各项目标任务如期完成。",
    "严格落实{task}各项要求，对发现的问题实行清单化管理、闭环式整改。",
]
_SUBHEADS = [
    "加强组织领导",
    "强化统筹协调",
    "注重宣传引导",
    "严格督查考核",
    "完善工作机制",
    "夯实基层基础",
    "突出重点领域",
    "强化要素保障",
]
_SECTIONS = ["主要做法及成效", "存在的问题和不足", "下一步工作打算", "工作目标", "重点任务", "保障措施"]


def _plain(task: str) -> str:
    return task.replace("“", "").replace("”", "")


def _fill(rng: random.Random, template: str, ctx: dict) -> str:
    task, task2 = rng.sample(ctx["tasks"], 2)
    town, town2 = rng.sample(TOWNS, 2)
    return template.format(
        year=ctx["year"],
        org=ctx["org"],
        topic=ctx["topic"],
        task=task,
        task2=task2,
        town=town,
        town2=town2,
        n=rng.randint(3, 980),
        m=rng.randint(50, 98000),
        p=rng.randint(12, 100) if rng.random() < 0.5 else f"{rng.randint(10, 99)}.{rng.randint(1, 9)}",
        k=rng.randint(2, 36),
        month=rng.randint(1, 12),
    )


def make_title(rng: random.Random, topic: str, org_full: str, year: int) -> tuple[str, str]:
    """A document title and its genre (体裁分类)."""
    genre = rng.choice(GENRES)
    task = _plain(rng.choice(TOPICS[topic][1]))
    forms = {
        "通知": [
            f"关于做好{year}年{task}{'' if task.endswith('工作') else '工作'}的通知",
            f"{org_full}关于印发《开化县{task}实施方案》的通知",
        ],
        "报告": [f"{org_full}{year}年{topic}工作情况报告", f"开化县{year - 1}年{task}工作总结报告"],
        "意见": [f"关于进一步加强{task}的实施意见", f"关于推进{topic}高质量发展的若干意见"],
        "公告": [f"关于{year}年{task}有关事项的公告", f"开化县{task}项目公示公告（第{rng.randint(1, 12)}批）"],
        "方案": [f"开化县{year}年{task}工作方案", f"开化县{topic}三年行动方案（{year}—{year + 2}年）"],
        "决定": [f"关于表彰{year - 1}年度{task}先进集体和先进个人的决定", f"关于废止部分{topic}规范性文件的决定"],
        "批复": [f"关于{rng.choice(TOWNS)}{task}项目的批复", f"关于同意实施{task}有关事项的批复"],
    }
    return rng.choice(forms[genre]), genre


def make_body(rng: random.Random, topic: str, org_full: str, year: int) -> list[tuple]:
    """Body blocks: ("p", text) paragraphs, ("h", text) headings, ("table", rows)."""
    ctx = {"year": year, "org": org_full, "topic": topic, "tasks": TOPICS[topic][1]}
    blocks: list[tuple] = [("p", _fill(rng, rng.choice(_OPENERS), ctx))]
    n_par = rng.randint(2, 11)  # plus the opener: 3-12 text blocks
    picked = sorted(rng.sample(range(len(_SECTIONS)), k=1 + n_par // 4)) if n_par >= 4 else []
    sections = [_SECTIONS[i] for i in picked]
    per = max(1, n_par // max(1, len(sections) or 1))
    for i in range(n_par):
        if sections and i % per == 0 and i // per < len(sections):
            s = i // per
            blocks.append(("h", f"{NUMERALS[s]}、{sections[s]}"))
            continue
        if rng.random() < 0.25:
            lead = f"（{NUMERALS[rng.randint(0, 4)]}）{rng.choice(_SUBHEADS)}。"
        else:
            lead = ""
        text = lead + "".join(_fill(rng, rng.choice(_SENTENCES), ctx) for _ in range(rng.randint(1, 4)))
        blocks.append(("p", text))
    if rng.random() < 0.1:
        at = rng.randint(1, len(blocks))
        blocks.insert(at, ("table", make_table(rng, ctx)))
    return blocks


def make_table(rng: random.Random, ctx: dict) -> list[list[str]]:
    rows = [["序号", "项目名称", "责任单位", "完成时限"]]
    for i in range(rng.randint(2, 5)):
        rows.append(
            [
                str(i + 1),
                f"{rng.choice(TOWNS)}{_plain(rng.choice(ctx['tasks']))}",
                rng.choice(["县发改局", "县财政局", "县府办", "各乡镇（街道）"]),
                f"{ctx['year']}年{rng.randint(1, 12)}月",
            ]
        )
    return rows


def extra_sentence(rng: random.Random, topic: str, org_full: str, year: int) -> str:
    ctx = {"year": year, "org": org_full, "topic": topic, "tasks": TOPICS[topic][1]}
    return _fill(rng, rng.choice(_SENTENCES), ctx)


def contact_line(rng: random.Random, gbk_only: bool) -> str:
    name = rng.choice(GBK_ONLY_NAMES if gbk_only else PLAIN_NAMES)
    return f"联系人：{name}，联系电话：0570-{rng.randint(6010000, 6099999)}。"
