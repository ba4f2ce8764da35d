"""Tracking codes: 8 digits a citizen types on a keypad, random, the last one a Damm check digit.

Random (not sequential), so one code says nothing about another; the check digit catches every
single mistyped digit and every swap of neighbours before the database is asked.
"""
from __future__ import annotations

import re
import secrets

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2), (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9), (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8), (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4), (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5), (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
CODE_LENGTH = 8


def damm_digit(digits: str) -> int:
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return interim


def new_tracking_code() -> str:
    body = str(secrets.randbelow(9 * 10 ** (CODE_LENGTH - 2)) + 10 ** (CODE_LENGTH - 2))
    return body + str(damm_digit(body))


def is_valid_tracking_code(code: str) -> bool:
    return bool(re.fullmatch(rf"[1-9]\d{{{CODE_LENGTH - 1}}}", code)) and damm_digit(code) == 0
