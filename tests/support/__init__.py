"""Helpers the tests share (and bench/channels.py the Redis server): imported as ``support.x``."""
