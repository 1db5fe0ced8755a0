"""A faithful fake of Kustomer's REST API and outbound webhooks, for tests and the demo.

Mounted at `/sandbox/kustomer/` only when `COPILOT_SANDBOX` is true; see docs/sandbox.md.
"""
