"""Seeded generator of notice-like Chinese passages (申报通知 chunks) for the scale benchmark.

Every passage is a function of (seed, index) alone, so passage i is the same text whatever N is:
the embedded sample (the first passages) is shared by every size.
"""

from __future__ import annotations

import random

from retrieval.entries import Entry


def _words(text: str) -> list[str]:
    return text.split()


PLACES = _words(
    "湖北省 武汉市 宜昌市 襄阳市 荆州市 黄石市 十堰市 孝感市 荆门市 鄂州市 黄冈市 咸宁市 随州市 恩施州 仙桃市 潜江市 "
    "天门市 神农架林区 江汉区 洪山区 东湖高新区 武昌区 汉阳区 青山区 江夏区 黄陂区 新洲区 蔡甸区"
)
DEPARTMENTS = _words(
    "教育厅 科学技术厅 财政厅 人力资源和社会保障厅 经济和信息化厅 农业农村厅 文化和旅游厅 卫生健康委员会 民政厅 商务厅 "
    "发展和改革委员会 生态环境厅 住房和城乡建设厅 市场监督管理局 体育局 自然资源厅 交通运输厅 水利厅 退役军人事务厅 "
    "知识产权局 地方金融监督管理局 乡村振兴局 妇女联合会 共青团委员会 科学技术协会"
)
OFFICES = _words(
    "职业教育与成人教育处 高等教育处 基础教育处 科研处 规划处 办公室 财务处 人事处 对外合作处 政策法规处 产业发展处 "
    "成果转化处 社会事业处 农村经济处 综合处 监督检查处 信息化处 终身教育处 评估中心 服务中心"
)
TOPICS = _words(
    "学习型城市建设 社区教育示范基地 老年大学标准化建设 职业教育产教融合 重点研发计划 中小企业数字化转型 乡村振兴示范村 "
    "非物质文化遗产传承保护 文化旅游融合发展 基层医疗卫生服务能力提升 智慧校园 高校科技成果转化 青年拔尖人才培养 "
    "绿色低碳技术攻关 专精特新中小企业培育 社区学习中心 终身学习品牌项目 百姓学习之星 家庭教育指导服务 "
    "实训基地建设 现代学徒制 技能大师工作室 创新创业孵化平台 农业科技园区 数字乡村 县域商业体系建设 "
    "公共文化服务体系示范区 全民健身示范工程 智慧养老服务 残疾人职业培训 退役军人就业创业 知识产权运营 "
    "质量品牌提升 节能减排改造 水生态修复 美丽乡村建设 中医药传承创新 教师教育创新 课程思政示范课程 "
    "一流本科专业 研究生教育改革 国际合作交流 博士后创新实践基地 工程技术研究中心 重点实验室 企业技术中心"
)
KINDS = _words("项目 试点 示范单位 专项资金 典型案例 优秀成果 培育对象 示范点 重点项目 认定 评选 遴选")
MATERIALS = _words(
    "申报书 推荐汇总表 承诺书 营业执照复印件 年度财务审计报告 项目实施方案 佐证材料 单位推荐意见 专家评审意见 "
    "经费预算表 绩效目标表 法人证书复印件 知识产权证明 合作协议 获奖证书复印件 人员名单 场地证明 信用承诺书 "
    "建设规划 自评报告 典型案例材料 工作总结 照片及视频资料 申报信息表"
)
SURNAMES = _words("王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐 许 韩 冯 邓 曹")
GIVEN = _words(
    "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀英 霞 平 刚 桂英 华 鹏 飞 玲 婷 斌 宇 浩"
)
PLATFORMS = _words(
    "湖北省政务服务网 省科技计划项目管理系统 全国终身教育平台 省教育厅申报系统 湖北省财政专项资金管理平台 "
    "省人社厅网上办事大厅 湖北省企业服务平台"
)
SECTIONS = (
    ("一、申报范围", "（一）支持方向"),
    ("二、申报条件", "（一）基本条件"),
    ("二、申报条件", "（二）限制条件"),
    ("三、申报材料", "（一）纸质材料"),
    ("三、申报材料", "（二）电子材料"),
    ("四、时间安排", "（一）申报时间"),
    ("四、时间安排", "（二）评审时间"),
    ("五、支持方式", "（一）资金支持"),
    ("六、工作要求", "（一）组织推荐"),
    ("七、联系方式", "（一）业务咨询"),
)
QUESTION_TEMPLATES = (
    "{task}什么时候截止",
    "{task}的申报截止日期是哪天？",
    "{task}需要交哪些材料",
    "{task}找谁咨询，联系电话多少",
    "{task}每个项目支持多少钱",
    "{task}在哪个平台申报",
    "{task}有什么申报条件",
    "{place}{department}的{task}怎么申报",
    "{material}要盖章吗",
    "{office}的联系人是谁",
)


