"""Questions in, cited answers out: retrieval, prompting, LLM backends, citation checks."""
