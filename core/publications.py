"""Policies and service guides that departments publish for citizens (小兰帮办 · 政策服务).

    item = create_draft(session, actor, department_key="civil_affairs", kind="办事指南", title=..., body=...)
    edit(session, actor, item, kind=..., title=..., body=...)   # drafts only
    publish_draft(session, actor, item)         # draft → published: citizens see it
    withdraw(session, actor, item)              # published → withdrawn; reopen(...) makes it a draft again
    history(session, item)                      # who wrote, edited, published, withdrew it, and when
    publish(session, actor, department_key=..., kind=..., title=..., body=...)   # write and publish at once
    search(session, keyword="补贴")             # published only, newest first; LIKE with bound, escaped parameters
    grouped(search(session))                    # {kind: {department short name: [publication, ...]}}
    get(session, 12)                            # None when unknown, a draft or withdrawn

Department staff write for the departments they are granted, administrators for all (`may_edit`). Every step is
kept as a PublicationEvent and recorded in the audit log.
    blocks(publication.body)                    # [("h", text) | ("p", text) | ("ul", [items])] for templates

Bodies are plain text. Pages never render them as HTML: `blocks` reads a small safe subset (blank-line
paragraphs, "## " headings, "- " list items) and the template escapes every piece.
"""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .actors import Actor
from .changes import record_change
from .models import Department, Publication, PublicationEvent, utcnow

POLICY, GUIDE, SERVICE = "政策", "办事指南", "服务"
KINDS = (POLICY, GUIDE, SERVICE)
AREAS = ("补贴", "培训", "融资", "就业", "养老助残")
MAX_KEYWORD = 50


DRAFT, PUBLISHED, WITHDRAWN = "draft", "published", "withdrawn"
STATUS_TITLES = {DRAFT: "草稿", PUBLISHED: "已发布", WITHDRAWN: "已撤回"}
ACTION_TITLES = {"create": "起草", "edit": "修改", "publish": "发布", "withdraw": "撤回", "reopen": "重新编辑"}


class PublicationInvalid(ValueError):
    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field


def may_edit(actor: Actor, department_key: str) -> bool:
    """Administrators write for every department; department staff for the departments they are granted."""
    return actor.has_role("admin") or any(grant.department_key == department_key
                                          for grant in actor.grants_of("department_staff"))


def editable_departments(session: Session, actor: Actor) -> list[Department]:
    statement = select(Department).where(Department.active).order_by(Department.short_name)
    if not actor.has_role("admin"):
        keys = [grant.department_key for grant in actor.grants_of("department_staff") if grant.department_key]
        statement = statement.where(Department.key.in_(keys))
    return list(session.scalars(statement))


def _checked(session: Session, actor: Actor, department_key: str, kind: str, title: str, area: str,
             check_actor: bool) -> tuple[Department, str]:
    department = session.scalar(select(Department).where(Department.key == department_key))
    if department is None:
        raise PublicationInvalid(f"没有职能部门“{department_key}”", "department")
    if check_actor and not may_edit(actor, department_key):
        raise PublicationInvalid(f"您不能以“{department.short_name}”的名义发布内容", "department")
    if kind not in KINDS:
        raise PublicationInvalid(f"类型只能是：{'、'.join(KINDS)}", "kind")
    if area and area not in AREAS:
        raise PublicationInvalid(f"服务专区只能是：{'、'.join(AREAS)}", "area")
    title = (title or "").strip()
    if not 2 <= len(title) <= 200:
        raise PublicationInvalid("标题须为2至200个字", "title")
    return department, title


def _event(session: Session, actor: Actor, publication: Publication, action: str, from_status: str | None,
           at: dt.datetime | None = None) -> None:
    session.add(PublicationEvent(publication_id=publication.id, at=at or utcnow(), actor_account_id=actor.account_id,
                                 actor_name=actor.name[:64], action=action, from_status=from_status,
                                 to_status=publication.status, title=publication.title))
    record_change(session, actor, f"publication.{action}", object_type="publication", object_id=publication.id,
                  summary=f"{publication.department.short_name}{ACTION_TITLES[action]}{publication.kind}："
                          f"{publication.title}", at=at)


