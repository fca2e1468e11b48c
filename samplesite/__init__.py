"""The bundled sample public network: WeChat-style articles, a Sogou-style search and shop listings,
served from one local web server for the demo and the crawler tests. See README.md for the URL map."""

from samplesite.server import SampleSite, start

__all__ = ["SampleSite", "start"]
