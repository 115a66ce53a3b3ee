"""The streaming CSV import of affected people: reading the file, checking rows,
writing them (binary COPY on PostgreSQL) and the background job behind uploads.
"""
