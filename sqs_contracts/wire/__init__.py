"""The wire format: a job <-> one SQS message (codecs, context, envelope, the Message record)."""
