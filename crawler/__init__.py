"""akhbar: an archive of Arabic news that runs itself."""
