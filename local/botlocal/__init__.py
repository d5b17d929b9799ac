"""The local runtime: an EventBridge-like bus on SQLite, local stand-ins for the CDK-only targets,
a DuckDB view over the local data lake and the `botctl` command that runs it all on one machine.

Nothing here is bundled into the Lambda; the runtime imports it only when BOT_RUNTIME=local.
"""
