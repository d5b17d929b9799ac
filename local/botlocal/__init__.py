"""The local runtime: an EventBridge-like bus on SQLite, local stand-ins for the CDK-only targets,
a DuckDB view over the local data lake and the `botctl` command that runs it all on one machine.

Nothing here is bundled into the Lambda, and the runtime never imports it by name: the local stage of
runtime/.chalice/config.json names botlocal.adapters.LocalAdapters in BOT_ADAPTERS. Dependencies
point one way: botlocal -> chalicelib, never back.
"""
