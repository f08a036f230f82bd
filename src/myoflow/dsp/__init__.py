"""The signal core: vectorised numpy/scipy, no I/O, no Qt, no asyncio.

Every function and stage takes signals of shape ``(n_samples, n_channels)`` and an explicit
sample rate in Hz. Stateful stages (``process(chunk)``) give the same output for any chunking
as one call on the whole signal.
"""
