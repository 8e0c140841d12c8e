"""Helpers the tests share (servers, the browser, the CLI, data); fixtures live in conftest.py."""
