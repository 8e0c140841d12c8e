"""What the web UI and the HTTP API share to serve: the guarded uvicorn server and the hardening
every request meets first. The two adapters import this, never each other."""
