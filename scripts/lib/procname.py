"""Shared by the development services (mail-catcher.py,
whatsapp-gateway.py): the process name the scripts check."""
import ctypes


def set_process_name(name):
    """comm = name, so scripts can tell this process from another python3."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):
        pass
