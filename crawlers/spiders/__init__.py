"""Spiders. There is one, SourceSpider, configured by a source entry; a new site of a known kind is
data in the sources file, not a new spider."""
