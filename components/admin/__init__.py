"""The admin panel's tabs, one module each; pages/admin.py only composes them."""
