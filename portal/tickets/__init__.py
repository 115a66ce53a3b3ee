"""Tickets: opening, replying, closing and their SLA due times, shared by the
customer site and the helpdesk.
"""
