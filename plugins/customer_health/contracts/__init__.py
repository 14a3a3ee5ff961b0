"""The bottom layer: shared definitions as pure data, no I/O, importing nothing else of the product."""
