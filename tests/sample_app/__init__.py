"""A small application, written as users write one, that the testing tests use as users would."""
