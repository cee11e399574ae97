"""The pure core: records, the run lifecycle, strategy decisions and the store.

Standard library only, and synchronous: no asyncio, HTTP, pandas or widgets
(tests/test_layering.py enforces it). The executor carries out what this
package decides.
"""
