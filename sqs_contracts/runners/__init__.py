"""Runners: the threaded worker and its acknowledger."""