def create_draft(session: Session, actor: Actor, *, department_key: str, kind: str, title: str, body: str,
                 summary: str = "", area: str = "", check_actor: bool = True) -> Publication:
    """A draft only its department's staff (and administrators) see until it is published."""
    department, title = _checked(session, actor, department_key, kind, title, area, check_actor)
    now = utcnow()
    publication = Publication(department_id=department.id, kind=kind, area=area, title=title,
                              summary=(summary or "").strip()[:500], body=(body or "").strip(), published_at=now,
                              published_by=actor.name[:64], published_by_account_id=actor.account_id,
                              withdrawn=False, status=DRAFT, updated_at=now)
    publication.department = department
    session.add(publication)
    session.flush()
    _event(session, actor, publication, "create", None, at=now)
    return publication


def edit(session: Session, actor: Actor, publication: Publication, *, kind: str, title: str, body: str,
         summary: str = "", area: str = "") -> None:
    """Change a draft (a published item is withdrawn and reopened first, so citizens never see a half edit)."""
    if publication.status != DRAFT:
        raise PublicationInvalid("只能修改草稿；已发布的内容请先撤回再重新编辑", "status")
    _department, title = _checked(session, actor, publication.department.key, kind, title, area, True)
    publication.kind, publication.area, publication.title = kind, area, title
    publication.summary, publication.body = (summary or "").strip()[:500], (body or "").strip()
    publication.updated_at = utcnow()
    _event(session, actor, publication, "edit", DRAFT)


def _move(session: Session, actor: Actor, publication: Publication, action: str, allowed: tuple[str, ...],
          to_status: str, at: dt.datetime | None = None, check_actor: bool = True) -> None:
    if check_actor and not may_edit(actor, publication.department.key):
        raise PublicationInvalid(f"您不能管理“{publication.department.short_name}”的内容", "department")
    if publication.status not in allowed:
        raise PublicationInvalid(f"{STATUS_TITLES[publication.status]}的内容不能{ACTION_TITLES[action]}", "status")
    from_status = publication.status
    publication.status, publication.withdrawn = to_status, to_status == WITHDRAWN
    publication.updated_at = at or utcnow()
    if to_status == PUBLISHED:
        publication.published_at = at or utcnow()
        publication.published_by, publication.published_by_account_id = actor.name[:64], actor.account_id
    _event(session, actor, publication, action, from_status, at=at)


def publish_draft(session: Session, actor: Actor, publication: Publication, *, at: dt.datetime | None = None,
                  check_actor: bool = True) -> None:
    _move(session, actor, publication, "publish", (DRAFT,), PUBLISHED, at, check_actor)


def withdraw(session: Session, actor: Actor, publication: Publication, *, check_actor: bool = True) -> None:
    _move(session, actor, publication, "withdraw", (PUBLISHED,), WITHDRAWN, check_actor=check_actor)


def reopen(session: Session, actor: Actor, publication: Publication) -> None:
    """A withdrawn item back to a draft, to rework and publish again."""
    _move(session, actor, publication, "reopen", (WITHDRAWN,), DRAFT)


def publish(session: Session, actor: Actor, *, department_key: str, kind: str, title: str, body: str,
            summary: str = "", area: str = "", published_at: dt.datetime | None = None) -> Publication:
    """Write and publish one item at once for a department (the demo seeder and other platform code); the
    same steps as in the web, so its history says who wrote and published it."""
    publication = create_draft(session, actor, department_key=department_key, kind=kind, title=title, body=body,
                               summary=summary, area=area, check_actor=False)
    publish_draft(session, actor, publication, at=published_at, check_actor=False)
    return publication


def history(session: Session, publication: Publication) -> list[PublicationEvent]:
    return list(session.scalars(select(PublicationEvent).where(PublicationEvent.publication_id == publication.id)
                                .order_by(PublicationEvent.at, PublicationEvent.id)))


def for_editor(session: Session, actor: Actor, *, status: str = "") -> list[Publication]:
    """Every item of the departments the actor writes for, drafts and withdrawn ones included, newest first."""
    keys = [department.key for department in editable_departments(session, actor)]
    statement = select(Publication).join(Department).where(Department.key.in_(keys))
    if status in STATUS_TITLES:
        statement = statement.where(Publication.status == status)
    return list(session.scalars(statement.order_by(Publication.updated_at.desc(), Publication.id.desc())
                                .limit(500)))


