"""Kehu (客户) — an open-source CRM."""

__version__ = "0.1.0"
