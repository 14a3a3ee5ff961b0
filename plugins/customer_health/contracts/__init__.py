"""The bottom layer: shared definitions as pure data, no I/O, importing nothing else of the product.

Streams (columns, types, keys), the KPI catalogue, the spool format, config
versions and the parts of a CSM task. Every other layer may import these;
these import only the standard library (.importlinter holds the contract).
"""
