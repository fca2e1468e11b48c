"""The Elasticsearch backend: the official client, versioned indexes behind an alias, bulk writes
with retries. Request bodies come from es_requests (pure, unit-tested)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from core.config import Config
from core.errors import ConfigError
from search.backends import es_requests as req
from search.backends.base import IndexUnavailable, ResultHit, SearchParams, SearchResult
from search.query import Query

log = logging.getLogger(__name__)


def make_client(cfg: Config):
    from elasticsearch import Elasticsearch

    c = cfg.search
    hosts = [u.strip() for u in str(c.es_url).split(",") if u.strip()]
    if not hosts:
        raise ConfigError("[search] es_url is empty; set the Elasticsearch cluster URL")
    kw: dict[str, Any] = {
        "request_timeout": float(c.es_request_timeout_s),
        "max_retries": int(c.es_max_retries),
        "retry_on_timeout": True,
        "verify_certs": bool(c.es_verify_certs),
    }
    if c.es_api_key:
        kw["api_key"] = c.es_api_key
    elif c.es_username:
        kw["basic_auth"] = (c.es_username, c.es_password)
    if c.es_ca_certs:
        kw["ca_certs"] = str(cfg.resolve(c.es_ca_certs))
    return Elasticsearch(hosts, **kw)


def _unavailable(exc: Exception) -> IndexUnavailable:
    return IndexUnavailable(f"Elasticsearch: {type(exc).__name__}: {exc}")


class ElasticBackend:
    name = "elasticsearch"

    def __init__(self, cfg: Config, client=None):
        self.cfg = cfg
        self.alias = cfg.search.es_index_alias
        self.es = client or make_client(cfg)

    # ------------------------------------------------------------------ setup

    def _plugin(self) -> str | None:
        wanted = self.cfg.search.es_plugin_analyzer
        if wanted in ("none", ""):
            return None
        if wanted in req.PLUGIN_ANALYZERS:
            return wanted
        installed = " ".join(p.get("component", "") for p in self.es.cat.plugins(format="json"))
        if "analysis-smartcn" in installed:
            return "smartcn"
        if "analysis-ik" in installed:
            return "ik"
        return None

    def put_template(self) -> None:
        """PUT _index_template/<alias>: the settings and mappings every versioned index gets."""
        c = self.cfg.search
        template = req.index_template(self.alias, int(c.es_shards), int(c.es_replicas), self._plugin())
        self.es.indices.put_index_template(name=self.alias, **template)

    def ensure_ready(self) -> None:
        from elasticsearch import ApiError, TransportError

        if getattr(self, "_ready", False):
            return
        try:
            if self.es.indices.exists_alias(name=self.alias):
                if not req.index_is_current(self.es.indices.get_mapping(index=self.alias)):
                    raise IndexUnavailable(req.OLD_INDEX)
                self._ready = True
                return
            self.put_template()
            index = req.index_name(self.alias)
            self.es.indices.create(index=index, aliases={self.alias: {"is_write_index": True}})
            self._ready = True
        except (TransportError, ApiError) as exc:
            raise _unavailable(exc) from exc

    # ------------------------------------------------------------------ writing

    def _bulk(self, actions: list[dict[str, Any]], ignore_404: bool = False) -> None:
        from elasticsearch import ApiError, TransportError, helpers

        try:
            _ok, errors = helpers.bulk(
                self.es,
                actions,
                raise_on_error=False,
                raise_on_exception=True,
                max_retries=int(self.cfg.search.es_max_retries),
                initial_backoff=1,
                chunk_size=int(self.cfg.search.bulk_size),
            )
        except (TransportError, ApiError) as exc:
            raise _unavailable(exc) from exc
        if ignore_404:
            errors = [e for e in errors if next(iter(e.values())).get("status") != 404]
        if errors:
            first = next(iter(errors[0].values()))
            raise IndexUnavailable(
                f"Elasticsearch rejected {len(errors)} document(s); first: {first.get('status')} {first.get('error')}"
            )

    def index(self, docs: list[dict[str, Any]]) -> None:
        self._bulk(req.bulk_index_actions(self.alias, docs))

    def delete(self, hit_ids: list[int]) -> None:
        self._bulk(req.bulk_delete_actions(self.alias, hit_ids), ignore_404=True)

    def rebuild(self, docs: Iterable[dict[str, Any]], total: int, advance: Callable[[int], None]) -> int:
        """Fill a new versioned index, then move the alias to it in one atomic call and drop the old."""
        from elasticsearch import ApiError, TransportError

        try:
            self.put_template()
            new = req.index_name(self.alias)
            self.es.indices.create(index=new, settings={"refresh_interval": "-1"})
            n, batch = 0, []
            for doc in docs:
                batch.append(doc)
                if len(batch) >= int(self.cfg.search.bulk_size):
                    n += self._load(new, batch, advance)
            n += self._load(new, batch, advance)
            self.es.indices.put_settings(index=new, settings={"refresh_interval": None})
            self.es.indices.refresh(index=new)
            old = (
                list(self.es.indices.get_alias(name=self.alias, ignore_unavailable=True).keys())
                if self.es.indices.exists_alias(name=self.alias)
                else []
            )
            self.es.indices.update_aliases(actions=req.alias_swap_actions(self.alias, new, old))
            for index in old:
                self.es.indices.delete(index=index, ignore_unavailable=True)
        except (TransportError, ApiError) as exc:
            raise _unavailable(exc) from exc
        return n

    def _load(self, index: str, batch: list[dict[str, Any]], advance: Callable[[int], None]) -> int:
        if not batch:
            return 0
        self._bulk(req.bulk_index_actions(index, batch))
        n = len(batch)
        advance(n)
        batch.clear()
        return n

    def count(self) -> int:
        return int(self.es.count(index=self.alias)["count"])

    # ------------------------------------------------------------------ reading

    def search(self, query: Query, params: SearchParams) -> SearchResult:
        from elasticsearch import ApiError, TransportError

        c = self.cfg.search
        kwargs = req.search_request(query, params, int(c.track_total_hits), int(c.facet_size), params.highlight)
        try:
            resp = self.es.search(index=self.alias, **kwargs)
        except (TransportError, ApiError) as exc:
            raise _unavailable(exc) from exc
        total = resp["hits"]["total"]
        ranked = kwargs["sort"][0] == "_score"
        highlighted = "highlight" in kwargs
        hits = [
            ResultHit(
                id=int(h["_id"]),
                score=h.get("_score") if ranked else None,
                doc={},
                highlights=req.parse_highlight(h) if highlighted else None,
            )
            for h in resp["hits"]["hits"]
        ]
        return SearchResult(
            total=int(total["value"]),
            total_is_exact=total.get("relation") == "eq",
            hits=hits,
            facets=req.parse_facets(resp.get("aggregations") or {}),
            page=params.page,
            per_page=params.per_page,
        )
