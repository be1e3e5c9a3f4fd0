"""Contracts: Task models and function signatures turned into models."""
