"""Every text or JSON column of every table cleans what it stores (NUL dropped, cut to its length), so a
model added later with a plain String cannot bring back the DataError that jammed messages (issue 14, item 10)."""
from sqlalchemy import JSON, String

from sms_gateway.adapters import models  # noqa: F401  (registers every table)
from sms_gateway.adapters.db import Base, CleanJSON, CleanString, CleanText


def test_every_text_and_json_column_is_a_cleaning_type():
    plain = [f"{table.name}.{column.name}" for table in Base.metadata.tables.values() for column in table.columns
             if isinstance(column.type, (String, JSON))]
    assert plain == []
    cleaned = [column for table in Base.metadata.tables.values() for column in table.columns
               if isinstance(column.type, (CleanString, CleanText, CleanJSON))]
    assert len(cleaned) > 40
