"""The pure core: bytes and strings in, an Article out.

No Scrapy, no SQL, no click, no storage: everything here is tested with plain strings and bytes.
Read ``extract`` first: it calls every other module of the core in order (decode, parse, metadata,
dates, trafilatura and the Arabic boilerplate filter, language, normalisation and the content hash).
"""
