"""Laying a brief out: Word through python-docx, HTML through Jinja2 (one self-contained file: its style and its
charts inside it, no script), PDF through WeasyPrint from that HTML.

WeasyPrint needs Pango (libpango-1.0-0, libpangoft2-1.0-0) and, for the Chinese text, a CJK font
(fonts-wqy-microhei or fonts-noto-cjk); without Pango, `pdf` raises `PdfUnavailable` with the reason in Chinese.
"""
from __future__ import annotations

import base64
import io

from jinja2 import Environment, PackageLoader, select_autoescape

from . import charts, outline

FORMATS = {"docx": ("Word 文档", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
           "pdf": ("PDF", "application/pdf"), "html": ("网页（HTML）", "text/html; charset=utf-8")}
EAST_ASIAN_FONT = "SimSun"
_templates = Environment(loader=PackageLoader("minqing.workflows.briefs", "templates"),
                         autoescape=select_autoescape(("html",)), trim_blocks=True, lstrip_blocks=True)


class PdfUnavailable(RuntimeError):
    """No PDF engine here; the message says, in Chinese, what to install."""


def docx(brief: dict) -> bytes:
    import docx as python_docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    document = python_docx.Document()
    normal = document.styles["Normal"]
    normal.font.size = Pt(10.5)
    normal.font.name = EAST_ASIAN_FONT                                  # creates the run fonts element
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)   # Chinese text in a Chinese face
    images = charts.all_charts(brief)
    core = document.core_properties
    core.title = outline.title(brief)
    core.subject = brief["period"]
    for block in outline.blocks(brief):
        if block.kind == "heading":
            heading = document.add_heading(block.text, level=block.level)
            if block.level == 0:
                heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif block.kind == "paragraph":
            document.add_paragraph(block.text)
        elif block.kind == "note":
            run = document.add_paragraph().add_run(block.text)
            run.italic = True
            run.font.size = Pt(9)
        elif block.kind == "table":
            table = document.add_table(rows=1, cols=len(block.columns))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, block.columns):
                cell.text = text
                cell.paragraphs[0].runs[0].bold = True
            for row in block.rows:
                for cell, text in zip(table.add_row().cells, row):
                    cell.text = text
        elif block.kind == "chart" and block.chart in images:
            caption, png = images[block.chart]
            document.add_picture(io.BytesIO(png), width=Cm(15))
            document.add_paragraph(caption).alignment = WD_ALIGN_PARAGRAPH.CENTER
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def html(brief: dict) -> bytes:
    images = {key: (caption, "data:image/png;base64," + base64.b64encode(png).decode("ascii"))
              for key, (caption, png) in charts.all_charts(brief).items()}
    page = _templates.get_template("brief.html").render(title=outline.title(brief), blocks=outline.blocks(brief),
                                                         images=images)
    return page.encode("utf-8")


def pdf(brief: dict) -> bytes:
    try:
        import weasyprint
    except (ImportError, OSError) as error:     # OSError: the package is there, Pango is not
        raise PdfUnavailable("无法生成 PDF：未找到 PDF 生成引擎（需要 WeasyPrint 及其系统库 Pango，"
                             "以及中文字体如 fonts-wqy-microhei）。请改用 .docx 或 .html，"
                             f"或请管理员安装后重试。（{type(error).__name__}）") from None
    return weasyprint.HTML(string=html(brief).decode("utf-8")).write_pdf()


RENDERERS = {"docx": docx, "html": html, "pdf": pdf}


def render(brief: dict, format_: str) -> bytes:
    if format_ not in RENDERERS:
        raise ValueError(f"unknown brief format {format_!r}")
    return RENDERERS[format_](brief)


__all__ = ["FORMATS", "PdfUnavailable", "docx", "html", "pdf", "render"]
