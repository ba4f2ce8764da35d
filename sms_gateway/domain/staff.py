"""Who may see and do what: the staff member behind a request, as the rules need them."""
from __future__ import annotations

from dataclasses import dataclass

from .values import Role

ROLES: tuple[str, ...] = tuple(Role)


@dataclass(frozen=True)
class Viewer:
    id: int
    username: str
    role: str
    region: int | None
    department: str | None = None  # a unit's department (role unit only)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_unit(self) -> bool:
        return self.role == Role.UNIT

    @property
    def unit(self) -> str | None:
        """The code of this unit account's unit («urban_services:2»); None for the 137 centre's staff."""
        if not self.is_unit or not self.department:
            return None
        return self.department if self.region is None else f"{self.department}:{self.region}"

    @property
    def reviews(self) -> bool:
        """Supervisors and admins review the weekly audit sample."""
        return self.role in (Role.SUPERVISOR, Role.ADMIN)

    def sees_region(self, region: int | None) -> bool:
        """Admins and staff without a region see every ticket; others their region and unassigned ones."""
        return self.is_admin or self.region is None or region is None or region == self.region

    def sees_ticket(self, region: int | None, unit: str | None) -> bool:
        """A unit account sees only the tickets referred to its unit; the 137 centre's staff by region."""
        if self.is_unit:
            return self.unit is not None and unit == self.unit
        return self.sees_region(region)

    def sees_full_phone(self) -> bool:
        return self.is_admin


def command_line_viewer(username: str = "cli") -> Viewer:
    """Whoever runs `sms-gateway` on the server acts as an admin (they hold the database anyway)."""
    return Viewer(0, username, Role.ADMIN, None)
