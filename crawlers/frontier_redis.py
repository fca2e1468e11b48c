"""The shared crawl frontier on Redis (`[crawl] frontier = "redis"`): every crawl process of a source,
on this machine or another, joins one run of that source and takes its requests from one queue.

Why not scrapy-redis: its scheduler pops a request off the shared queue (LPOP) before fetching it, so
a process killed with requests in flight loses them for good. Here each pop moves the request's
fingerprint atomically into the popping process's own in-flight list (LMOVE, inside a Lua script), and
only the page store removes it again (`ack`), after the page's commit, the way the local journal's
done line is written (crawlers.frontier). Each process keeps a heartbeat key with a TTL; when a
process dies its heartbeat expires and the next live process to look moves that process's in-flight
list back to the front of the queue, so the others fetch what the dead one had not stored.

Keys of one source (prefix `wangxun:crawl:<source>:`):
  run       hash: id, started, ended (the state of an ended run; the next process starts a new run)
  queue     list of request fingerprints waiting to be fetched (popped from the left)
  reqs      hash fingerprint → the request's spec (JSON, as the local journal records it)
  seen      set of every fingerprint this run scheduled: the shared duplicate filter (SADD)
  redirects hash redirect target fingerprint → the request it came from (a target fetched once)
  done      set of acknowledged fingerprints; `done_again` counts acknowledgements of a done one
  inflight:<worker>  list of the fingerprints a process popped and has not acknowledged
  workers   set of the processes of the run; hb:<worker> their heartbeats (keys with a TTL)
  idle      set of the processes with nothing to do (the run ends when all are idle and nothing waits)
  budget    hash domain → requests sent this session of the run (`page_budget`)
  paid      set of the requests that paid their budgets (one reclaimed from a dead process does not
            pay again)

The run ends when the queue and every in-flight list are empty and every live process is idle: the
process that sees it first writes `ended` into `run`, the others see it (or a newer run id) and end
too. A process stopped early (budget, captcha, Ctrl-C) gives its in-flight list back to the queue and
leaves; the run stays open and the next process to start joins it (resumes).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
import time
import uuid
from typing import Any

from core.errors import UserError

PREFIX = "wangxun:"

# A pop: the next fingerprint into this process's in-flight list, with its spec; the process is busy.
_POP = """
local fp = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
if not fp then return false end
redis.call('SREM', KEYS[3], ARGV[1])
return {fp, redis.call('HGET', KEYS[4], fp) or ''}
"""

# Schedule: a fingerprint this run has not seen goes into the queue (deeper requests first, as
# Scrapy's priority = depth does); False when it was seen.
_ENQUEUE = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if tonumber(ARGV[3]) > 0 then redis.call('LPUSH', KEYS[3], ARGV[1]) else redis.call('RPUSH', KEYS[3], ARGV[1]) end
return 1
"""

# Acknowledge: out of the in-flight list, into done (counting an acknowledgement of a done request).
_ACK = """
redis.call('LREM', KEYS[1], 1, ARGV[1])
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then redis.call('INCR', KEYS[3]); return 0 end
return 1
"""

# A redirect target is fetched once per run: the first request to reach it claims it (the same
# request fetched again after its process died may follow it again); a target scheduled as a request
# of its own is not followed.
_CLAIM_REDIRECT = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 0 end
local origin = redis.call('HGET', KEYS[2], ARGV[1])
if not origin then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]); return 1 end
if origin == ARGV[2] then return 1 end
return 0
"""

# Shared by the scripts below: move the in-flight lists of processes whose heartbeat expired back to
# the front of the queue (they are fetched next) and forget those processes. ARGV[1] is the prefix.
_RECLAIM = """
local function reclaim(prefix)
  local moved = 0
  for _, w in ipairs(redis.call('SMEMBERS', prefix .. 'workers')) do
    if redis.call('EXISTS', prefix .. 'hb:' .. w) == 0 then
      local list = prefix .. 'inflight:' .. w
      while redis.call('LMOVE', list, prefix .. 'queue', 'RIGHT', 'LEFT') do moved = moved + 1 end
      redis.call('SREM', prefix .. 'workers', w)
      redis.call('SREM', prefix .. 'idle', w)
    end
  end
  return moved
