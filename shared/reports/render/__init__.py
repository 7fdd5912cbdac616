"""Report artefacts: the documents a report is printed and forwarded as.

The weekly summary's HTML email, Word and Excel files are rendered from
`shared.reports.model` here; the campaign summary's draft in `campaign_docx`.
"""

from shared.reports.render.docx import render_docx
from shared.reports.render.email import RenderedEmail, render_email
from shared.reports.render.xlsx import render_xlsx

__all__ = ["RenderedEmail", "render_docx", "render_email", "render_xlsx"]