def _like(keyword: str) -> str:
    return keyword.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(session: Session, *, keyword: str = "", kind: str = "", area: str = "", department_key: str = "",
           limit: int = 500) -> list[Publication]:
    """Published items, newest first, narrowed by any of: words in title/summary/body, kind, area, department.

    The keyword only ever reaches the database as a bound parameter (with %, _ and \\ escaped).
    """
    statement = select(Publication).join(Department).where(Publication.status == PUBLISHED)
    for word in (keyword or "").strip()[:MAX_KEYWORD].split():
        pattern = f"%{_like(word)}%"
        statement = statement.where(or_(Publication.title.like(pattern, escape="\\"),
                                        Publication.summary.like(pattern, escape="\\"),
                                        Publication.body.like(pattern, escape="\\"),
                                        Department.short_name.like(pattern, escape="\\")))
    if kind:
        statement = statement.where(Publication.kind == kind)
    if area:
        statement = statement.where(Publication.area == area)
    if department_key:
        statement = statement.where(Department.key == department_key)
    statement = statement.order_by(Publication.published_at.desc(), Publication.id.desc()).limit(limit)
    return list(session.scalars(statement))


def grouped(items: list[Publication]) -> list[tuple[str, list[tuple[str, list[Publication]]]]]:
    """[(kind, [(department short name, items), ...]), ...] in the order of KINDS, departments by name."""
    by_kind: dict[str, dict[str, list[Publication]]] = {}
    for item in items:
        by_kind.setdefault(item.kind, {}).setdefault(item.department.short_name, []).append(item)
    ordered = [kind for kind in KINDS if kind in by_kind] + sorted(set(by_kind) - set(KINDS))
    return [(kind, sorted(by_kind[kind].items())) for kind in ordered]


def get(session: Session, publication_id: int) -> Publication | None:
    """A published item (None when unknown, a draft or withdrawn: citizens see published items only)."""
    publication = session.get(Publication, publication_id)
    return None if publication is None or publication.status != PUBLISHED else publication


_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.、)])\s*")


def blocks(body: str) -> list[tuple[str, object]]:
    """The body as headings, paragraphs and lists (plain text pieces; the template escapes them)."""
    result: list[tuple[str, object]] = []
    for chunk in re.split(r"\n\s*\n", (body or "").replace("\r\n", "\n").strip()):
        lines = [line.rstrip() for line in chunk.split("\n") if line.strip()]
        if not lines:
            continue
        if lines[0].startswith("## ") or lines[0].startswith("# "):
            result.append(("h", lines[0].lstrip("#").strip()))
            lines = lines[1:]
        if lines and all(_LIST_ITEM.match(line) for line in lines):
            result.append(("ul", [_LIST_ITEM.sub("", line, count=1) for line in lines]))
        elif lines:
            result.append(("p", "\n".join(lines)))
    return result


