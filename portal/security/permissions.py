"""Staff roles and the one decorator every staff route uses."""

from __future__ import annotations

from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user

# Each role includes the roles before it.
ROLE_ORDER = {"agent": 1, "manager": 2, "admin": 3}


def has_role(user, role: str) -> bool:
    """Tell whether a staff member holds ``role`` or a higher one."""
    if not getattr(user, "is_authenticated", False):
        return False
    return ROLE_ORDER.get(user.role, 0) >= ROLE_ORDER[role]


def staff_required(role: str = "agent"):
    """Require a signed-in, active staff member holding at least ``role``.

    Anonymous visitors are sent to sign in; signed-in staff without the role get 403.
    """
    if role not in ROLE_ORDER:
        raise ValueError(f"unknown role {role!r}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("staff_auth.login", next=request.full_path))
            if not has_role(current_user, role):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_role = role
        return wrapped

    return decorator
