"""Dispatch: a received message in, a decoded job, the handler call, an outcome out."""
