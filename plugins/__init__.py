"""Built-in transform plugins, installed as ``augcore.plugins``."""
