"""The console's clinic pages, without a browser: the search marks, the pet's timeline and charts, a correction's diff."""

from __future__ import annotations

from console.app.highlight import highlight
from console.app.pages.clinic import charts, timeline
from console.app.pages.documents import _correction


def test_the_words_found_are_marked_whatever_their_accents_and_case():
    marked = highlight("…RADIOGRAFÍA DE TÓRAX: silueta cardiaca normal; vacunas al día", "radiografia torax vacuna")
    assert str(marked) == ("…<mark>RADIOGRAFÍA</mark> DE <mark>TÓRAX</mark>: silueta cardiaca normal; "
                           "<mark>vacunas</mark> al día")
    assert str(highlight("Sin coincidencias", "perro")) == "Sin coincidencias"


def test_a_snippet_cannot_inject_html_even_where_a_word_is_marked():
    marked = str(highlight('<script>alert(1)</script> Leishmania <b onmouseover="x">leishmania</b>', "leishmania script"))
    assert "<script>" not in marked and "<b " not in marked
    assert marked.count("<mark>") == 4  # script (twice) and both leishmanias, each escaped inside its mark
    assert "&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt;" in marked
    assert str(highlight("<i>x</i>", "<mark>")) == "&lt;i&gt;x&lt;/i&gt;"  # a query is words, never markup


def test_a_pets_timeline_is_newest_first_with_each_documents_lab_values():
    consultations = [{"id": 1, "date": "2024-01-10T10:00:00Z", "weight_kg": "20.50"},
                     {"id": 2, "date": "2024-03-10T10:00:00Z", "weight_kg": None}]
    documents = [{"id": 7, "document_date": "2024-02-01", "created_at": "2024-05-01T09:00:00Z"},
                 {"id": 8, "document_date": None, "created_at": "2024-04-01T09:00:00Z"}]
    series = [{"name": "Glucosa", "unit": "mg/dL", "reference": "70-110",
               "points": [{"date": "2024-02-01", "value": 95.0, "raw": "95", "document_id": 7}]}]

    items = timeline(consultations=consultations, documents=documents, series=series)

    assert [(i["kind"], (i.get("consultation") or i.get("document"))["id"]) for i in items] == [
        ("documento", 8), ("consulta", 2), ("documento", 7), ("consulta", 1)]
    assert items[2]["labs"] == [{"name": "Glucosa", "value": 95.0, "raw": "95", "unit": "mg/dL"}]
    drawn = charts(consultations=consultations, series=series)
    assert [(c["title"], c["points"]) for c in drawn] == [
        ("Peso", [{"date": "2024-01-10", "value": 20.5}]), ("Glucosa", [{"date": "2024-02-01", "value": 95.0}])]


def test_a_correction_sends_only_what_the_vet_changed():
    document = {"document_type": "analisis", "document_date": "2024-01-15", "extracted_text": "Hemoglobina 12.5\n",
                "fields": {"patient_name": "Kiwi", "vet_name": None}}
    same = {"tipo": "analisis", "fecha": "2024-01-15", "paciente": "Kiwi", "veterinario": "", "texto": "Hemoglobina 12.5"}
    assert _correction(document, **same) == {}
    changed = _correction(document, **{**same, "fecha": "", "veterinario": " Dra. Ruiz ", "texto": "Hemoglobina 13\r\n"})
    assert changed == {"document_date": None, "vet_name": "Dra. Ruiz", "extracted_text": "Hemoglobina 13\n"}