def _date(rng: random.Random) -> str:
    return f"{rng.choice((2023, 2024, 2025))}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日"


def _phone(rng: random.Random) -> str:
    return f"027-8{rng.randint(1000000, 9999999)}"


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _task(rng: random.Random) -> str:
    return f"{rng.choice((2023, 2024, 2025))}年度{rng.choice(TOPICS)}{rng.choice(KINDS)}"


def _sentences(rng: random.Random, task: str, place: str, dept: str, office: str) -> list[str]:
    mats = rng.sample(MATERIALS, rng.randint(2, 5))
    return [
        f"请各地于{_date(rng)}前将{'、'.join(mats)}报送至{place}{dept}{office}，逾期不予受理。",
        f"{task}申报工作由{place}{dept}统一组织，各单位须按照属地原则逐级推荐，不得越级申报。",
        f"申报单位应在{rng.choice(PLATFORMS)}完成网上填报，并于{_date(rng)}前提交纸质材料一式{rng.choice('二三四五')}份。",
        f"每个{rng.choice(KINDS)}给予{rng.choice((5, 10, 20, 30, 50, 80, 100, 200))}万元经费支持，"
        f"分{rng.choice('两三')}年拨付，专款专用。",
        f"联系人：{_person(rng)}，联系电话：{_phone(rng)}；技术支持：{_person(rng)}，{_phone(rng)}。",
        f"申报单位须为在{place}注册的独立法人，近{rng.choice('三五')}年内无不良信用记录，"
        f"具有开展{rng.choice(TOPICS)}工作的良好基础。",
        f"评审采取形式审查、专家评审和实地考察相结合的方式，结果将于{_date(rng)}在{dept}门户网站公示，"
        f"公示期为{rng.choice((5, 7, 10))}个工作日。",
        f"原则上每个{rng.choice(('县（市、区）', '高校', '设区的市', '单位'))}推荐不超过{rng.randint(1, 8)}个，"
        f"已获得{rng.choice(TOPICS)}支持的不再重复申报。",
        f"{'、'.join(rng.sample(MATERIALS, 2))}须加盖单位公章，电子版材料请以PDF格式发送至指定邮箱"
        f"hb{rng.randint(100, 999)}@{rng.choice(('163.com', 'qq.com', 'hubei.gov.cn'))}。",
        f"各地要高度重视，加强统筹协调，切实做好{rng.choice(TOPICS)}的宣传动员和组织推荐工作，"
        f"确保申报材料真实、准确、完整。",
    ]


def make_passage(seed: int, i: int) -> dict[str, str]:
    """Return one notice-like chunk: task, place, department, office, section path and text (~150-400 chars)."""
    rng = random.Random(seed * 1_000_003 + i)
    task, place = _task(rng), rng.choice(PLACES)
    dept, office = rng.choice(DEPARTMENTS), rng.choice(OFFICES)
    if place != "湖北省":  # cities and districts have bureaus (局), not departments (厅)
        dept = dept.replace("厅", "局")
    head, sub = rng.choice(SECTIONS)
    title = f"{place}{dept}关于组织申报{task}的通知"
    pool = _sentences(rng, task, place, dept, office)
    text = "".join(rng.sample(pool, rng.randint(3, 5)))
    return {
        "task": task,
        "place": place,
        "department": dept,
        "office": office,
        "title": title,
        "section": f"{title} › {head} › {sub}",
        "text": text,
        "material": rng.choice(MATERIALS),
    }


def make_entries(seed: int, n: int, *, per_doc: int = 100) -> list[Entry]:
    """Return n chunk entries, one pseudo document per `per_doc` entries (non-overlapping spans)."""
    entries = []
    for i in range(n):
        p = make_passage(seed, i)
        start = (i % per_doc) * 1000
        entries.append(
            Entry(
                entry_id=f"syn-{i:07d}",
                doc_id=f"syn-doc-{i // per_doc:05d}",
                kind="chunk",
                title=p["title"],
                section=p["section"],
                text=p["text"],
                index_text=f"{p['section']}\n{p['text']}",
                start=start,
                end=start + len(p["text"]),
            )
        )
    return entries


def make_queries(seed: int, n_passages: int, n_queries: int) -> list[str]:
    """Questions built from the generated passages: templated questions and verbatim snippets."""
    rng = random.Random(seed + 7919)
    queries = []
    for _ in range(n_queries):
        p = make_passage(seed, rng.randrange(n_passages))
        if rng.random() < 0.25:
            sentence = rng.choice([s for s in p["text"].split("。") if s])
            queries.append(sentence[: rng.randint(10, 24)])
        else:
            queries.append(rng.choice(QUESTION_TEMPLATES).format(**p))
    return queries
