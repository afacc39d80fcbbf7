"""The baseline a user would write by hand: LangChain's Chroma `similarity_search`, nothing else.

Same packaged embedding model as Newsdesk, its own collection built from the same articles with
LangChain's `RecursiveCharacterTextSplitter` at the tutorial settings (1000/200); no keyword search, no
fusion, no title in the embedded text, no reranking. The eval's `--retriever plain` ranks with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from index.embedding import Embedder
from index.sources import Source

PLAIN_CHUNK_SIZE = 1000
PLAIN_CHUNK_OVERLAP = 200


class EmbedderAdapter(Embeddings):
    """LangChain `Embeddings` around our packaged embedder (Chroma's default one downloads and fails offline)."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._embedder.embed_query(text)


class PlainChromaBaseline:
    """A Chroma collection of split documents; `search` returns (source label, chunk text) best first."""

    def __init__(self, embedder: Embedder, directory: Path, collection: str = "plain_baseline") -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma

        directory.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(directory), settings=ChromaSettings(anonymized_telemetry=False))
        self.store = Chroma(collection_name=collection, embedding_function=EmbedderAdapter(embedder), client=client)

    def add(self, sources: Sequence[Source]) -> int:
        """Split and add the sources' texts (metadata kept as Document metadata); returns the chunk count."""
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        docs = [Document(page_content=s.text or "",
                         metadata={"key": s.label, **{k: str(v) for k, v in (s.meta or {}).items() if v}})
                for s in sources if s.text]
        splitter = RecursiveCharacterTextSplitter(chunk_size=PLAIN_CHUNK_SIZE, chunk_overlap=PLAIN_CHUNK_OVERLAP)
        chunks = splitter.split_documents(docs)
        for i in range(0, len(chunks), 1000):  # Chroma caps one call's batch
            self.store.add_documents(chunks[i:i + 1000])
        return len(chunks)

    def search(self, question: str, k: int) -> list[tuple[str, str]]:
        docs: list[Any] = self.store.similarity_search(question, k=k)
        return [(str(d.metadata.get("key", "")), d.page_content) for d in docs]
