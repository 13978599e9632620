"""Clinical documents, in two parts:

- `read/`: the file's half, no database — sniff, PDF text layer or OCR, then the clinical fields;
- `pipeline.py`: the job — read a stored document and file what it says (text, fields, lab values, search).
"""
