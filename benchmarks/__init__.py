"""Benchmarks of sqs_contracts against bare boto3 and sqs-workers: ``python -m benchmarks``."""
