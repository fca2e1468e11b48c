"""The crawl's own keys in a Scrapy request's meta. Redirects, retries and captcha retries copy a
request's meta, so what these keys say follows the request to the page it finally lands on."""

# The request as the journal records it: url, kind (the parser), depth, listing page number, whether
# it is a listing's item, the account it belongs to. A resumed crawl rebuilds the request from it.
CRAWL_SPEC = "crawl_spec"
# The fingerprint of the request's journal entry, set when the request is first scheduled. A redirect
# keeps it, so the entry closes when the page the request led to is stored.
JOURNAL_FP = "journal_fp"
# When the request last went out (time.monotonic()): captcha pages of requests sent before the
# domain's pause began do not count as another captcha in a row.
SENT_AT = "crawl_sent_at"
# The request has paid its page and account budget: its retries do not pay again.
BUDGETED = "crawl_budgeted"

OWN_KEYS = (CRAWL_SPEC, JOURNAL_FP, SENT_AT, BUDGETED)
