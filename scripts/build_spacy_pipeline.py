"""Builds the project's spaCy pipeline, which Rasa's SpacyNLP loads from models/.

    python -m scripts.build_spacy_pipeline models/spacy_pipeline

English tokenizer, lookup lemmatizer (tables from spacy-lookups-data, saved with
the pipeline so they are not needed at run time) and an entity ruler generated
from the knowledge base metadata. No pretrained model, nothing downloaded.
"""

import sys
from pathlib import Path

import spacy
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex

from actions import knowledge_base
from components.procedure_patterns import procedure_patterns


def patient_tokenizer(nlp: spacy.language.Language) -> None:
    """Patients glue punctuation to names: "Nucleoplasty- risks?", "-racz", "racz?how long"."""
    defaults = nlp.Defaults
    nlp.tokenizer.prefix_search = compile_prefix_regex([*defaults.prefixes, r"-+"]).search
    nlp.tokenizer.suffix_search = compile_suffix_regex([*defaults.suffixes, r"-+"]).search
    nlp.tokenizer.infix_finditer = compile_infix_regex(
        [*defaults.infixes, r"(?<=[a-zA-Z])[?!,;:/+](?=[a-zA-Z])"]).finditer


def build(kb: knowledge_base.KnowledgeBase) -> spacy.language.Language:
    nlp = spacy.blank("en")
    patient_tokenizer(nlp)
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
