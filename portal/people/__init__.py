"""Affected people: their identity columns (digests, blind indexes), verification
attempts and locks, and the activation-code pool.
"""
