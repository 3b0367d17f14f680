"""`xxgk serve`: the archive as web pages, a JSON API (/api/v1) and metrics, read-only.

A front end beside cli/: it reads through storage/ and schedules/, and nothing but cli imports it."""
