"""A pet's consolidated medical report: `pipeline.generate_medical_report` queries and stores it, `pdf` draws it."""
