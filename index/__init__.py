"""Articles in: parsing, chunking, embedding, storage and the catalogue. Never imports rag/ or ui/."""
