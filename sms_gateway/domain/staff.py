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

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def sees_region(self, region: int | None) -> bool:
        """Admins and staff without a region see every ticket; others their region and unassigned ones."""
        return self.is_admin or self.region is None or region is None or region == self.region

    def sees_full_phone(self) -> bool:
        return self.is_admin


def command_line_viewer(username: str = "cli") -> Viewer:
    """Whoever runs `sms-gateway` on the server acts as an admin (they hold the database anyway)."""
    return Viewer(0, username, Role.ADMIN, None)
