"""Raw capture: every response as received, in WARC files, and the pointers that find it again."""
