"""Event contracts shared by the runtime, the CDK code and the local bus.

Nothing in this package imports a third-party library, so the infrastructure and the local
runtime can import it without pulling in the Lambda's dependencies.
"""
