"""Patrols of department records (业务主题记录巡查): the early-warning rule on overdue patrols and the departments'
figures. The rule and the figures are in `plugin.py`, the entry point `warning_record_patrols`."""
