"""What the database answers to a statement the application's role is not allowed."""

import pytest
from django.db import DatabaseError, connection, transaction

DENIED = "42501"  # insufficient_privilege


def refusal(statement: str, *params) -> str:
    """Run the statement in a savepoint, as the application's role; the SQLSTATE of the
    refusal (the test fails if it is not refused)."""
    with (
        pytest.raises(DatabaseError) as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, params)
    return refused.value.__cause__.diag.sqlstate
