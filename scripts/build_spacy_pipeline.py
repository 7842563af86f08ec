"""Builds the project's spaCy pipeline, which Rasa's SpacyNLP loads from models/.

    python -m scripts.build_spacy_pipeline models/spacy_pipeline

English tokenizer, lookup lemmatizer (tables from spacy-lookups-data, saved with
the pipeline so they are not needed at run time) and an entity ruler generated
from the knowledge base metadata. No pretrained model, nothing downloaded.
"""

import sys
from pathlib import Path

import spacy

from actions import knowledge_base
from components.procedure_patterns import procedure_patterns


def build(kb: knowledge_base.KnowledgeBase) -> spacy.language.Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = nlp.add_pipe("entity_ruler", config={"overwrite_ents": True})
    nlp.initialize()  # loads the lemma lookup tables
    ruler.add_patterns(procedure_patterns(nlp, kb))
    nlp.meta["name"] = "spine_procedures"
    nlp.meta["description"] = "Tokenizer, lemmas and procedure names for the assistant"
    return nlp


def main(output: str) -> None:
    try:
        kb = knowledge_base.default()
    except knowledge_base.KnowledgeBaseError as error:
        sys.exit(f"Knowledge base error: {error}")
    nlp = build(kb)
    nlp.to_disk(Path(output))
    print(f"spaCy pipeline with {len(nlp.get_pipe('entity_ruler'))} procedure patterns "
          f"for {len(kb.procedures)} procedures saved to {output}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "models/spacy_pipeline")
