"""The creation time readstat writes into a .sav, .dta or .xpt header (always "now"), set to a given moment. Pure.

readstat offers no way to choose it, so the header's timestamp fields are rewritten in place, each in its
format's own layout; the files are otherwise untouched. Positions from the format descriptions: SPSS system
file header (creation date and time at bytes 92-108), Stata 117+ ``<timestamp>`` element, SAS transport v5
library and member headers (``ddMMMyy:hh:mm:ss``, created and modified, in the first eight 80-byte records).
"""

import re
from datetime import datetime

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
SAV_STAMP = re.compile(rb"\d\d [A-Z][a-z]{2} \d\d\d\d:\d\d:\d\d")
DTA_STAMP = re.compile(rb"<timestamp>\x11\d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d</timestamp>")
XPT_STAMP = re.compile(rb"\d\d[A-Z]{3}\d\d:\d\d:\d\d:\d\d")
XPT_HEADER = 8 * 80
SAV_AT = 92


def stamp_header(head: bytes, extension: str, moment: datetime) -> bytes:
    """``head`` (the file's first bytes) with its creation time set to ``moment`` (naive, as the file shows it)."""
    month = MONTHS[moment.month - 1]
    if extension == "sav":
        stamp = f"{moment:%d} {month} {moment:%y}{moment:%H:%M:%S}".encode("ascii")
        if SAV_STAMP.fullmatch(head, SAV_AT, SAV_AT + len(stamp)):
            return head[:SAV_AT] + stamp + head[SAV_AT + len(stamp) :]
        return head
    if extension == "dta":
        stamp = f"<timestamp>\x11{moment:%d} {month} {moment:%Y %H:%M}</timestamp>".encode("ascii")
        return DTA_STAMP.sub(stamp, head, count=1)
    if extension == "xpt":
        stamp = f"{moment:%d}{month.upper()}{moment:%y:%H:%M:%S}".encode("ascii")
        return XPT_STAMP.sub(stamp, head[:XPT_HEADER]) + head[XPT_HEADER:]
    return head
