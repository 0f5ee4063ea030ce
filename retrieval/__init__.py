"""Loading, parsing, chunking, indexing and searching the notices in the knowledge base."""
