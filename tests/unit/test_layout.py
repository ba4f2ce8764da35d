"""The layout holds: the domain imports no web framework, ORM or provider SDK, and a provider is one module."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("flask", "sqlalchemy", "twilio", "requests", "jinja2", "werkzeug", "apscheduler")


def test_importing_the_domain_loads_no_framework_orm_or_sdk():
    probe = ("import sys, sms_gateway.domain, sms_gateway.domain.decide, sms_gateway.domain.city, "
             "sms_gateway.domain.tickets, sms_gateway.domain.policy; "
             f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""


def test_no_domain_module_imports_outside_the_standard_library_and_itself():
    for path in (ROOT / "sms_gateway" / "domain").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            for name in names:
                assert name.split(".")[0] not in HEAVY, (path.name, name)


def test_importing_the_package_loads_no_flask():
    probe = "import sys, sms_gateway; print('flask' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
