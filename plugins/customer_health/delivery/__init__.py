"""Delivery of CSM tasks where CSMs work: the CRM, a daily Slack digest, a daily e-mail digest.

The playbook engine writes ``marts.csm_tasks``; this package moves them out
and brings CRM status changes back, each step safe to retry and to run twice
at once:

- ``crm.push_tasks``: one CRM task per task, found again by its marker
  property if a previous attempt created it and died before recording it.
- ``digest.send_digests``: one digest per recipient, channel and day,
  recorded in ``meta.digests_sent`` in the transaction that sends it.
- ``status_sync.sync_status``: tasks completed, deferred or deleted in the
  CRM close ours; a cursor in ``meta.source_state`` limits what is read.
- ``pipeline``: the three as the ``create_csm_tasks`` DAG calls them.

Which channels exist is a registry (``common.Channel``): ``crm`` registers in
crm.py, ``slack`` and ``email`` in digest.py; a new digest channel is one
module here with a ``@digest_channel`` send function.
"""
