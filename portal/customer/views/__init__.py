"""The customer site's pages, one module per page: entry and verification, the
notice, tickets, the FAQ and preferences.
"""
