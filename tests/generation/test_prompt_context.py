"""The guideline-aware prompt (v2) as the model receives it, through the SDK."""

from generation import pipeline, services
from generation.models import PromptTemplate
from generation.prompts import DEFAULT_PROMPTS, PROMPTS_V2


def test_v2_prompt_carries_guideline_context_and_allows_supportive_drugs(
    db, mistral_settings, fake_mistral
):
    batch = services.batch_launch(count=1, backend="mistral", seed=269, enqueue=False)
    assert batch.prompt.label == "compte-rendu-fr-v2" and batch.prompt.passes == "two_pass"
    item = batch.items.get()
    assert pipeline.batch_item_process(item_id=item.pk, claim_token="t") == "done"
    writer = fake_mistral.requests[0].body
    system, user = (m["content"] for m in writer["messages"])
    assert "response_format" not in writer or writer["response_format"] is None
    assert "Les traitements de support (antiémétiques, antalgiques, G-CSF" in system
    assert "n'ajoute aucun traitement qui n'y figure pas" not in system
    # Seed 269, item 0 (frame 3): a 76-year-old man, stage IIC melanoma, surgical stay before
    # adjuvant pembrolizumab (knowledge base oncology-fr@2).
    assert (
        "Recommandation qui justifie le plan (référentiel oncology-fr@2) :\n"
        "Plan retenu en RCP : chirurgie à visée curative (reprise d'exérèse + biopsie du "
        "ganglion sentinelle); immunothérapie adjuvante (pembrolizumab adjuvant 1 an)\n"
        "Référence : Luke JJ, et al. KEYNOTE-716, Lancet 2022;"
    ) in user
    assert (
        "- Stage IIB-IIC melanoma: adjuvant anti-PD-1 for one year. "
        "[melanoma-iib-iic-needs-adjuvant-pd1 ; Luke JJ, et al. KEYNOTE-716" in user
    )
    assert (
        "Chronologie de la maladie : diagnostic le 18/07/2024 ; chirurgie le 13/08/2024 ; "
        "séjour du 12/08/2024 au 14/08/2024 ; ordre du plan : 1. chirurgie à visée curative "
        "(reprise d'exérèse + biopsie du ganglion sentinelle) (en cours (ce séjour), début "
        "12/08/2024), 2. immunothérapie adjuvante (pembrolizumab adjuvant 1 an) (à venir)"
    ) in user
    assert "Place de ce séjour dans le parcours : séjour chirurgical du parcours" in user
    assert "- inhibiteurs de points de contrôle : toxicités immuno-médiées" in user
    # The comorbidities' treatments come from the knowledge base (with doses).
    assert "- hypertension artérielle : ramipril 5 mg le matin" in user
    assert "décret n° 2016-995 : motif d'hospitalisation ; antécédents pertinents" in user
    assert "traitement de sortie avec posologies et durées" in user
    # Pass 2 lists the extended schema.
    extraction = fake_mistral.requests[1].prompt_text
    for field in ("grade", "weight", "lab", "toxicity", "disease_status", "alcohol"):
        assert field in extraction
    assert "toxicity, disease_status, discharge_treatment)" in extraction
    assert "discharge_date, diagnosis_date, hospital" in extraction


def test_english_v2_and_old_versions_stay_selectable(db):
    v1 = PromptTemplate.objects.get(name=DEFAULT_PROMPTS["en"]["name"], version=1)
    v2 = PromptTemplate.objects.get(name=DEFAULT_PROMPTS["en"]["name"], version=2)
    assert (v1.passes, v1.system_template) == ("single", DEFAULT_PROMPTS["en"]["system"])
    assert (v2.passes, v2.user_template) == ("two_pass", PROMPTS_V2["en"]["user"])
    assert v2.output_schema_version == 2 and "$narrative" in v2.extraction_template
    batch = services.batch_launch(
        count=1, seed=1, language="en", prompt="discharge-report-en-v1", enqueue=False
    )
    assert batch.prompt == v1
