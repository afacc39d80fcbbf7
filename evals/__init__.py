"""Benchmarks beside the library: public news QA datasets, the plain LangChain baseline, metrics, one runner."""

# Which retrievers `newsdesk eval --retriever` compares: Newsdesk's three modes and the plain LangChain baseline.
RETRIEVERS: tuple[str, ...] = ("hybrid", "dense", "bm25", "plain")
