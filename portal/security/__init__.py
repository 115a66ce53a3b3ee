"""Security mechanisms written once: field encryption and blind indexes, passwords, two-factor,
the one attempt-and-lock mechanism, staff sign-in, response headers, permissions, safe redirects.
"""
