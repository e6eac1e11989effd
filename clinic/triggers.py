"""Triggers whose function runs as the owner of the tables.

An OwnerTrigger's function is made SECURITY DEFINER after each migrate
(operations/dbroles.py, secure_database), so the rows it writes may be in a table the
application's role can only read: facts the database keeps for itself, which no
application write can get wrong or leave out.
"""

import pgtrigger


class OwnerTrigger(pgtrigger.Trigger):
    """A pgtrigger.Trigger that runs as the owner of the tables (SECURITY DEFINER)."""
