"""The shared kernel: what services, adapters and blueprints of every runtime all use.

Nothing here imports a service, an adapter or a blueprint, or anything heavy: errors every layer
raises or catches, the image feature names, the idempotency port, text helpers two services use,
the media URL policy and the X credential keys.
"""