end
"""

# Join the open run, or start a new one when there is none or the last one ended. A run that no live
# process works on (all of them died or stopped) starts a new budget session.
# ARGV: prefix, worker, new run id, started, heartbeat ms. Returns {run id, started, joined (0/1)}.
_JOIN = (
    _RECLAIM
    + """
local prefix = ARGV[1]
local run = prefix .. 'run'
local id = redis.call('HGET', run, 'id')
local joined = 1
if (not id) or redis.call('HEXISTS', run, 'ended') == 1 then
  for _, k in ipairs({'queue', 'reqs', 'seen', 'redirects', 'done', 'done_again', 'idle', 'budget', 'paid'}) do
    redis.call('DEL', prefix .. k)
  end
  for _, w in ipairs(redis.call('SMEMBERS', prefix .. 'workers')) do redis.call('DEL', prefix .. 'inflight:' .. w) end
  redis.call('DEL', prefix .. 'workers', run)
  redis.call('HSET', run, 'id', ARGV[3], 'started', ARGV[4])
  joined = 0
else
  reclaim(prefix)
  if redis.call('SCARD', prefix .. 'workers') == 0 then redis.call('DEL', prefix .. 'budget') end
end
redis.call('SADD', prefix .. 'workers', ARGV[2])
redis.call('SET', prefix .. 'hb:' .. ARGV[2], '1', 'PX', ARGV[5])
return {redis.call('HGET', run, 'id'), redis.call('HGET', run, 'started'), joined}
"""
)

# The periodic look of a process: renew its heartbeat (only while its run is the open one), reclaim
# the dead, note whether it is idle, and end the run when nothing is left anywhere.
# ARGV: prefix, worker, run id, heartbeat ms, idle (0/1). Returns 1 when the run is over.
_TICK = (
    _RECLAIM
    + """
local prefix, me = ARGV[1], ARGV[2]
local run = prefix .. 'run'
if redis.call('HGET', run, 'id') ~= ARGV[3] or redis.call('HEXISTS', run, 'ended') == 1 then return 1 end
redis.call('SET', prefix .. 'hb:' .. me, '1', 'PX', ARGV[4])
redis.call('SADD', prefix .. 'workers', me)
reclaim(prefix)
if ARGV[5] == '1' then redis.call('SADD', prefix .. 'idle', me) else return 0 end
if redis.call('LLEN', prefix .. 'queue') > 0 then return 0 end
for _, w in ipairs(redis.call('SMEMBERS', prefix .. 'workers')) do
  if redis.call('LLEN', prefix .. 'inflight:' .. w) > 0 then return 0 end
  if redis.call('SISMEMBER', prefix .. 'idle', w) == 0 then return 0 end
end
redis.call('HSET', run, 'ended', 'finished', 'ended_at', ARGV[6])
return 1
"""
)

# Leave the run: this process's in-flight requests go back to the front of the queue.
_LEAVE = """
while redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT') do end
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[1])
redis.call('DEL', KEYS[5])
return 1
"""

# Requests this process popped but will never finish (a callback that raised): dropped from its
# in-flight list so the run can end, the way the local journal leaves such an entry open.
_DROP_ORPHANS = """
local n = redis.call('LLEN', KEYS[1])
redis.call('DEL', KEYS[1])
return n
"""

_clients: dict[str, Any] = {}


def connect(url: str):
    """A Redis client for `url` (one per URL and process), checked with a PING: an unreachable
    server is one clear line, not a traceback."""
    client = _clients.get(url)
    if client is not None:
        return client
    import redis

    if not url:
        raise UserError('[crawl] frontier = "redis" needs [crawl] redis_url (e.g. redis://127.0.0.1:6379/0)')
    try:
        client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=10, socket_connect_timeout=10)
        client.ping()
    except (redis.RedisError, ValueError) as exc:
        raise UserError(f"cannot reach Redis at {_shown(url)} ([crawl] redis_url): {exc}") from None
    _clients[url] = client
    return client


def _shown(url: str) -> str:
    """A Redis URL as a message may show it (no password)."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url


def source_prefix(source: str) -> str:
    return f"{PREFIX}crawl:{source}:"


