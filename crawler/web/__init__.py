"""``akhbar serve``: the archive read in a browser, and its JSON API under ``/api``.

Read-only (:mod:`crawler.web.readonly`); it calls the library (:mod:`storage.search`,
:mod:`storage.archive`, :mod:`storage.shapes`) and nothing of crawling."""
