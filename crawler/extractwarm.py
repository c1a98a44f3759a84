"""Imported by the extraction workers' forkserver (:mod:`crawler.extractpool`), once, before it forks
a worker: loads what the extractor would otherwise load on each worker's first page
(:func:`crawler.extraction.warm`), so every worker starts ready, with it in memory it shares with
the others.  Nothing else imports it.
"""
from crawler.extraction import warm

warm()
