"""What a CSM task is made of, shared by the playbooks that write tasks and the channels that deliver them."""
from __future__ import annotations

# Every task answers these six questions (5W1H): the playbook renders one text
# per key, the CRM body lists them in this order.
FIVE_W1H = ("who", "what", "when", "where", "why", "how")
