"""The local web page of `botctl serve` (issue 11): messages, analyses, replies, alerts, counts,
latency and dead letters, read from the state folder and served on 127.0.0.1 only.

`state` builds a read model from the state folder (read-only), `render` turns it into HTML (every
value escaped), `server` serves both with the standard library. Nothing here is a Chalice route,
and nothing of it is in runtime/: the page is never deployed.
"""
