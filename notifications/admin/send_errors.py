"""A failed message's error in words: "550 5.1.1 …" means nothing to a training administrator.

The enhanced status code (RFC 3463, "5.1.1") says most; the basic SMTP reply code ("550") is the fallback; a few
errors of our own side (the mail server cannot be reached, refuses our login) are recognised by their words.
The raw text stays available beside the explanation.
"""

import re

from django.utils.translation import gettext_lazy as _

ENHANCED = {
    "5.1.1": _("the receiving server says this address does not exist: check it with the learner"),
    "5.1.2": _("the domain of this address does not exist or receives no email: check the part after the @"),
    "5.1.3": _("this address is not written correctly"),
    "5.1.10": _("the receiving server says this address does not exist: check it with the learner"),
    "5.2.1": _("this mailbox is closed or disabled"),
    "5.2.2": _("this mailbox is full: the recipient must make room before it receives anything"),
    "4.2.2": _("this mailbox is full for now: sending is tried again later"),
    "5.2.3": _("the message is too large for the receiving server"),
    "5.3.4": _("the message is too large for the receiving server"),
    "5.4.1": _("the receiving server does not accept email for this address"),
    "5.7.1": _("the receiving server refused the message (its spam filter or its rules)"),
    "5.7.23": _("the receiving server does not trust our sending domain (SPF): ask your IT team"),
    "5.7.26": _("the receiving server does not trust our sending domain (SPF, DKIM or DMARC): ask your IT team"),
}
BASIC = {
    "421": _("the receiving server is unavailable for now: sending is tried again later"),
    "450": _("the mailbox is unavailable for now: sending is tried again later"),
    "451": _("the receiving server had a temporary problem: sending is tried again later"),
    "452": _("the receiving server is short of space for now: sending is tried again later"),
    "530": _("our mail server wants us to sign in: check the EMAIL_URL setting"),
    "535": _("our mail server refused our user name or password: check the EMAIL_URL setting"),
    "550": _("the receiving server refused this address (it may not exist)"),
    "551": _("the receiving server does not accept email for this address"),
    "552": _("the mailbox is full or the message is too large"),
    "553": _("the receiving server does not accept this address as written"),
    "554": _("the receiving server refused the message"),
}
OUR_SIDE = (
    (
        re.compile(r"connection refused|unreachable|name or service not known|timed out", re.I),
        _("our mail server could not be reached: sending is tried again later; tell your IT team if it lasts"),
    ),
    (
        re.compile(r"number does not exist|invalid (phone )?number", re.I),
        _("the SMS provider says this phone number does not exist"),
    ),
)
_ENHANCED_CODE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_BASIC_CODE = re.compile(r"(?<![\d.])([245]\d\d)(?![\d.])")


def explain_send_error(text) -> str:
    """The error of a failed send in words, or "" when it is not one we know."""
    if not text:
        return ""
    for match in _ENHANCED_CODE.finditer(text):
        words = ENHANCED.get(".".join(match.groups()))
        if words:
            return str(words)
    for match in _BASIC_CODE.finditer(text):
        words = BASIC.get(match.group(1))
        if words:
            return str(words)
    for pattern, words in OUR_SIDE:
        if pattern.search(text):
            return str(words)
    return ""
