"""Figures of the report's numbers, drawn on the server with matplotlib: pure functions of the report's dicts.

Each builder returns a ``Drawn`` (a matplotlib Figure with its accessible title and description); ``render``
turns it into SVG (inline-safe under the site's strict Content-Security-Policy), PNG or PDF.
"""
