"""``python -m outbox "what changed"``: writes the next, empty schema revision to fill in."""

import sys

from outbox.migrate import new_revision

print(new_revision(" ".join(sys.argv[1:]) or "schema change"))