def worker_name() -> str:
    """host:pid:random — the pid lets an operator (and the tests) tell which process holds what."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class _Seen:
    """`fp in frontier.seen`, asked of the shared duplicate filter."""

    def __init__(self, frontier: RedisFrontier):
        self.frontier = frontier

    def __contains__(self, fp: str) -> bool:
        return bool(self.frontier.redis.sismember(self.frontier.key("seen"), fp))


class RedisFrontier:
    """The local Frontier's interface (crawlers.frontier) on shared Redis state, plus what sharing
    needs: pop, the periodic tick, leaving the run."""

    shared = True

    def __init__(self, url: str, source: str, heartbeat_s: float = 15.0):
        self.url = url
        self.source = source
        self.redis = connect(url)
        self.prefix = source_prefix(source)
        self.worker = worker_name()
        self.heartbeat_ms = max(int(heartbeat_s * 1000), 1000)
        self.run_id = ""
        self.started = ""
        self.resumed = False
        self.pending: dict[str, dict[str, Any]] = {}  # the queue is in Redis; nothing to replay here
        self.seen = _Seen(self)
        self.on_disk_full = None
        self.disk_full = False
        self.over = False
        self._scripts = {
            name: self.redis.register_script(body)
            for name, body in (
                ("pop", _POP),
                ("enqueue", _ENQUEUE),
                ("ack", _ACK),
                ("claim", _CLAIM_REDIRECT),
                ("join", _JOIN),
                ("tick", _TICK),
                ("leave", _LEAVE),
                ("orphans", _DROP_ORPHANS),
            )
        }

    def key(self, name: str) -> str:
        return self.prefix + name

    @property
    def inflight_key(self) -> str:
        return self.key("inflight:" + self.worker)

    @property
    def journal(self) -> str:
        """What a page worker needs to acknowledge a request after its commit (see `ack`)."""
        return json.dumps({"redis": self.url, "prefix": self.prefix, "worker": self.worker})

    def open(self, fresh: bool = False) -> RedisFrontier:
        """Join the open run of this source, or start one (`fresh`: end the open run first)."""
        if fresh:
            self.redis.hset(self.key("run"), "ended", "fresh")
        started = dt.datetime.now(dt.timezone.utc).isoformat()
        run_id, self.started, joined = self._scripts["join"](
            args=[self.prefix, self.worker, uuid.uuid4().hex[:12], started, self.heartbeat_ms]
        )
        self.run_id, self.resumed = run_id, bool(int(joined))
        self._beating = threading.Event()
        threading.Thread(target=self._beat, name="wangxun-frontier-heartbeat", daemon=True).start()
        return self

    def _beat(self) -> None:
        """The heartbeat, on a thread of its own: it says the process is alive, however long the crawl's
        event loop is busy (a slow start-up, a loaded machine). It dies with the process."""
        key = self.key("hb:" + self.worker)
        every = min(1.0, self.heartbeat_ms / 3000)
        while not self._beating.wait(every):
            try:
                self.redis.set(key, "1", px=self.heartbeat_ms, xx=True)  # not after leaving (xx: only if there)
            except Exception:  # noqa: BLE001 - Redis away for a moment: the next beat tries again
                pass

    # ---------------------------------------------------------------- the journal's interface

    def enqueued(self, fp: str, req: dict[str, Any]) -> bool:
        """Schedule a request for the whole run; False when any process already scheduled it."""
        spec = json.dumps(req, ensure_ascii=False, separators=(",", ":"))
        keys = [self.key("seen"), self.key("reqs"), self.key("queue")]
        return bool(self._scripts["enqueue"](keys=keys, args=[fp, spec, int(req.get("depth", 0) or 0)]))

    def claim_redirect(self, fp: str, origin: str) -> bool:
        """True when the request `origin` may follow a redirect to `fp` (no other request of the run did)."""
        return bool(self._scripts["claim"](keys=[self.key("seen"), self.key("redirects")], args=[fp, origin]))

    def done(self, fp: str, url: str = "") -> None:
        """Acknowledge a request finished in this process (a listing handed over, a request given up)."""
        self._ack(fp)

    def forget(self, fp: str, url: str = "") -> None:
        """A page worker already acknowledged it, right after its commit."""

    def _ack(self, fp: str) -> None:
        keys = [self.inflight_key, self.key("done"), self.key("done_again")]
        self._scripts["ack"](keys=keys, args=[fp])

    def end(self, state: str) -> None:
        """This process's share of a finished run is done (the run itself ended in `tick`)."""
        self.close()

    def close(self) -> None:
        """Leave the run: what this process popped and did not finish goes back to the queue."""
        if getattr(self, "_beating", None) is not None:
            self._beating.set()
        keys = [
            self.inflight_key,
            self.key("queue"),
            self.key("workers"),
            self.key("idle"),
            self.key("hb:" + self.worker),
        ]
        self._scripts["leave"](keys=keys, args=[self.worker])

    # ---------------------------------------------------------------- sharing

    def pop(self) -> tuple[str, dict[str, Any]] | None:
        """The next request of the run, now in this process's in-flight list; None when the queue is empty."""
        keys = [self.key("queue"), self.inflight_key, self.key("idle"), self.key("reqs")]
        got = self._scripts["pop"](keys=keys, args=[self.worker])
        if not got:
            return None
        fp, spec = got
        return fp, json.loads(spec) if spec else {}

    def tick(self, idle: bool) -> bool:
        """Renew the heartbeat, reclaim dead processes' requests, and (when this process is idle) end
        the run if nothing is left anywhere. True when the run is over."""
        if idle:
            self._scripts["orphans"](keys=[self.inflight_key])
        args = [self.prefix, self.worker, self.run_id, self.heartbeat_ms, "1" if idle else "0"]
        args.append(dt.datetime.now(dt.timezone.utc).isoformat())
        self.over = bool(self._scripts["tick"](args=args))
        return self.over

    def counts(self) -> dict[str, int]:
        """The run's numbers: queued, in flight (all processes), done, acknowledged again, processes."""
        r = self.redis
        workers = r.smembers(self.key("workers"))
        return {
            "queued": r.llen(self.key("queue")),
            "in_flight": sum(r.llen(self.key("inflight:" + w)) for w in workers),
            "done": r.scard(self.key("done")),
            "done_again": int(r.get(self.key("done_again")) or 0),
            "workers": len(workers),
        }


