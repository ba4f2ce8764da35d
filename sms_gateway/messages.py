"""Persian SMS texts rendered from templates/sms/*.txt, always with Persian digits."""
from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from persiantools import digits

from .segments import count_segments

DEFAULT_TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates" / "sms"


def persian_digits(text: str) -> str:
    return digits.ar_to_fa(digits.en_to_fa(text))


class SmsTemplates:
    def __init__(self, directory: Path = DEFAULT_TEMPLATES_DIR):
        self.directory = Path(directory)
        self._env = Environment(loader=FileSystemLoader(str(self.directory)), autoescape=False,
                                undefined=StrictUndefined, keep_trailing_newline=False)

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.directory.glob("*.txt"))

    def render(self, name: str, **values) -> str:
        """The template's text, whitespace collapsed to single spaces, digits in Persian."""
        text = self._env.get_template(f"{name}.txt").render(**values)
        return persian_digits(" ".join(text.split()))

    def segments(self, name: str, **values) -> int:
        return count_segments(self.render(name, **values))


def jalali_date(moment, timezone: str = "Asia/Tehran") -> str:
    """'۳ آذر ۱۴۰۵' for an aware datetime, in the city's time zone."""
    from zoneinfo import ZoneInfo

    from persiantools.jdatetime import JalaliDate

    local = moment.astimezone(ZoneInfo(timezone)).date()
    jd = JalaliDate(local)
    return persian_digits(f"{jd.day} {jd.strftime('%B', locale='fa')} {jd.year}")
