"""Faithful fakes of the services the copilot calls, one Django app each: Kustomer (`kustomer`),
Shopify (`shopify`) and an OpenAI-compatible model server (`llm`).

They serve the demo and the tests over real HTTP under `/sandbox/`, and are installed (so
migrated, and shown in the admin) only when `COPILOT_SANDBOX` is true; see docs/sandbox.md.
Nothing else imports them but the tests and, in the demo only, `manage.py demo_setup`.
"""
