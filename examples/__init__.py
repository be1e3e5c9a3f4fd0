"""A small example application: contracts, handlers and a demo run on MemorySession."""
