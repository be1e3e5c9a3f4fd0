"""``python -m sqs_contracts.cli``: the ``sqs-contracts`` command."""

from sqs_contracts.cli import main

raise SystemExit(main())
