"""Incidents: creating and changing them, their filings and advice, and the
deadline board computed from the rules.
"""
