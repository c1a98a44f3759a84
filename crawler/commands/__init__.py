"""akhbar's Scrapy commands (setting ``COMMANDS_MODULE``): they replace Scrapy's own of the same name."""
