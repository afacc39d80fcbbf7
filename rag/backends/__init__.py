"""Who writes the answer: the embedded model's process, and the clients of every backend."""