# -- demo content ---------------------------------------------------------------------------------------------
# department key, kind, area, title, summary, body
DEMO = [
    ("civil_affairs", GUIDE, "养老助残", "高龄津贴申领指南", "80周岁以上兰州户籍老年人按月领取高龄津贴。",
     "## 申领对象\n- 具有兰州市户籍、年满80周岁的老年人\n\n## 补贴标准\n- 80至89周岁：每人每月100元\n- 90至99周岁：每人每月200元\n"
     "- 100周岁以上：每人每月500元\n\n## 所需材料\n- 本人身份证、户口簿\n- 本人社会保障卡或银行卡\n\n"
     "## 办理流程\n本人或代办人到户籍所在社区提出申请，社区初审、街道审核、区民政局审批，次月起按月发放。\n\n"
     "## 咨询电话\n12345政务服务便民热线"),
    ("civil_affairs", POLICY, "补贴", "城乡最低生活保障政策解读", "家庭人均收入低于当地低保标准的，可申请最低生活保障。",
     "城市低保标准为每人每月770元，农村低保标准为每人每年5280元（以当年公布标准为准）。\n\n"
     "## 申请条件\n- 共同生活家庭成员人均收入低于当地低保标准\n- 家庭财产状况符合规定\n\n"
     "## 申请方式\n向户籍所在地街道（乡镇）提出书面申请，也可由社区代为提出。经入户调查、民主评议、公示后审批。"),
    ("civil_affairs", SERVICE, "养老助残", "社区老年人助餐服务", "社区老年食堂为60周岁以上老人提供优惠助餐。",
     "辖区60周岁以上老年人凭身份证到社区老年食堂登记即可就餐，80周岁以上、低保、特困老人享受额外优惠。行动不便的老人可申请送餐上门。"),
    ("human_resources", POLICY, "就业", "就业补贴政策", "对吸纳就业困难人员、高校毕业生的用人单位给予社会保险补贴。",
     "## 补贴对象\n- 招用就业困难人员并缴纳社会保险的用人单位\n- 灵活就业的就业困难人员\n- 离校2年内未就业的高校毕业生\n\n"
     "## 补贴标准\n按实际缴纳的基本养老、基本医疗和失业保险费给予补贴，不含个人缴纳部分。\n\n"
     "## 申请\n用人单位每季度向所在区人社部门申请，资金直接拨付至单位账户。"),
    ("human_resources", SERVICE, "培训", "职业技能提升培训", "面向城乡劳动者的免费职业技能培训，合格后发放培训补贴。",
     "开设电工、焊工、育婴员、养老护理员、中式烹调师、电子商务等培训项目。\n\n"
     "- 报名：携带身份证到就近的人社服务站或定点培训机构报名\n- 培训合格取得证书的，按规定给予培训补贴\n- 培训期间可申请生活费补贴（就业困难人员）"),
    ("human_resources", GUIDE, "融资", "创业担保贷款申请指南", "个人最高可申请30万元创业担保贷款，财政给予贴息。",
     "## 申请对象\n城镇登记失业人员、就业困难人员、返乡创业农民工、高校毕业生、退役军人等。\n\n"
     "## 贷款额度\n- 个人最高30万元\n- 小微企业最高400万元\n\n## 所需材料\n- 身份证、营业执照\n- 创业项目计划书\n\n"
     "## 办理地点\n各区就业服务中心创业担保贷款窗口"),
    ("human_resources", GUIDE, "就业", "失业保险金申领", "参保缴费满1年、非因本人意愿中断就业的，可申领失业保险金。",
     "可通过“甘肃人社”APP、兰州市政务服务网或到区就业服务中心窗口申领。\n\n## 所需材料\n- 身份证或社会保障卡\n- 解除或终止劳动关系的证明"),
    ("medical_insurance", GUIDE, "", "异地就医备案办理指南", "参保人员异地长期居住或临时外出就医，可线上办理备案。",
     "## 备案类型\n- 异地长期居住人员（异地安置退休、异地长期居住、常驻异地工作）\n- 临时外出就医人员（异地转诊、异地急诊抢救、其他临时外出就医）\n\n"
     "## 办理渠道\n- 国家医保服务平台APP\n- “甘肃医保”微信公众号\n- 各区医保经办窗口\n\n备案后在就医地联网定点医疗机构可直接结算。"),
    ("medical_insurance", POLICY, "补贴", "城乡居民医保参保缴费政策", "城乡居民基本医疗保险按年度集中缴费，财政给予补助。",
     "每年9月至12月为下一年度城乡居民医保集中缴费期。特困人员、低保对象、返贫致贫人口等按规定享受个人缴费资助。\n\n"
     "缴费渠道：甘肃税务APP、微信、支付宝、银行网点。"),
    ("housing_security", GUIDE, "", "公共租赁住房申请指南", "符合条件的城镇中低收入住房困难家庭、新就业职工可申请公租房。",
     "## 申请条件\n- 申请人具有本市城区户籍或在本市稳定就业\n- 家庭人均住房面积低于规定标准\n- 家庭收入、财产符合规定\n\n"
     "## 办理流程\n1. 向户籍或工作所在地街道提出申请\n2. 街道初审并公示\n3. 区住房保障部门复核\n4. 轮候配租\n\n"
     "配租后按月缴纳租金，符合条件的可申请租金减免。"),
    ("housing_construction", POLICY, "补贴", "老旧小区改造政策问答", "2000年底前建成的城镇老旧小区纳入改造范围。",
     "改造内容分为基础类、完善类和提升类：包括水电气暖管网、屋面防水、加装电梯、适老化改造、停车和充电设施等。\n\n"
     "居民可通过社区反映改造意愿，改造方案经居民协商同意后实施。"),
    ("disabled_persons", GUIDE, "养老助残", "残疾人两项补贴申领指南", "困难残疾人生活补贴和重度残疾人护理补贴。",
     "## 补贴对象\n- 困难残疾人生活补贴：低保家庭中的持证残疾人\n- 重度残疾人护理补贴：残疾等级为一级、二级的持证残疾人\n\n"
     "## 所需材料\n- 第二代残疾人证\n- 身份证、户口簿\n- 银行卡\n\n## 办理\n向户籍所在地社区提出申请，也可通过“全国残疾人两项补贴”网上申请。"),
    ("disabled_persons", SERVICE, "培训", "残疾人职业技能培训", "为就业年龄段持证残疾人提供免费的职业技能培训。",
     "开设盲人按摩、手工编织、电子商务、计算机操作等项目，培训期间提供交通和生活补助。"),
    ("veterans", GUIDE, "补贴", "退役军人优待证申领", "退役军人和其他优抚对象可申领优待证，享受交通、游览等优待。",
     "通过“退役军人之家”或社区退役军人服务站申请，所需材料为身份证、退役证件和近期免冠照片。"),
    ("health", SERVICE, "养老助残", "家庭医生签约服务", "居民可与社区卫生服务中心的家庭医生团队签约。",
     "签约后可享受健康评估、慢病随访、预约转诊、上门服务（行动不便的老人）等服务。65岁以上老人每年免费体检一次。"),
    ("education", GUIDE, "", "义务教育阶段入学报名指南", "适龄儿童少年按学区登记入学，随迁子女按积分入学。",
     "## 报名时间\n每年6月，具体以区教育局公告为准。\n\n## 所需材料\n- 户口簿、房产证明或居住证明\n- 随迁子女另需居住证和父母就业证明"),
    ("commerce", SERVICE, "补贴", "以旧换新消费补贴", "个人消费者购买符合条件的家电、汽车可申领以旧换新补贴。",
     "在活动期内于参与活动的商户购买一级能效家电，或报废旧车购买新车，可通过“云闪付”等平台申领补贴。"),
    ("market_regulation", GUIDE, "融资", "个体工商户登记指南", "个体工商户登记可全程网上办理，当日领照。",
     "登录甘肃政务服务网“个体工商户登记”，填写经营者、经营场所、经营范围等信息，电子营业执照可在手机上领取。个体户可凭营业执照申请小额贷款和“个转企”扶持。"),
    ("government_services", SERVICE, "", "政务服务“一网通办”", "常用政务服务事项可在网上或手机上办理，不用跑腿。",
     "兰州市政务服务中心设综合受理窗口和“办不成事”反映窗口。不会用手机的老年人可到窗口由工作人员帮办代办。"),
    ("womens_federation", SERVICE, "融资", "妇女创业贷款贴息", "妇女创业者可申请创业担保贷款，妇联协助推荐并给予贴息。",
     "由户籍所在地妇联组织推荐，经人社部门审核后由合作银行发放，贷款期限一般不超过3年。"),
    ("trade_union", SERVICE, "补贴", "困难职工帮扶", "工会对因病、因灾等致困职工给予生活、医疗、助学救助。",
     "职工可向所在单位工会或区总工会提出申请，提供困难情况证明。金秋助学活动每年8月开展。"),
]


def seed_demo(session: Session, actor: Actor) -> int:
    """Publish the demo items whose department exists and that are not there yet; return how many were added."""
    existing = set(session.execute(select(Department.key, Publication.title).join(Department)).all())
    known = set(session.scalars(select(Department.key)))
    added = 0
    now = utcnow()
    for index, (department_key, kind, area, title, summary, body) in enumerate(DEMO):
        if department_key not in known or (department_key, title) in existing:
            continue
        publish(session, actor, department_key=department_key, kind=kind, title=title, body=body,
                summary=summary, area=area, published_at=now - dt.timedelta(days=index * 3))
        added += 1
    return added
