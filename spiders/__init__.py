"""akhbar's generic spiders, one per way of discovering articles, configured from the sources file.

* ``feed`` - RSS / Atom / JSON feeds;
* ``sitemap`` - sitemaps, sitemap indexes, Google News sitemaps (with a lastmod filter);
* ``listing`` - section fronts: links matching ``follow``, pagination through ``next``;
* ``source`` - all of a source's ways in one crawl (what ``akhbar crawl`` runs for a source
  that has more than one, so that an article announced twice is fetched once).

``scrapy crawl feed -a source=NAME [-a sources=FILE] [-a db=URL] [-a warc_dir=DIR]``
"""
