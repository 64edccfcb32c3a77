"""Scrapy settings. Values that users tune come from mediawatch.toml ([crawl]) and are applied by
the spider's ``update_settings``; these are the defaults and the wiring."""

from scrapy.settings import default_settings

BOT_NAME = "mediawatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = "mediawatch/0.1 (+https://example.org/about-our-crawler)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 10
# Scrapy handles each response's output with this many asyncio tasks, whatever it holds: an
# article page yields one item, and 100 (the default) cost more than the rest of the response's
# handling in the crawl process. Nothing here needs items of one response processed in parallel.
CONCURRENT_ITEMS = 4
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19 and later open, in every crawl process, a local HTTP server that runs Python sent to it
# (token-guarded, the token in a job file under the user's state folder). A scheduled crawler
# has no use for it.
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"

ITEM_PIPELINES = {
    "crawler.pipelines.StorePipeline": 300,
}
EXTENSIONS = {
    "crawler.extensions.CrawlRunRecorder": 500,
    "crawler.extensions.ParentWatch": 510,
}
# Scrapy's own extensions but two that are off (TELNETCONSOLE_ENABLED, REMOTE_CONTROL_ENABLED
# above): Scrapy imports every extension it lists, even one disabled in EXTENSIONS, and the remote
# control brings aiohttp and builds a TLS context (~0.1 s of a crawl's start).
_switched_off = {
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.extensions.remote_control.RemoteControl",
}
EXTENSIONS_BASE = {
    k: v for k, v in default_settings.EXTENSIONS_BASE.items() if k not in _switched_off
}
# Likewise the cookies middleware, off (COOKIES_ENABLED above), whose module brings tldextract
# and requests along (~0.04 s of a crawl's start).
DOWNLOADER_MIDDLEWARES_BASE = {
    k: v
    for k, v in default_settings.DOWNLOADER_MIDDLEWARES_BASE.items()
    if k != "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"
}
