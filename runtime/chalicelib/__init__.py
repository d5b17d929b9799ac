"""The bot's runtime library: contracts, services, ports and AWS adapters (bundled into Lambda)."""
