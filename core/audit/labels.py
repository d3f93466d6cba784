"""What auditors read instead of internal names: the Chinese name of every audit action and object type the
platform records (`record_change`, and `record_case_event` as ``case.<step>``).

The raw action stays in the record (it is what the hash chain covers and what filters match); pages and exports
show these names beside it. A case step of a plugin's own workflow is named by that workflow's transition title,
which the web layer adds (core does not read workflows); the steps of the standard workflow are listed here so an
export names them too.
"""
from __future__ import annotations

ACTION_NAMES = {
    # signing in and accounts
    "auth.login": "登录", "auth.login_failed": "登录失败", "auth.login_refused": "登录被拒绝", "auth.logout": "退出登录",
    "auth.locked": "账号锁定", "auth.account_locked": "账号锁定", "account.create": "创建账号",
    "account.update": "修改账号", "account.deactivate": "停用账号", "account.reactivate": "恢复账号",
    "account.grant": "授予角色", "account.revoke": "撤销角色", "account.password_reset": "重置密码（管理员）",
    "account.password_change": "修改密码", "account.password_set": "重置密码", "account.code_sent": "发送验证码",
    "account.code_issued": "签发一次性验证码", "account.totp_enable": "启用双因素认证",
    "account.totp_disable": "停用双因素认证", "verification.issue": "发送短信验证码",
    "apikey.create": "创建接口密钥", "apikey.revoke": "吊销接口密钥",
    # plugins, themes, settings
    "plugin.enable": "启用插件", "plugin.disable": "停用插件", "plugin.auto_disable": "插件自动停用",
    "plugin.failing": "必需插件反复出错", "theme.publish": "发布业务主题", "theme.draft_create": "新建主题草稿",
    "theme.draft_save": "保存主题草稿", "theme_record.create": "新增主题台账记录", "theme_record.patrol": "主题巡查记录",
    "department.sync": "同步职能部门", "department.add": "新增职能部门", "department.update": "修改职能部门",
    "fallback.set": "设置兜底部门", "fallback.clear": "取消兜底部门", "warning_rule.settings": "修改预警规则设置",
    "warning.acknowledge": "确认预警", "warning.case": "预警转为事件", "warning.refresh": "刷新预警",
    "grid.colour": "重新评定网格颜色",
    "city.init": "初始化城市设置", "city.update": "修改城市设置", "city.tiles": "设置底图瓦片地址", "visit.record": "走访登记",
    "attachment.upload": "上传附件", "ranking.publish": "发布月度排名",
    "scheme.save": "保存考核方案", "brief.publish": "发布研判简报", "hotspots.settings": "修改热点分析参数",
    "publication.create": "起草公开内容", "publication.edit": "修改公开内容", "publication.publish": "发布公开内容",
    "publication.withdraw": "撤回公开内容", "publication.reopen": "重新编辑公开内容",
    # data
    "export": "导出数据", "import": "导入数据", "audit.prune": "清理过期审计记录",
    "personal_data.reveal": "查看完整个人信息", "personal_data.id_search": "按身份证号查询",
    "database.backup": "备份数据库", "database.restore": "恢复数据库", "demo.build": "生成演示城市",
    # cases: the standard workflow's steps, then the steps every workflow shares
    "case.report": "上报事件", "case.accept": "受理立案", "case.dispatch": "分拨交办", "case.take": "签收",
    "case.return": "退回", "case.transfer": "转办", "case.feedback": "处置反馈", "case.confirm": "回访确认",
    "case.rework": "重办", "case.request_extension": "申请延期", "case.approve_extension": "批准延期",
    "case.reject_extension": "驳回延期", "case.suspend": "挂起", "case.resume": "恢复办理", "case.void": "作废",
    "case.close_on_the_spot": "即报即办", "case.urge": "催办", "case.supervise": "督办", "case.escalate": "超期升级",
    "sla.sweep": "超时自动催办与升级",
    "case.citizen_rating": "群众评价", "case.appeal_filed": "提交申诉", "case.appeal_approved": "申诉通过",
    "case.appeal_rejected": "申诉驳回", "case.appeal_withdrawn": "撤回申诉", "case.move_theme": "更换业务主题",
    "case.close_orphaned": "主题停用后作废", "case.dispatch_suggestion": "采纳分拨建议",
    "case.assign_co_handlers": "指定协办部门", "case.co_handler_feedback": "协办反馈",
    "case.overrule_co_handler": "否决协办意见", "case.withdraw_co_handler": "撤回协办", "case.merge": "合并为重复件",
    "case.merge_in": "并入重复件", "case.unmerge": "撤销合并", "case.unmerge_out": "撤销合并（主件）",
    "case.follow_master": "随主件办理", "case.comment": "备注",
    "notification.read": "通知标为已读", "notification.read_all": "通知全部标为已读",
    # demo content
    "demo.accounts": "生成演示账号", "demo.history": "生成演示历史事件", "demo.volume": "批量生成演示历史事件",
    # department ledgers
    "theme_record.update": "修改台账记录", "theme_record.retire": "台账记录退出",
    # cadres, household visits, key grids, 帮办实事
    "cadre.assign": "设置干部职务", "cadre.remove": "撤销干部职务",
    "setting.household_visit_period": "设置入户走访周期",
    "key_grid.assign": "指定重点网格包抓人", "key_grid.remove": "撤销重点网格",
    "matter.promise": "承诺帮办实事", "matter.start": "开始办理帮办实事", "matter.finish": "帮办实事办结",
    "matter.decline": "帮办实事无法办理",
}

OBJECT_TYPE_NAMES = {
    "case": "事件", "account": "账号", "accounts": "账号文件", "api_key": "接口密钥", "attachment": "附件",
    "audit_log": "审计日志", "city": "城市设置", "database": "数据库", "department": "职能部门", "grid": "网格",
    "grids": "网格文件",
    "phone": "手机号", "plugin": "插件", "publication": "公开内容", "ranking": "月度排名", "region": "行政区划",
    "regions": "行政区划文件", "theme": "业务主题", "theme_record": "主题台账记录", "warning": "预警",
    "warning_rule": "预警规则",
    "notification": "通知", "household": "家庭户", "practical_matter": "帮办实事", "setting": "系统设置",
    "assessment_scheme": "考核方案", "brief": "研判简报", "channel": "受理渠道", "channel_updates": "渠道状态回传",
}


def action_name(action: str) -> str:
    """The Chinese name of an action; a case step no list names is still called 事件办理, anything else ''."""
    if action in ACTION_NAMES:
        return ACTION_NAMES[action]
    return "事件办理" if action.startswith("case.") else ""


def object_type_name(object_type: str) -> str:
    return OBJECT_TYPE_NAMES.get(object_type, "")
