"""Persian SMS texts rendered from templates/sms/*.txt: the city's name and line filled in, digits Persian."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from persiantools.jdatetime import JalaliDate

from ..domain.city import CityData
from ..domain.text import count_segments, persian_digits
from .resources import resource_dir


class SmsTexts:
    def __init__(self, city: CityData, directory: Path | None = None):
        self.directory = Path(directory or resource_dir("templates") / "sms")
        self.city = city
        self._env = Environment(loader=FileSystemLoader(str(self.directory)), autoescape=False,
                                undefined=StrictUndefined, keep_trailing_newline=False)
        self._env.globals.update(city=city.name, line=city.line, phone=city.phone,
                                 authenticated_channel=city.authenticated_channel)

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.directory.glob("*.txt"))

    def render(self, name: str, **values: Any) -> str:
        """The template's text, whitespace collapsed to single spaces, digits in Persian."""
        text = self._env.get_template(f"{name}.txt").render(**values)
        return persian_digits(" ".join(text.split()))

    def segments(self, name: str, **values: Any) -> int:
        return count_segments(self.render(name, **values))


def jalali_date(moment: datetime, timezone: str = "Asia/Tehran") -> str:
    """'۳ آذر ۱۴۰۵' for an aware datetime, in the city's time zone."""
    jd = JalaliDate(moment.astimezone(ZoneInfo(timezone)).date())
    return persian_digits(f"{jd.day} {jd.strftime('%B', locale='fa')} {jd.year}")