def ack(journal: str, fp: str) -> None:
    """Acknowledge `fp` from a page worker right after its commit; `journal` is RedisFrontier.journal."""
    ref = json.loads(journal)
    client = connect(ref["redis"])
    prefix = ref["prefix"]
    keys = [prefix + "inflight:" + ref["worker"], prefix + "done", prefix + "done_again"]
    client.eval(_ACK, len(keys), *keys, fp)


# ---------------------------------------------------------------- politeness shared by all processes


# Reserve the next slot of a domain: returns the seconds to wait before sending. Redis's own clock,
# so the processes of several machines agree on it.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, nxt)
redis.call('SET', KEYS[1], tostring(slot + tonumber(ARGV[1])), 'PX', math.floor(tonumber(ARGV[1]) * 1000) + 60000)
return tostring(slot - now)
"""


class SharedPacer:
    """The per-site delay of all crawl processes: each request reserves the domain's next free slot
    (`download_delay` after the previous one, whichever process sent it) and waits for it."""

    def __init__(self, url: str):
        self.redis = connect(url)
        self._reserve = self.redis.register_script(_RESERVE)

    def reserve(self, domain: str, delay: float) -> float:
        if delay <= 0:
            return 0.0
        return float(self._reserve(keys=[f"{PREFIX}next:{domain}"], args=[repr(float(delay))]))

    async def wait_turn(self, domain: str, delay: float) -> None:
        import asyncio

        wait = self.reserve(domain, delay)
        if wait > 0:
            await asyncio.sleep(wait)


# Extend a pause: until = max(until, now + seconds); paused_at moves with it.
_PAUSE = """
local untl = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
local target = tonumber(ARGV[1]) + tonumber(ARGV[2])
if target > untl then
  redis.call('HSET', KEYS[1], 'until', ARGV[3], 'paused_at', ARGV[1])
