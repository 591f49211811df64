"""Billing URLs: imports (included by billing/urls.py in the billing namespace)."""

urlpatterns: list = []
