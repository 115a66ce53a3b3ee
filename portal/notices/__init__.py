"""The notice: building one person's tailored notice, its versions and four-eyes
workflow, the checklist, the advice catalog, the page cache and the PDF.
"""
