"""Prometheus metrics of one app, in a registry of its own (two apps in one process never collide)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from communique.store import StoreStats

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "communique_http_requests", "HTTP requests answered, by route template and status.",
            ["method", "route", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "communique_http_request_duration_seconds", "Time to answer a request, by route template.",
            ["method", "route"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.answers = Counter("communique_answers", "Answers given (API, stream and OpenAI endpoint).",
                               registry=self.registry)
        self.refused = Counter("communique_answers_refused", "Answers that were refusals: the articles do not say.",
                               registry=self.registry)
        self.lighter = Counter("communique_answers_lighter", "Answers given by the rules alone because other "
                               "questions were waiting in line (lighter_answers_when_waiting).", registry=self.registry)
        self.articles = Gauge("communique_index_articles", "Articles in the store.", registry=self.registry)
        self.chunks = Gauge("communique_index_chunks", "Chunks in the store.", registry=self.registry)
        self.embedded = Gauge("communique_index_embedded_chunks", "Chunks with a vector.", registry=self.registry)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def observe_answer(self, refused: bool, lighter: bool = False) -> None:
        self.answers.inc()
        if lighter:
            self.lighter.inc()
        if refused:
            self.refused.inc()

    def observe_index(self, stats: StoreStats) -> None:
        self.articles.set(stats.articles)
        self.chunks.set(stats.chunks)
        self.embedded.set(stats.embedded)

    def render(self) -> bytes:
        return generate_latest(self.registry)
