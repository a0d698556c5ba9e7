"""Persistence: every SQL statement of ccmbot lives in this package.

The transaction rule: functions here add, update and flush, and never commit or roll back.
The door's unit of work owns the transaction:

    with database.transaction() as session:   # commits at the end, rolls back on an exception
        log_entries(session, ...)

Reads use `with database.session() as session:`. What travels up is plain data
(storage.records), never a session-bound row, except to the write path's own callers.
"""
