"""Local emulators of the vendor APIs the pipeline reads (HubSpot CRM v3,
Typeform Responses), serving the generator's files on loopback.

They follow the vendor contracts in docs/data-contracts.md, including the
unpleasant parts (auth errors, rate limits, paging, transient 5xx), so the
extractors can be shown and tested against them without credentials.
``python -m demo.emulators --data-dir OUT`` serves both.
"""
