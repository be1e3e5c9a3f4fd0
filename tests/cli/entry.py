"""Runs ``sqs-contracts`` as its console script does: the script's directory, not the current
one, is first on ``sys.path``. ``SQS_CONTRACTS_NO_YAML=1`` simulates an install without PyYAML.
"""

import os
import sys

if os.environ.get("SQS_CONTRACTS_NO_YAML") == "1":
    sys.modules["yaml"] = None  # type: ignore[assignment]

from sqs_contracts.cli import main

sys.exit(main())
