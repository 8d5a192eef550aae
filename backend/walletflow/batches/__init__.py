"""Batches and bulk work: files of commands, legacy migration and cutover waves."""
