"""The fetch layer: how the scrapers reach the outside world, below every connector.

- errors: the exception hierarchy (ConnectorError: the whole fetch failed) and token redaction;
- guard: the SSRF address guard (which hosts and addresses may be contacted);
- http: the guarded, bounded HTTP client every connector uses;
- throttle: the per-host limit and polite delay shared by all workers through Redis.
Connectors import this package; it never imports a connector.
"""
