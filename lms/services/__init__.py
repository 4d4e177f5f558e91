"""The domain rules. Services change the session and ``flush()``; the caller commits."""
