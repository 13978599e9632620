"""The inventory import's database half: valid rows into a store's stock through a staging table.

`writers.writer_for(session)` picks the writer for the database (see `writers`); `staging` holds the
set-based SQL both use, `batches` the PostgreSQL COPY path.
"""
