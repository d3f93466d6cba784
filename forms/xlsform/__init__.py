"""XLSForm (ODK / Kobo spreadsheets) <-> our form schemas, for the low-code theme builder.

    from minqing.forms.xlsform import read_xlsform, write_xlsform

    imported = read_xlsform("巡查表.xlsx")          # a path, bytes or a binary file (.xlsx/.xls/.csv)
    imported.schema, imported.ui                    # pass forms.check_schema; render and validate as usual
    for item in imported.unconverted:               # what could not be carried over, in Chinese
        print(item.message)                         # 第 12 行 字段“tree_count”：calculate 计算字段无法转换，已跳过

    data = write_xlsform(schema, ui, title="巡查表", form_id="patrol")   # .xlsx bytes to edit and re-import
    result = export_xlsform(schema, ui, title="巡查表", form_id="patrol")  # the same, with what XLSForm cannot say

Pure functions over files and bytes: no database, no web. See docs/forms.md, "XLSForm import and export",
for what maps to what.
"""
from __future__ import annotations

from .model import Unconverted, XLSFormError, XLSFormExport, XLSFormImport
from .normalise import normalise
from .reader import read_xlsform
from .writer import export_xlsform, write_xlsform

__all__ = ["Unconverted", "XLSFormError", "XLSFormExport", "XLSFormImport", "export_xlsform", "normalise",
           "read_xlsform", "write_xlsform"]
