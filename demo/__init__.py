"""Demo kit: a seeded sample-data generator and local emulators of the vendor
APIs (HubSpot CRM, Typeform) the pipeline reads.

It exists so the whole pipeline can be shown and tested end to end on one
machine, with data whose outcomes are learnable from behaviour. It ships with
the product but the product never imports it.
"""
