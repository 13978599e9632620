"""Lab lines in the formats Spanish laboratories print, with what each means: for tests and benchmarks."""

from __future__ import annotations

OPEN = None  # the line cannot say which number it is

#: (line, name, value, unit, raw)
FORMATS = [
    # the sheet: a thousands point on a count per µL, in a range printed the same way
    ("Leucocitos ......... 9.400 /µL (5.500 - 19.500)", "Leucocitos", 9400, "/µL", "9.400"),
    ("Plaquetas ......... 310.000 /µL (200.000 - 500.000)", "Plaquetas", 310000, "/µL", "310.000"),
    ("Leucocitos 9.400 /µL", "Leucocitos", 9400, "/µL", "9.400"),
    ("Leucocitos 9.400/µL", "Leucocitos", 9400, "/µL", "9.400"),
    ("Leucocitos 9400 /µL", "Leucocitos", 9400, "/µL", "9400"),
    ("Leucocitos 9.400 /mm³", "Leucocitos", 9400, "/mm³", "9.400"),
    ("Leucocitos 12.500 /uL", "Leucocitos", 12500, "/µL", "12.500"),  # OCR: µ read as u
    ("Leucocitos 9,4 x10³/µL (5,5 - 19,5)", "Leucocitos", 9.4, "x10^3/µL", "9,4"),
    ("Leucocitos 9.4 x 10^3/µL", "Leucocitos", 9.4, "x10^3/µL", "9.4"),
    ("Leucocitos 9,4 x10^9/L", "Leucocitos", 9.4, "x10^9/L", "9,4"),
    ("Leucocitos 9.400 x10^3/µL", "Leucocitos", 9.4, "x10^3/µL", "9.400"),  # 9 400 thousand per µL: impossible
    ("Leucocitos 12.500 x10^3/µL (6.000-17.000)", "Leucocitos", 12.5, "x10^3/µL", "12.500"),
    ("Neutrófilos 6.200 /µL (3.000-11.500)", "Neutrófilos", 6200, "/µL", "6.200"),
    ("Linfocitos 1.500 /µL", "Linfocitos", 1500, "/µL", "1.500"),
    ("Reticulocitos 60.000 /µL", "Reticulocitos", 60000, "/µL", "60.000"),
    ("Plaquetas 310.000 /µL", "Plaquetas", 310000, "/µL", "310.000"),
    ("Plaquetas 310.000 /mm³", "Plaquetas", 310000, "/mm³", "310.000"),
    ("Plaquetas 310 x10^3/µL", "Plaquetas", 310, "x10^3/µL", "310"),
    ("Plaquetas 1.250.000 /µL", "Plaquetas", 1250000, "/µL", "1.250.000"),
    ("Plaquetas 250,000 /µL", "Plaquetas", 250000, "/µL", "250,000"),  # an English-printing analyser
    ("Eritrocitos 5.850.000 /µL", "Eritrocitos", 5850000, "/µL", "5.850.000"),
    ("Eritrocitos 5,85 x10^6/µL (4,5 - 6,5)", "Eritrocitos", 5.85, "x10^6/µL", "5,85"),
    ("Eritrocitos 6.5 x10^12/L (4,5 - 6,5)", "Eritrocitos", 6.5, "x10^12/L", "6.5"),
    ("Hemoglobina 12,5 g/dL (12,0-18,0)", "Hemoglobina", 12.5, "g/dL", "12,5"),
    ("Hemoglobina 12.5 g/dL (12-18)", "Hemoglobina", 12.5, "g/dL", "12.5"),
    ("Hemoglobina 125 g/L", "Hemoglobina", 125, "g/L", "125"),
    ("Hemoglobina 12.500 g/dL", "Hemoglobina", 12.5, "g/dL", "12.500"),  # an analyser's three decimals
    ("Hematocrito 45,0 %", "Hematocrito", 45.0, "%", "45,0"),
    ("Creatinina 0,95 mg/dL (0,5-1,8)", "Creatinina", 0.95, "mg/dL", "0,95"),
    ("Creatinina 0.95 mg/dL", "Creatinina", 0.95, "mg/dL", "0.95"),
    ("Creatinina 0,950 mg/dL", "Creatinina", 0.95, "mg/dL", "0,950"),  # a leading zero is never grouped
    ("Creatinina 1.200 mg/dL (0,5-1,8)", "Creatinina", 1.2, "mg/dL", "1.200"),
    ("Creatinina 88 µmol/L (44-159)", "Creatinina", 88, "µmol/L", "88"),
    ("Glucosa 1.050 mg/dL (70-120)", "Glucosa", 1050, "mg/dL", "1.050"),  # a diabetic crisis, not 1 mg/dL
    ("Glucosa 5,5 mmol/L (3,9-6,1)", "Glucosa", 5.5, "mmol/L", "5,5"),
    ("Urea 45 mg/dL (20-50)", "Urea", 45, "mg/dL", "45"),
    ("Colesterol 1.250,5 mg/dL", "Colesterol", 1250.5, "mg/dL", "1.250,5"),
    ("Colesterol 1,250.5 mg/dL", "Colesterol", 1250.5, "mg/dL", "1,250.5"),
    ("Densidad urinaria 1.025 (1.015-1.045)", "Densidad urinaria", 1.025, None, "1.025"),
    ("Densidad urinaria 1,030", "Densidad urinaria", 1.03, None, "1,030"),
    ("Sodio 145 mmol/L (140-155)", "Sodio", 145, "mmol/L", "145"),
    ("Potasio 4.5 mmol/L (3,5-5,8)", "Potasio", 4.5, "mmol/L", "4.5"),
    ("Calcio 10,2 mg/dL (9,0-11,5)", "Calcio", 10.2, "mg/dL", "10,2"),
    ("Proteínas totales 68 g/L (55-75)", "Proteínas totales", 68, "g/L", "68"),
    ("Albúmina 3,1 g/dL", "Albúmina", 3.1, "g/dL", "3,1"),
    ("T4 total 2,4 µg/dL (1,0-4,0)", "T4 total", 2.4, "µg/dL", "2,4"),
    ("Bilirrubina total < 0,1 mg/dL", "Bilirrubina total", 0.1, "mg/dL", "< 0,1"),
    ("GGT 1,5 U/L", "GGT", 1.5, "U/L", "1,5"),
    ("Lipasa 1.100 U/L (100-750)", "Lipasa", 1100, "U/L", "1.100"),  # ten times closer to the range
    ("Amilasa 1.500 U/L (300-1.500)", "Amilasa", 1500, "U/L", "1.500"),  # "300-1,5" is no range
    ("pH 6,5 (5,5-7,5)", "pH", 6.5, None, "6,5"),
    ("Fructosamina 350 µmol/L", "Fructosamina", 350, "µmol/L", "350"),
    # as the OCR of a scan returns them: the superscript read as ? or *, the caret as ” and 7, µ as p or H
    ("Leucocitos 9.400 /mm?", "Leucocitos", 9400, "/mm³", "9.400"),
    ("Plaquetas 310.000 /mm*", "Plaquetas", 310000, "/mm³", "310.000"),
    ("Leucocitos 9.400 x10”7 3/pL", "Leucocitos", 9.4, "x10^3/µL", "9.400"),
    ("Leucocitos 12.500 x10”7 3/HL (6.000-17.000)", "Leucocitos", 12.5, "x10^3/µL", "12.500"),
    # what no reader can settle: flagged, kept as printed, no number made up
    ("ALT 1.200 U/L", "ALT", OPEN, "U/L", "1.200"),
    ("ALT 1.200 U/L (10-100)", "ALT", OPEN, "U/L", "1.200"),
    ("Fosfatasa alcalina 1.250 U/L (20-150)", "Fosfatasa alcalina", OPEN, "U/L", "1.250"),
    ("CK 2.500 U/L (50-400)", "CK", OPEN, "U/L", "2.500"),
]
