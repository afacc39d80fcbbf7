"""Front ends over rag.assistant.Assistant: CLI, Streamlit app, HTTP API."""
