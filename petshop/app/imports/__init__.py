"""Inventory imports, in three parts:

- `parse/`: the file's half, no database — sniff, read CSV/XLSX/ODS, find the header, validate rows;
- `write/`: the database's half — staging table and writers (streamed on PostgreSQL, spooled on SQLite);
- `pipeline.py`: the job — `import_inventory` runs one into the other and keeps the failed rows' CSV.
"""
