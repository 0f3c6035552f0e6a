"""The protocol adapters: the only modules that know a WSGI environ or an ASGI scope."""