end
redis.call('PEXPIRE', KEYS[1], math.floor(tonumber(ARGV[2]) * 1000) + 86400000)
return 1
"""

# A captcha page: 1 = retry after the (growing) pause, 0 = stop the source. ARGV: now, sent_at,
# backoff, max in a row.
_CAPTCHA = """
local paused_at = tonumber(redis.call('HGET', KEYS[1], 'paused_at') or '-1e18')
if tonumber(ARGV[2]) < paused_at then return 1 end
local n = redis.call('HINCRBY', KEYS[1], 'in_row', 1)
if n >= tonumber(ARGV[4]) then return 0 end
local seconds = tonumber(ARGV[3]) * 2 ^ (n - 1)
local untl = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
local now = tonumber(ARGV[1])
if now + seconds > untl then
  redis.call('HSET', KEYS[1], 'until', tostring(now + seconds), 'paused_at', ARGV[1])
end
redis.call('PEXPIRE', KEYS[1], math.floor(seconds * 1000) + 86400000)
return 1
"""


class SharedDomainPauses:
    """crawlers.politeness.DomainPauses shared by all processes: a captcha or a 429 seen by one pauses
    the domain for all, and the captcha streak is counted across them. The clock is the wall clock
    (processes on several machines compare pause times)."""

    def __init__(self, url: str, captcha_backoff_s: float, captcha_max_in_row: int, clock=time.time):
        self.redis = connect(url)
        self.captcha_backoff_s = captcha_backoff_s
        self.captcha_max_in_row = captcha_max_in_row
        self.clock = clock
        self.captchas = 0
        self._pause = self.redis.register_script(_PAUSE)
        self._captcha = self.redis.register_script(_CAPTCHA)

    def _key(self, domain: str) -> str:
        return f"{PREFIX}pause:{domain}"

    def pause(self, domain: str, seconds: float) -> None:
        now = self.clock()
        self._pause(keys=[self._key(domain)], args=[repr(now), repr(float(seconds)), repr(now + seconds)])

    def remaining(self, domain: str) -> float:
        until = self.redis.hget(self._key(domain), "until")
        return max(0.0, float(until or 0) - self.clock())

    async def wait(self, domain: str) -> None:
        import asyncio

        while (left := self.remaining(domain)) > 0:
            await asyncio.sleep(left)

    def captcha(self, domain: str, sent_at: float) -> bool:
        self.captchas += 1
        args = [repr(self.clock()), repr(float(sent_at)), repr(float(self.captcha_backoff_s)), self.captcha_max_in_row]
        return bool(self._captcha(keys=[self._key(domain)], args=args))

    def ok(self, domain: str) -> None:
        self.redis.hset(self._key(domain), "in_row", 0)


# Take one of an account's daily budget: 1 when taken, 0 when spent. ARGV: account, limit.
_TAKE = """
local used = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > 0 and used >= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('EXPIRE', KEYS[1], 3 * 86400)
return 1
"""


class SharedAccountBudget:
    """crawlers.politeness.AccountBudget in Redis: one count per account per local day for all processes."""

    def __init__(self, url: str, timezone: str):
        from zoneinfo import ZoneInfo

        self.redis = connect(url)
        self.tz = ZoneInfo(timezone)
        self._take = self.redis.register_script(_TAKE)

    def key(self) -> str:
        return f"{PREFIX}account_budget:{dt.datetime.now(self.tz).date().isoformat()}"

    def take(self, account: str, limit: int) -> bool:
        return bool(self._take(keys=[self.key()], args=[account, int(limit)]))


class SharedPageBudget:
    """`page_budget` requests per domain for all processes of a run (a new session of the run, joined
    when no process works on it, starts a fresh one, as a new local run does)."""

    def __init__(self, frontier: RedisFrontier):
        self.frontier = frontier

    def take(self, domain: str, limit: int) -> bool:
        used = self.frontier.redis.hincrby(self.frontier.key("budget"), domain, 1)
        return used <= limit

    def first_payment(self, fp: str) -> bool:
        """False when request `fp` paid its page and account budget already in this run: a request
        reclaimed from a dead process is fetched again without paying twice (as a retry does not)."""
        return not fp or bool(self.frontier.redis.sadd(self.frontier.key("paid"), fp))
