"""Shared machinery every domain uses: background jobs, languages, error pages,
health checks, autocommit reads and the per-application caches.
"""
